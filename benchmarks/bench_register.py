"""Register-scale person models: needsmodel's collapsed fit vs pandas + statsmodels formulas.

A synthetic register of 2,000,000 pupils (the sample municipality's model,
eight categorical indicators, about 25 parameters) is written to Parquet. Each
path runs in its own process so its wall time and peak memory (max RSS) are its
own:

* plain: ``pd.read_parquet`` of the file and ``statsmodels.formula.api.logit``
  with ``C()`` terms on all rows, then the predicted referrals summed per
  district;
* needsmodel: ``nm.fit(spec, path)``: DuckDB reads the file out of core to
  the cells and the districts, Newton steps fit the cells, and the exact
  person-level covariance, need per district, predictive ratios and grouped
  cross-validation follow (two more passes: sums per fold and cell, and the
  need per district).

* duckreg (``make bench`` installs it in .venv-bench, beside DuckDB 1.x): its
  ``DuckLogisticRegression(method="irls")`` on a DuckDB view with one 0/1
  column per category (the same reference levels), IRLS on the compressed
  cells and the inverse information as covariance; coefficients and standard
  errors only, no need per district;
* glum (where installed): ``GeneralizedLinearRegressor(family="binomial",
  alpha=0)`` on the persons read into pandas, need per district from its
  predictions;
* floor: DuckDB alone, the ``GROUP BY`` of the persons to unit × cell
  fetched as arrays: the least work that yields sums per unit and cell.

The need per district is compared with the plain path, the coefficients with
duckreg's; then needsmodel alone is run on 6,000,000 pupils. The fast paths
(needsmodel, duckreg, the floor) run in turn three times (``--rounds``) and
the round with the median time is shown. Prints timings,
peak memories and the ratios; exit code 1 if needsmodel is not at least 10x
faster than the plain path with at most a quarter of its memory.

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
from importlib.util import find_spec
from pathlib import Path

from _machine import busy_core, describe

#: duckreg 0.4 needs Ibis' DuckDB backend, which does not run on DuckDB 2; ``make bench``
#: therefore installs it with DuckDB 1.x in a separate environment, .venv-bench.
PEER_VENV = Path(__file__).resolve().parent.parent / ".venv-bench" / "bin" / "python"


def peer_python(given: str | None) -> str | None:
    """Interpreter that has duckreg: ``--peer-python``, .venv-bench, or this one."""
    if given:
        return given
    if PEER_VENV.exists():
        return str(PEER_VENV)
    return sys.executable if find_spec("duckreg") is not None else None


FORMULA = (
    "special_ed ~ C(parents_education) + parents_outside_labour_market + single_parent"
    " + C(background) + C(income_quartile) + C(grade) + C(sex) + C(siblings)"
)

PLAIN = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    import pandas as pd
    import statsmodels.formula.api as smf
    df = pd.read_parquet(sys.argv[1])
    res = smf.logit(FORMULA, df).fit(disp=0)
    need = res.predict(df).groupby(df["district"]).sum()
    elapsed = time.perf_counter() - t0
    peak = PEAK
    print(json.dumps({"seconds": elapsed, "peak_mb": peak,
                      "need": need.sort_index().tolist()}))
    """
).replace("FORMULA", repr(FORMULA))

TOOLKIT = textwrap.dedent(
    """
    import json, sys, time
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
    peak = PEAK
    print(json.dumps({"seconds": elapsed, "peak_mb": peak,
                      "need": res.need.sort_index().tolist(), "params": len(res.params),
                      "coef": res.params.tolist(), "bse": res.bse.tolist(),
                      "cells": res.fit_stats["cells"]}))
    """
)


CATEGORIES = {
    "parents_education": ["long_higher", "short_medium_higher", "vocational"],
    "parents_outside_labour_market": None,
    "single_parent": None,
    "background": ["descendant", "immigrant"],
    "income_quartile": [2, 3, 4],
    "grade": list(range(1, 10)),
    "sex": ["girl"],
    "siblings": [1, 2, 3, 4],
}


def dummies() -> tuple[list[str], list[str]]:
    """SQL expressions and names of the 24 non-intercept columns (first level = reference)."""
    exprs, names = [], []
    for col, levels in CATEGORIES.items():
        if levels is None:
            exprs.append(f"{col}::DOUBLE AS {col}")
            names.append(col)
            continue
        for i, level in enumerate(levels):
            lit = f"'{level}'" if isinstance(level, str) else str(level)
            exprs.append(f"({col} = {lit})::DOUBLE AS {col}_{i}")
            names.append(f"{col}_{i}")
    return exprs, names


PEER = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    t0 = time.perf_counter()
    import duckdb
    from duckreg import DuckLogisticRegression
    con = duckdb.connect(sys.argv[2])
    con.execute("CREATE VIEW pupils AS SELECT special_ed, EXPRS FROM read_parquet('"
                + sys.argv[1] + "')")
    con.close()
    m = DuckLogisticRegression(db_name=sys.argv[2], table_name="pupils",
                               formula="special_ed ~ NAMES", seed=1, method="irls",
                               n_bootstraps=0)
    m.fit()
    m.fit_vcov()
    elapsed = time.perf_counter() - t0
    peak = PEAK
    print(json.dumps({"seconds": elapsed, "peak_mb": peak,
                      "params": np.asarray(m.point_estimate).tolist(),
                      "bse": np.sqrt(np.diag(m.vcov)).tolist()}))
    """
)

GLUM = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    import pandas as pd
    from glum import GeneralizedLinearRegressor
    cols = ["parents_education", "parents_outside_labour_market", "single_parent",
            "background", "income_quartile", "grade", "sex", "siblings"]
    df = pd.read_parquet(sys.argv[1], columns=["special_ed", "district", *cols])
    for c in ("parents_education", "background", "income_quartile", "grade", "sex", "siblings"):
        df[c] = df[c].astype("category")
    m = GeneralizedLinearRegressor(family="binomial", alpha=0, drop_first=True)
    m.fit(df[cols], df["special_ed"])
    need = pd.Series(m.predict(df[cols]), index=df.index).groupby(df["district"]).sum()
    elapsed = time.perf_counter() - t0
    peak = PEAK
    print(json.dumps({"seconds": elapsed, "peak_mb": peak, "need": need.sort_index().tolist()}))
    """
)

