"""National scale in units: ``needsmodel run`` end to end at 100 to 20,000 units.

Synthetic schools (pupils, two indicators, a cost and a current budget) are
written once per size; each size is run by the command line in a fresh
process: a WLS fit with leave-one-out or 10-fold cross-validation, floors,
caps and a three-year phase-in, and every output (keys, workbook, report,
figures). Prints the machine's load and BLAS thread settings, the wall time
and peak memory per size, and the growth from the smallest size above 1,000
to the largest against n log n.

The plain alternative is the time per unit: a run whose figures and tables
grow with the units (one bar and one table row per unit) did not finish
10,000 units in 300 s; the exit code is 1 if the largest size takes longer
than ``--limit`` seconds (default 60) or grows faster than 2x n log n.

Run: ``python benchmarks/bench_units.py [--sizes 100 1000 10000 20000] [--busy]``
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _machine import busy_core, describe

NEEDSMODEL = Path(sys.executable).with_name("needsmodel")


def _write(folder: Path, n: int) -> Path:
    rng = np.random.default_rng(n)
    df = pd.DataFrame(
        {
            "school": [f"S{i:05d}" for i in range(n)],
            "name": [f"Skole {i}" for i in range(n)],
            "pupils": rng.integers(50, 900, n),
            "a": rng.uniform(0, 0.5, n),
            "b": rng.uniform(0, 0.4, n),
        }
    )
    rate = 3000 + 20000 * df["a"] + 15000 * df["b"]
    df["cost"] = (df["pupils"] * rate * rng.uniform(0.8, 1.2, n)).round()
    df["budget_current"] = (df["cost"] * rng.uniform(0.85, 1.15, n)).round(-3).clip(lower=1000)
    df.to_csv(folder / f"units_{n}.csv", index=False)
    budget = int(df["cost"].sum() // 1000 * 1000)
    cfg = folder / f"units_{n}.toml"
    cfg.write_text(
        f'[data]\nunits = "units_{n}.csv"\nid = "school"\nlabel = "name"\n'
        '[model]\ntarget = "cost"\nexposure = "pupils"\nindicators = ["a", "b"]\n'
        f'[allocation]\nbudget = {budget}\ncurrent = "budget_current"\nround_to = 1000\n'
        "max_loss_pct = 5\nmax_gain_pct = 10\nphase_in_years = 3\n",
        encoding="utf-8",
    )
    return cfg


def _run(cfg: Path) -> tuple[float, float]:
    """Wall seconds and peak memory (MB) of one run in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    out = subprocess.run(
        [str(NEEDSMODEL), "run", str(cfg), "--out", str(cfg.with_suffix("")), "-q", "--force"],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{cfg.name}: {out.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000, 20000])
    ap.add_argument("--limit", type=float, default=60.0, help="seconds the largest size may take")
    ap.add_argument("--busy", action="store_true", help="keep one core busy while timing")
    args = ap.parse_args()
    print(describe())
    times: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp, busy_core(args.busy):
        for n in args.sizes:
            cfg = _write(Path(tmp), n)
            seconds, peak = _run(cfg)
            times[n] = seconds
            print(f"{n:>7,} units: {seconds:6.2f} s   peak {peak:,.0f} MB (largest child so far)")
    sizes = sorted(times)
    base = next((n for n in sizes if n >= 1000), sizes[0])
    top = sizes[-1]
    ok = times[top] <= args.limit
    if top > base:
        nlogn = (top * math.log(top)) / (base * math.log(base))
        growth = times[top] / times[base]
        print(f"growth {base:,} -> {top:,} units: {growth:.1f}x time, n log n {nlogn:.1f}x")
        ok = ok and growth <= 2 * nlogn
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
