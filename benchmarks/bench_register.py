"""Register-scale person models: needsmodel's collapsed fit vs pandas + statsmodels formulas.

A synthetic register of 2,000,000 pupils (the sample municipality's model,
eight categorical indicators, about 25 parameters) is written to Parquet. Each
path runs in its own process so its wall time and peak memory (max RSS) are its
own:

* plain: ``pd.read_parquet`` of the file and ``statsmodels.formula.api.logit``
  with ``C()`` terms on all rows, then the predicted referrals summed per
  district;
* needsmodel: ``nm.fit(spec, path)``: DuckDB collapses the file to cells out of
  core, statsmodels fits the cells, and the exact person-level covariance,
  need per district, predictive ratios and grouped cross-validation follow.

The coefficients are compared, then needsmodel alone is run on 6,000,000
pupils. Prints both timings, both peak memories and the ratios; exit code 1 if
needsmodel is not at least 10x faster with at most a quarter of the memory.

Prints the machine's load and BLAS thread settings; ``--busy`` keeps one core
busy with another process during the timings.

Run: ``python benchmarks/bench_register.py [--persons 2000000] [--large 6000000] [--busy]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from _machine import busy_core, describe

FORMULA = (
    "special_ed ~ C(parents_education) + parents_outside_labour_market + single_parent"
    " + C(background) + C(income_quartile) + C(grade) + C(sex) + C(siblings)"
)

PLAIN = textwrap.dedent(
    """
    import json, resource, sys, time
    t0 = time.perf_counter()
    import pandas as pd
    import statsmodels.formula.api as smf
    df = pd.read_parquet(sys.argv[1])
    res = smf.logit(FORMULA, df).fit(disp=0)
    need = res.predict(df).groupby(df["district"]).sum()
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mb": peak,
                      "need": need.sort_index().tolist()}))
    """
).replace("FORMULA", repr(FORMULA))

TOOLKIT = textwrap.dedent(
    """
    import json, resource, sys, time
    t0 = time.perf_counter()
    import needsmodel as nm
    spec = nm.NeedSpec(
        "special_ed",
        ["parents_education", "parents_outside_labour_market", "single_parent",
         "background", "income_quartile", "grade", "sex", "siblings"],
        method="logit",
        categorical=["income_quartile", "grade", "siblings"],
        unit_key="district",
        cov="nonrobust",
    )
    res = nm.fit(spec, sys.argv[1])
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mb": peak,
                      "need": res.need.sort_index().tolist(), "params": len(res.params),
                      "cells": res.fit_stats["cells"]}))
    """
)


def run(code: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def make(path: Path, persons: int) -> None:
    from needsmodel.datasets.synthetic import write_synthetic

    t0 = time.perf_counter()
    write_synthetic(path, persons, seed=11, show_progress=False)
    print(f"wrote {persons:,} synthetic pupils to {path.name} in {time.perf_counter() - t0:.1f} s")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=2_000_000)
    ap.add_argument(
        "--large", type=int, default=6_000_000, help="persons for the toolkit-only run (0: skip)"
    )
    ap.add_argument("--busy", action="store_true", help="keep one core busy while timing")
    args = ap.parse_args()
    print(describe())
    with tempfile.TemporaryDirectory() as tmp, busy_core(args.busy):
        path = Path(tmp) / "pupils.parquet"
        make(path, args.persons)
        tool = run(TOOLKIT, path)
        plain = run(PLAIN, path)
        import numpy as np

        # same model, so the same expected referrals in every district
        diff = float(np.max(np.abs(np.asarray(tool["need"]) / np.asarray(plain["need"]) - 1)))
        speed = plain["seconds"] / tool["seconds"]
        memory = tool["peak_mb"] / plain["peak_mb"]
        print(
            f"register logit, {args.persons:,} pupils, 8 categorical indicators, "
            f"{tool['params']} parameters, {tool['cells']:,} cells"
        )
        print(
            f"  pandas + statsmodels formula: {plain['seconds']:7.1f} s"
            f"   peak {plain['peak_mb']:7.0f} MB"
        )
        print(
            f"  needsmodel (DuckDB cells):    {tool['seconds']:7.1f} s"
            f"   peak {tool['peak_mb']:7.0f} MB"
        )
        print(f"  speed-up {speed:.1f}x; memory {memory:.2f} of the plain path's")
        print(f"  largest relative difference of the need per district: {diff:.1e}")
        ok = speed >= 10 and memory <= 0.25 and diff < 1e-6
        if args.large:
            big = Path(tmp) / "pupils_large.parquet"
            make(big, args.large)
            large = run(TOOLKIT, big)
            print(
                f"  needsmodel on {args.large:,} pupils: {large['seconds']:.1f} s, "
                f"peak {large['peak_mb']:.0f} MB, "
                f"{large['cells']:,} cells"
            )
    print(f"  after the run: {describe()}")
    print(
        "OK" if ok else "FAILED: needs >= 10x speed and <= 1/4 memory with equal need per district"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
