"""Bootstrap intervals of allocation keys: needsmodel's batched refits vs a statsmodels loop.

100 units, 10 indicators, 2,000 replicates. Both resample units with
replacement, refit the per-capita WLS need model, recompute every unit's share
and kroner of the budget, and take 90 % percentile intervals. Prints both
timings, the ratio and how far apart the intervals are (they use different
random draws, so they agree within Monte-Carlo error, not exactly).

Each path runs seven times in its own fresh process (the best time counts, as
``timeit`` does: on a shared machine the fastest run is the one least
disturbed); the script prints the machine's load and BLAS thread settings.
``--busy`` keeps one core busy with another process during the timings, the
situation of a shared 2-core machine.

Run: ``python benchmarks/bench_bootstrap.py [--busy]`` (exit code 1 if the
toolkit is less than 20x faster or the intervals disagree).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import statsmodels.api as sm
from _machine import busy_core, describe

import needsmodel as nm

N_UNITS, N_IND, REPLICATES, BUDGET, LEVEL = 100, 10, 2000, 500_000_000, 0.90
REPEATS = 7


def synthetic_units(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shares = rng.beta(2, 8, size=(N_UNITS, N_IND))
    pupils = rng.integers(150, 900, size=N_UNITS).astype(float)
    beta = rng.uniform(2_000, 20_000, size=N_IND)
    per_pupil = 4_000 + shares @ beta + rng.normal(0, 3_000, N_UNITS) / np.sqrt(pupils / 400)
    df = pd.DataFrame(shares, columns=[f"x{i}" for i in range(N_IND)])
    df.insert(0, "unit", [f"U{i:03d}" for i in range(N_UNITS)])
    df["pupils"] = pupils
    df["cost"] = per_pupil * pupils
    return df


def plain_loop(units: pd.DataFrame, indicators: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """What a user would write: refit statsmodels WLS on every resample."""
    rng = np.random.default_rng(2)
    y = (units["cost"] / units["pupils"]).to_numpy()
    x = sm.add_constant(units[indicators]).to_numpy()
    w = units["pupils"].to_numpy()
    n = len(units)
    shares = np.empty((REPLICATES, n))
    for b in range(REPLICATES):
        idx = rng.integers(0, n, size=n)
        fit = sm.WLS(y[idx], x[idx], weights=w[idx]).fit()
        need = fit.predict(x) * w
        shares[b] = need / need.sum()
    q = [(1 - LEVEL) / 2, (1 + LEVEL) / 2]
    return np.quantile(shares, q, axis=0), np.quantile(shares * BUDGET, q, axis=0)


def best_of(repeats: int, func):  # type: ignore[no-untyped-def]
    """Fastest of ``repeats`` runs (seconds) and the last result, as timeit does."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


def side(name: str) -> dict:
    """Time one path (best of ``REPEATS``) in this process; its intervals as lists."""
    units = synthetic_units()
    indicators = [f"x{i}" for i in range(N_IND)]
    if name == "plain":
        t, ((lo, hi), _) = best_of(REPEATS, lambda: plain_loop(units, indicators))
        return {"seconds": t, "low": lo.tolist(), "high": hi.tolist()}
    spec = nm.NeedSpec("cost", indicators, exposure="pupils")
    res = nm.fit(spec, units, id="unit")
    alloc = nm.allocate(res.need, BUDGET, exposure=res.exposure)

    def tool() -> nm.KeyUncertainty:
        return nm.key_uncertainty(
            res, alloc, method="bootstrap", replicates=REPLICATES, level=LEVEL, seed=3
        )

    t, ku = best_of(REPEATS, tool)
    return {
        "seconds": t,
        "low": ku.table["share_low"].tolist(),
        "high": ku.table["share_high"].tolist(),
    }


def fresh(name: str) -> dict:
    """Run :func:`side` in a fresh Python process."""
    out = subprocess.run(
        [sys.executable, __file__, "--side", name], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", choices=["tool", "plain"], help=argparse.SUPPRESS)
    ap.add_argument("--busy", action="store_true", help="keep one core busy while timing")
    args = ap.parse_args()
    if args.side:
        print(json.dumps(side(args.side)))
        return 0
    print(describe())
    with busy_core(args.busy):
        tool = fresh("tool")
        plain = fresh("plain")
    s_lo, s_hi = np.asarray(plain["low"]), np.asarray(plain["high"])
    t_lo, t_hi = np.asarray(tool["low"]), np.asarray(tool["high"])
    width = s_hi - s_lo
    gap = np.maximum(np.abs(t_lo - s_lo), np.abs(t_hi - s_hi))
    rel_gap = float(np.median(gap / width))
    rel_width = float(np.median((t_hi - t_lo) / width))
    t_tool, t_plain = tool["seconds"], plain["seconds"]
    ratio = t_plain / t_tool
    print(f"bootstrap of allocation keys: {N_UNITS} units x {N_IND} indicators, ", end="")
    print(f"{REPLICATES} replicates")
    print(f"  needsmodel (batched normal equations): {t_tool * 1000:8.1f} ms (best of {REPEATS})")
    print(f"  statsmodels WLS loop:                  {t_plain * 1000:8.1f} ms (best of {REPEATS})")
    print(f"  speed-up:                              {ratio:8.1f} x")
    print(f"  interval width, needsmodel / loop (median over units): {rel_width:.3f}")
    print(f"  largest bound difference / width (median over units):  {rel_gap:.3f}")
    print(f"  after the run: {describe()}")
    ok = ratio >= 20 and 0.9 < rel_width < 1.1 and rel_gap < 0.15
    print("OK" if ok else "FAILED: needs >= 20x and intervals within Monte-Carlo error")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
