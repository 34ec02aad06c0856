"""Register logit from 1 to 20 million persons: time and peak memory per size, fresh processes.

Synthetic registers from the sample generator's model (one school district per
10,000 pupils, so the unit × cell table grows with the persons: 0.6 million
rows at 2 million pupils, 6.3 million at 20 million) are written to Parquet, and
``nm.fit`` runs the collapsed logit of ``bench_register.py`` on each in its own
process. Peak memory is the process's own high-water mark (``VmHWM``).

No unit × cell table is held: the fit's passes over the persons keep only
their results per cell, per unit and per fold and cell, and DuckDB spills to a
temporary folder beyond its memory limit (96 MB by default), so the peak should
not grow with the persons. Exit code 1 if the peak at the largest size is more than
1.2 times the peak at 2 million persons.

Run: ``python benchmarks/bench_scaling.py [--sizes 1000000 2000000 6000000 20000000] [--busy]``
(writing 20 million pupils takes about a minute and 150 MB of disk).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import busy_core, describe
from bench_register import TOOLKIT, make

CODE = TOOLKIT  # already carries the peak-memory probe


def fit(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CODE, str(path)], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=[1_000_000, 2_000_000, 6_000_000, 20_000_000]
    )
    ap.add_argument("--busy", action="store_true", help="keep one core busy while timing")
    args = ap.parse_args()
    print(describe())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"pupils_{n}.parquet"
            make(path, n)
            with busy_core(args.busy):
                t0 = time.perf_counter()
                got = fit(path)
                wall = time.perf_counter() - t0
            rows.append((n, got, wall))
            path.unlink()
    print(f"{'persons':>12} {'units':>7} {'cells':>8} {'fit s':>7} {'peak MB':>8}")
    for n, got, _ in rows:
        print(
            f"{n:>12,} {len(got['need']):>7,} {got['cells']:>8,} {got['seconds']:>7.2f} "
            f"{got['peak_mb']:>8,.0f}"
        )
    base = next((g for n, g, _ in rows if n == 2_000_000), rows[0][1])
    largest = rows[-1][1]
    ratio = largest["peak_mb"] / base["peak_mb"]
    print(f"peak memory at {rows[-1][0]:,} persons / at 2,000,000: {ratio:.2f} (limit 1.20)")
    print(describe())
    ok = ratio <= 1.2
    print("OK" if ok else "FAILED: peak memory grows with the persons")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
