"""Register-scale linear models: needsmodel vs duckreg, pyfixest and statsmodels, fresh processes.

The linear probability model of special education on the eight categorical
indicators of ``bench_register.py`` (2,000,000 synthetic pupils, 25
parameters), with two covariances:

* HC1: needsmodel (exact on DuckDB cells), duckreg's ``DuckRegression`` (HC1
  on its compressed cells), pyfixest's ``feols(vcov="HC1")`` and statsmodels'
  formula OLS on the persons (the plain path);
* clustered by district: needsmodel, pyfixest (``CRV1``) and statsmodels
  (duckreg clusters only by bootstrap).

Every path reports the need per district (the sum of its fitted values) and
its standard errors; the script prints time, peak memory (``VmHWM``), the
ratios to needsmodel and the largest differences. The peers run where they are
installed (``make bench`` puts duckreg, pyfixest and glum into ``.venv-bench``).

Exit code 1 if needsmodel is not faster than every peer that ran, or if its
need per district or standard errors differ from a peer's by more than 1e-6
relative.

Run: ``python benchmarks/bench_linear.py [--persons 2000000] [--busy]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from _machine import busy_core, describe
from bench_register import FORMULA, PEAK_MB, dummies, make, peer_python, run

from needsmodel.datasets.synthetic import INDICATORS as SYNTHETIC_INDICATORS

RHS = FORMULA.split("~", 1)[1].strip()
INDICATORS = list(SYNTHETIC_INDICATORS)

TOOLKIT = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    import needsmodel as nm
    cov = sys.argv[2]
    spec = nm.NeedSpec(
        "special_ed", INDICATORS, method="ols",
        categorical=["income_quartile", "grade", "siblings"], unit_key="district",
        cov=cov, cluster="district" if cov == "cluster" else None,
    )
    res = nm.fit(spec, sys.argv[1])
    elapsed = time.perf_counter() - t0
    print(json.dumps({"seconds": elapsed, "peak_mb": PEAK,
                      "need": res.need.sort_index().tolist(), "bse": sorted(res.bse.tolist())}))
    """
).replace("INDICATORS", repr(INDICATORS))

PLAIN = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    import pandas as pd
    import statsmodels.formula.api as smf
    df = pd.read_parquet(sys.argv[1])
    if sys.argv[2] == "cluster":
        kw = {"cov_type": "cluster", "cov_kwds": {"groups": pd.factorize(df["district"])[0]}}
    else:
        kw = {"cov_type": "HC1"}
    res = smf.ols("special_ed ~ RHS", df).fit(**kw)
    need = res.fittedvalues.groupby(df["district"]).sum()
    elapsed = time.perf_counter() - t0
    print(json.dumps({"seconds": elapsed, "peak_mb": PEAK,
                      "need": need.sort_index().tolist(), "bse": sorted(res.bse.tolist())}))
    """
).replace("RHS", RHS)

PYFIXEST = (
    textwrap.dedent(
        """
    import json, sys, time
    t0 = time.perf_counter()
    import pandas as pd
    import pyfixest as pf
    df = pd.read_parquet(sys.argv[1], columns=["special_ed", "district", *INDICATORS])
    vcov = {"CRV1": "district"} if sys.argv[2] == "cluster" else "HC1"
    fit = pf.feols("special_ed ~ RHS", data=df, vcov=vcov)
    need = pd.Series(fit.predict(), index=df.index).groupby(df["district"]).sum()
    elapsed = time.perf_counter() - t0
    print(json.dumps({"seconds": elapsed, "peak_mb": PEAK,
                      "need": need.sort_index().tolist(), "bse": sorted(fit.se().tolist())}))
    """
    )
    .replace("RHS", RHS)
    .replace("INDICATORS", repr(INDICATORS))
)

DUCKREG = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    t0 = time.perf_counter()
    import duckdb
    from duckreg import DuckRegression
    con = duckdb.connect(sys.argv[3])
    # a DOUBLE outcome: DuckDB sums integers as HUGEINT, which pandas holds as objects
    con.execute("CREATE VIEW pupils AS SELECT special_ed::DOUBLE AS special_ed, EXPRS "
                "FROM read_parquet('"
                + sys.argv[1] + "')")
    con.close()
    m = DuckRegression(db_name=sys.argv[3], table_name="pupils",
                       formula="special_ed ~ NAMES", cluster_col="", seed=1, n_bootstraps=0)
    m.fit()
    m.fit_vcov()
    elapsed = time.perf_counter() - t0
    print(json.dumps({"seconds": elapsed, "peak_mb": PEAK,
                      "bse": sorted(np.sqrt(np.diag(m.vcov)).tolist())}))
    """
)

TOOLKIT, PLAIN, PYFIXEST, DUCKREG = (
    code.replace("PEAK", PEAK_MB) for code in (TOOLKIT, PLAIN, PYFIXEST, DUCKREG)
)


def duckreg_code() -> str:
    exprs, names = dummies()
    return DUCKREG.replace("EXPRS", ", ".join(exprs)).replace("NAMES", " + ".join(names))


def _rel(a: list[float], b: list[float]) -> float:
    return float(np.max(np.abs(np.asarray(a) / np.asarray(b) - 1)))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=2_000_000)
    ap.add_argument("--peer-python", help="Python interpreter with the peers installed")
    ap.add_argument("--busy", action="store_true", help="keep one core busy while timing")
    args = ap.parse_args()
    print(describe())
    peer_py = peer_python(args.peer_python)
    ok = True
    with tempfile.TemporaryDirectory() as tmp, busy_core(args.busy):
        path = Path(tmp) / "pupils.parquet"
        make(path, args.persons)
        for cov in ("HC1", "cluster"):
            tool = run(TOOLKIT, path, cov)
            paths = {"statsmodels formula (persons)": run(PLAIN, path, cov)}
            if peer_py:
                paths["pyfixest feols"] = run(PYFIXEST, path, cov, python=peer_py)
                if cov == "HC1":
                    db = str(Path(tmp) / "peer.duckdb")
                    paths["duckreg (cells)"] = run(duckreg_code(), path, cov, db, python=peer_py)
            print(f"linear probability model, {args.persons:,} pupils, covariance {cov}")
            ours = "needsmodel (DuckDB cells)"
            print(f"  {ours:32} {tool['seconds']:6.1f} s {tool['peak_mb']:7.0f} MB")
            for name, got in paths.items():
                t = got["seconds"] / tool["seconds"]
                m = got["peak_mb"] / tool["peak_mb"]
                se = _rel(tool["bse"], got["bse"])
                need = f"{_rel(tool['need'], got['need']):.0e}" if "need" in got else "n/a"
                print(
                    f"  {name:32} {got['seconds']:6.1f} s {got['peak_mb']:7.0f} MB   "
                    f"{t:5.1f}x our time, {m:4.1f}x our memory; standard errors {se:.0e}, "
                    f"need per district {need} relative"
                )
                ok &= t > 1.0 and se < 1e-6 and ("need" not in got or float(need) < 1e-6)
            if not peer_py:
                print("  peers not installed (make bench creates .venv-bench): skipped")
    print(f"  after the run: {describe()}")
    print("OK" if ok else "FAILED: needsmodel must be the fastest with the same results")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
