"""Small runs: the command line on the bundled sample against importing statsmodels.

Each command runs in a fresh process, in turn, ``--rounds`` times; the medians
are compared. The reference is ``python -c "import statsmodels.api"``: what any
statsmodels-based tool pays before it computes anything.

* ``needsmodel run`` on the sample municipality, writing every output (keys,
  workbook, report, nine figures) to a temporary folder;
* ``needsmodel validate`` on the same config;
* ``needsmodel --help`` and ``python -c "import needsmodel"``.

Prints the machine's load and BLAS thread settings, the medians and the ratio
of ``run`` to the statsmodels import. The target is 1.5x; the exit code is 1
if the ratio exceeds ``--limit`` (default 2.5, a guard against regressions
above today's 1.9x), or if ``--help`` takes longer than 0.25 s.

Run: ``python benchmarks/bench_small_run.py [--rounds 7] [--busy]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import busy_core, describe

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "data" / "sample" / "school_districts.toml"
NEEDSMODEL = Path(sys.executable).with_name("needsmodel")
TARGET = 1.5


def wall(cmd: list[str]) -> float:
    """Wall time of one command in a fresh process (exits non-zero: RuntimeError)."""
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr[-2000:]}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--limit", type=float, default=2.5, help="largest ratio that passes")
    ap.add_argument("--busy", action="store_true", help="keep one core busy while timing")
    args = ap.parse_args()
    print(describe())
    with tempfile.TemporaryDirectory() as tmp, busy_core(args.busy):
        out = Path(tmp) / "out"
        commands = {
            "python -c 'import statsmodels.api'": [sys.executable, "-c", "import statsmodels.api"],
            "needsmodel run (sample, all outputs)": [
                *(str(NEEDSMODEL), "run", str(CONFIG), "--out", str(out), "--quiet", "--force")
            ],
            "needsmodel validate (sample)": [str(NEEDSMODEL), "validate", str(CONFIG)],
            "needsmodel --help": [str(NEEDSMODEL), "--help"],
            "python -c 'import needsmodel'": [sys.executable, "-c", "import needsmodel"],
        }
        for cmd in commands.values():  # once untimed: bytecode and font caches
            wall(cmd)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):  # in turn, so a change of load hits every command
            for name, cmd in commands.items():
                times[name].append(wall(cmd))
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"medians of {args.rounds} rounds, fresh processes:")
    for name, t in times.items():
        print(f"  {name:40s} {med[name]:6.2f} s   (min {min(t):.2f}, max {max(t):.2f})")
    ref = med["python -c 'import statsmodels.api'"]
    ratio = med["needsmodel run (sample, all outputs)"] / ref
    print(
        f"  run / import statsmodels.api: {ratio:.2f}x "
        f"(target {TARGET}x: {'met' if ratio <= TARGET else 'not met'}; limit {args.limit}x)"
    )
    print(f"  after the run: {describe()}")
    ok = ratio <= args.limit and med["needsmodel --help"] <= 0.25
    need = f"run <= {args.limit}x import statsmodels.api and --help <= 0.25 s"
    print("OK" if ok else f"FAILED: needs {need}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