FLOOR = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    import duckdb
    cols = ("district, parents_education, parents_outside_labour_market, single_parent, "
            "background, income_quartile, grade, sex, siblings")
    arrays = duckdb.sql(
        f"SELECT {cols}, COUNT(*) AS n, SUM(special_ed) AS s "
        f"FROM read_parquet('{sys.argv[1]}') GROUP BY ALL"
    ).fetchnumpy()
    elapsed = time.perf_counter() - t0
    peak = PEAK
    print(json.dumps({"seconds": elapsed, "peak_mb": peak, "rows": len(arrays["n"])}))
    """
)


#: Peak resident memory of this process in MB. VmHWM belongs to the process image, so
#: unlike getrusage's ru_maxrss it does not inherit the parent's peak across fork + exec.
PEAK_MB = (
    "[int(line.split()[1]) for line in open('/proc/self/status') "
    "if line.startswith('VmHWM')][0] / 1024"
)
PLAIN, TOOLKIT, PEER, GLUM, FLOOR = (
    code.replace("PEAK", PEAK_MB) for code in (PLAIN, TOOLKIT, PEER, GLUM, FLOOR)
)


def peer_code() -> str:
    exprs, names = dummies()
    return PEER.replace("EXPRS", ", ".join(exprs)).replace("NAMES", " + ".join(names))


def run(code: str, path: Path, *extra: str, python: str = sys.executable) -> dict:
    out = subprocess.run(
        [python, "-c", code, str(path), *extra],
        capture_output=True,
        text=True,
        check=False,
    )

    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_round(results: list[dict]) -> dict:
    """The round with the median wall time (its own peak memory and outputs)."""
    return sorted(results, key=lambda r: r["seconds"])[len(results) // 2]


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
    ap.add_argument("--peer-python", help="Python interpreter with duckreg installed")
    ap.add_argument(
        "--rounds", type=int, default=3, help="rounds of the fast paths (medians are shown)"
    )
    ap.add_argument("--busy", action="store_true", help="keep one core busy while timing")
    args = ap.parse_args()
    print(describe())
    with tempfile.TemporaryDirectory() as tmp, busy_core(args.busy):
        path = Path(tmp) / "pupils.parquet"
        make(path, args.persons)
        peer_py = peer_python(args.peer_python)
        # the fast paths in turn, --rounds times, so that a change of load hits each alike;
        # each reports the round with its median time
        rounds: dict[str, list[dict]] = {"tool": [], "floor": [], "peer": []}
        for r in range(args.rounds):
            rounds["tool"].append(run(TOOLKIT, path))
            rounds["floor"].append(run(FLOOR, path))
            if peer_py:
                db = str(Path(tmp) / f"peer{r}.duckdb")
                rounds["peer"].append(run(peer_code(), path, db, python=peer_py))
        tool, floor = median_round(rounds["tool"]), median_round(rounds["floor"])
        peer = median_round(rounds["peer"]) if peer_py else None
        glum = run(GLUM, path, python=peer_py) if peer_py else None
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
            f"  pandas + statsmodels formula: {plain['seconds']:7.2f} s"
            f"   peak {plain['peak_mb']:7.0f} MB"
        )
        if peer is not None:
            print(
                f"  duckreg (IRLS on cells):      {peer['seconds']:7.2f} s"
                f"   peak {peer['peak_mb']:7.0f} MB"
            )
        print(
            f"  DuckDB GROUP BY floor:        {floor['seconds']:7.2f} s"
            f"   peak {floor['peak_mb']:7.0f} MB   ({floor['rows']:,} unit x cell rows)"
        )
        print(
            f"  needsmodel (DuckDB cells):    {tool['seconds']:7.2f} s"
            f"   peak {tool['peak_mb']:7.0f} MB"
        )
        print(f"  speed-up {speed:.1f}x; memory {memory:.2f} of the plain path's")
        print(f"  needsmodel / GROUP BY floor: time {tool['seconds'] / floor['seconds']:.2f}x")
        if peer is not None:
            coef = float(np.max(np.abs(np.asarray(tool["coef"]) - np.asarray(peer["params"]))))
            bse = float(np.max(np.abs(np.asarray(tool["bse"]) / np.asarray(peer["bse"]) - 1)))
            print(
                f"  needsmodel / duckreg: time {tool['seconds'] / peer['seconds']:.2f}x, "
                f"memory {tool['peak_mb'] / peer['peak_mb']:.2f}x; largest coefficient "
                f"difference {coef:.1e}, standard errors {bse:.1e} relative"
            )
        else:
            print("  duckreg not installed (make bench creates .venv-bench with it): peer skipped")
        if glum is not None:
            gdiff = float(np.max(np.abs(np.asarray(tool["need"]) / np.asarray(glum["need"]) - 1)))
            print(
                f"  glum (unpenalised logit on persons): {glum['seconds']:.1f} s, peak "
                f"{glum['peak_mb']:.0f} MB; needsmodel is {glum['seconds'] / tool['seconds']:.1f}x "
                f"faster with {tool['peak_mb'] / glum['peak_mb']:.2f} of its memory; need per "
                f"district {gdiff:.0e} relative"
            )
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
