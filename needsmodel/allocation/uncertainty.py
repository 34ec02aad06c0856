"""How uncertain is every unit's key? Bootstrap and parametric intervals.

The coefficients of a need model are estimates; so are the need, the shares
and the kroner that follow from them. Two ways to carry that uncertainty
through the whole allocation (pools and transition rules included):

- **bootstrap**: resample the estimation rows with replacement (units; for
  person-level models, persons within each unit), refit, recompute. For OLS
  and WLS the refits are done at once: every replicate's cross-products
  ``X'WX`` and ``X'Wy`` are one matrix product of the replicate weights, and
  the normal equations of all replicates are solved in one batched call;
  other methods refit with statsmodels.
- **parametric**: draw coefficients from the normal distribution with the
  estimated covariance (robust if so chosen) and recompute the need through
  the model's mean function.

Each draw of need goes through the same policy as the point allocation (pools,
equalisation, phase-in, floors and caps; not the final rounding), and the
percentile interval of every unit's share and kroner is reported. Units whose
share interval is wider than ``flag_width_pct`` percent of their share are
flagged: their key rests on an uncertain estimate, whatever the transition
rules make of it this year.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

from ..display import DisplayMixin, Summary
from ..errors import EstimationError, InputError
from ..estimate.cv import FoldNotes
from ..estimate.fit import model_arrays
from ..estimate.given import covariance_fault
from ..estimate.methods import method_info
from ..estimate.results import NeedResults
from ..progress import progress_iter
from ..threads import blas_limit
from .keys import Allocation, target_amounts
from .needmap import NeedMap

__all__ = ["UNCERTAINTY_METHODS", "KeyUncertainty", "amount_draws", "key_uncertainty", "need_draws"]

UNCERTAINTY_METHODS = ("bootstrap", "parametric")


@dataclass(frozen=True, eq=False, repr=False)
class KeyUncertainty(DisplayMixin):
    """Intervals for every unit's share and allocation.

    Attributes
    ----------
    method : str
        ``"bootstrap"`` or ``"parametric"``.
    replicates : int
        Draws used (after dropping failed ones).
    failed : int
        Draws dropped because the refit failed (e.g. a rank-deficient resample).
    level : float
        Interval level (e.g. 0.9).
    flag_width_pct : float
        Width above which a unit is flagged (% of its share).
    table : DataFrame
        ``unit, share, share_low, share_high, width_pct`` (width of the share
        interval in % of the share), ``target, target_low, target_high`` (kr
        before transition rules), ``allocation, allocation_low,
        allocation_high`` (kr after them; floors and caps bound these), and
        ``flagged`` (``width_pct > flag_width_pct``).
    share_draws, allocation_draws : ndarray
        Draws × units.
    """

    method: str
    replicates: int
    failed: int
    level: float
    flag_width_pct: float
    table: pd.DataFrame
    share_draws: np.ndarray
    allocation_draws: np.ndarray

    def summary(self) -> Summary:
        """The method, the level and every unit's interval."""
        header = [
            ("Method", self.method),
            ("Draws", f"{self.replicates:,}"
             + (f" ({self.failed:,} failed)" if self.failed else "")),
            ("Level", f"{self.level:.0%}"),
            ("Flagged", f"{int(self.table['flagged'].sum()):,} units wider than "
             f"{self.flag_width_pct:g} % of their share"),
        ]  # fmt: skip
        return Summary("Key uncertainty", header, [("", self.table.set_index("unit"))])

    def _describe(self) -> str:
        return f"{self.method}, {self.replicates:,} draws, {self.level:.0%} intervals"

    @property
    def flagged(self) -> list[str]:
        """Units whose interval is wider than the flag width."""
        return self.table.loc[self.table["flagged"], "unit"].tolist()


def _parametric(
    results: NeedResults, nmap: NeedMap, draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    params = results.params.to_numpy(dtype=float)
    cov = results.cov_params.to_numpy(dtype=float)
    if not np.isfinite(cov).all():
        raise InputError(
            "parametric key intervals draw the coefficients from their covariance, which is "
            "not known here; give std_error in the coefficient file or [model] "
            'coefficients_cov, or set [uncertainty] method = "none"'
        )
    fault = covariance_fault(cov)
    if fault:
        raise InputError(
            f"the coefficients' covariance {fault.split(';')[0]}, so no coefficients can be "
            "drawn from it"
        )
    beta = rng.multivariate_normal(params, cov, size=draws, method="eigh")
    x = results.design.matrix(nmap.rows)
    out = np.empty((draws, len(nmap.units)))
    chunk = max(1, int(2e7 // max(1, x.shape[0])))  # keep rows × chunk below ~160 MB
    for start in range(0, draws, chunk):
        b = beta[start : start + chunk]
        out[start : start + chunk] = nmap.need(results.core.mean_for(x, b)).T
    return out, 0


#: Bootstrap refits solved per block of this many replicates: the block's arrays
#: stay small enough to be reused from the allocator's free lists instead of
#: being mapped afresh (and page-faulted) for every call.
_BLOCK = 256


def _bootstrap_linear(
    results: NeedResults, nmap: NeedMap, draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    """All OLS/WLS bootstrap refits at once from replicate weights."""
    x = results.design.matrix(results.data)
    y, w, _ = model_arrays(results.spec, results.data)
    n, k = x.shape
    ww = np.ones(n) if w is None else w
    counts = resample_counts(rng, n, draws)
    iu = np.triu_indices(k)  # X'WX is symmetric: accumulate the upper triangle only
    cross = x[:, iu[0]] * x[:, iu[1]]
    xy = x * y[:, None]
    xr = results.design.matrix(nmap.rows)
    need = np.empty((draws, len(nmap.units)))
    ok = np.ones(draws, dtype=bool)
    for start in range(0, draws, _BLOCK):
        block = slice(start, min(start + _BLOCK, draws))
        cw = counts[block] * ww  # replicate weight of every row
        a = np.empty((cw.shape[0], k, k))
        a[:, iu[0], iu[1]] = cw @ cross
        a[:, iu[1], iu[0]] = a[:, iu[0], iu[1]]
        b = cw @ xy
        try:
            beta = np.linalg.solve(a, b[..., None])[..., 0]
        except np.linalg.LinAlgError:  # a resample without variation in some indicator
            fine = np.linalg.matrix_rank(a) == k
            ok[block] = fine
            beta = np.full((cw.shape[0], k), np.nan)
            beta[fine] = np.linalg.solve(a[fine], b[fine][..., None])[..., 0]
        need[block] = nmap.need(xr @ beta.T).T
    if not ok.any():
        raise EstimationError(
            "every bootstrap resample left an indicator without variation; "
            "use the parametric method"
        )
    return need[ok], int((~ok).sum())


def resample_counts(rng: np.random.Generator, n: int, draws: int) -> np.ndarray:
    """How often each of ``n`` rows is drawn in each of ``draws`` resamples (draws × n).

    Equivalent to ``rng.integers(0, n, size=n)`` per resample, counted.
    """
    idx = rng.integers(0, n, size=(draws, n)) + (np.arange(draws) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=draws * n).reshape(draws, n)


def _resample_rows(results: NeedResults, rng: np.random.Generator) -> np.ndarray:
    n = len(results.data)
    if not results.spec.is_person_level:
        return rng.integers(0, n, size=n)
    # persons within units: each unit keeps its number of persons
    codes = pd.factorize(results.data[str(results.spec.unit_key)])[0]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(codes.max() + 2))
    parts = [
        order[lo + rng.integers(0, hi - lo, size=hi - lo)] for lo, hi in pairwise(bounds) if hi > lo
    ]
    return np.concatenate(parts)


def _bootstrap_refits(
    results: NeedResults, nmap: NeedMap, draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    out = []
    failed = 0
    for _ in progress_iter(range(draws), desc="bootstrap", unit=" refits"):
        rows = _resample_rows(results, rng)
        try:
            core = results.refit(rows, FoldNotes())
        except (EstimationError, InputError, np.linalg.LinAlgError):
            failed += 1
            continue
        out.append(nmap.need(core.predict(nmap.rows)))
    if not out:
        raise EstimationError("every bootstrap refit failed; use the parametric method")
    return np.vstack(out), failed


def need_draws(
    results: NeedResults,
    *,
    method: str = "bootstrap",
    replicates: int = 2000,
    seed: int = 20240601,
    year: str | None = None,
) -> tuple[np.ndarray, NeedMap, int]:
    """Draws of need per unit (draws × units), the need map and the failed count."""
    if method not in UNCERTAINTY_METHODS:
        raise InputError(
            f"method must be one of {', '.join(map(repr, UNCERTAINTY_METHODS))}; got {method!r}"
        )
    if method == "bootstrap" and results.extras.get("collapsed"):
        raise InputError(
            "the bootstrap resamples persons, and a collapsed fit keeps only cell sums; "
            "use method = 'parametric' (the coefficients' covariance is exact)"
        )
    nmap = NeedMap.from_results(results, year=year)
    rng = np.random.default_rng(seed)
    rows = len(results.data) if results.data is not None else len(results.need)
    with blas_limit(rows, len(results.params)):
        if method == "parametric":
            draws, failed = _parametric(results, nmap, replicates, rng)
        elif method_info(results.method).is_linear and not results.spec.is_person_level:
            draws, failed = _bootstrap_linear(results, nmap, replicates, rng)
        else:
            draws, failed = _bootstrap_refits(results, nmap, replicates, rng)
    return draws, nmap, failed


def amount_draws(
    need: np.ndarray, allocation: Allocation
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shares, targets and final kroner (unrounded) of every need draw under the policy."""
    policy = allocation.policy
    t = allocation.table
    expo_values = t["exposure"].to_numpy(dtype=float)
    expo = None if np.isnan(expo_values).all() else expo_values
    total = need.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = need / total
    base, per_capita, needs, _ = target_amounts(t["need"].to_numpy(dtype=float), expo, policy)
    needs_pool = float(needs.sum())
    targets = (base + per_capita) + needs_pool * shares
    if not policy.has_transition:
        return shares, targets, targets
    current = t["current"].to_numpy(dtype=float)
    amounts = np.empty_like(targets)
    rows = progress_iter(enumerate(targets), total=len(targets), desc="transition", unit=" draws")
    for i, target in rows:
        amounts[i] = policy.first_year(np.maximum(target, 0.0), current)
    return shares, targets, amounts


def key_uncertainty(
    results: NeedResults,
    allocation: Allocation,
    *,
    method: str = "bootstrap",
    replicates: int = 2000,
    level: float = 0.90,
    flag_width_pct: float = 10.0,
    seed: int = 20240601,
    year: str | None = None,
) -> KeyUncertainty:
    """Intervals for every unit's share and kroner.

    Parameters
    ----------
    results : NeedResults
        The fitted need model behind ``allocation``.
    allocation : Allocation
        The point allocation (its policy is applied to every draw).
    method : {"bootstrap", "parametric"}
        How to draw.
    replicates : int
        Number of draws.
    level : float
        Interval level.
    flag_width_pct : float
        Flag units whose share interval is wider than this percentage of their
        share.
    seed : int
        Random seed; the same seed gives the same intervals.
    year : str, optional
        Allocation year of a pooled several-year model.

    Returns
    -------
    KeyUncertainty

    Examples
    --------
    >>> import needsmodel as nm
    >>> result = nm.run(nm.datasets.sample_config_path())
    >>> ku = key_uncertainty(result.results, result.allocation, replicates=200)
    >>> bool((ku.table["allocation_low"] <= ku.table["allocation_high"]).all())
    True
    """
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1; got {level!r}")
    draws, nmap, failed = need_draws(
        results, method=method, replicates=replicates, seed=seed, year=year
    )
    units = allocation.table["unit"].astype(str)
    order = pd.Index(nmap.units.astype(str)).get_indexer(units)
    if np.any(order < 0):
        raise InputError("the allocation's units are not those of the need model")
    if not np.array_equal(order, np.arange(order.size)):
        draws = draws[:, order]
    shares, targets, amounts = amount_draws(draws, allocation)
    q = [(1 - level) / 2, (1 + level) / 2]
    s_lo, s_hi = np.quantile(shares, q, axis=0)
    # a target is base + per-capita + needs pool × share: increasing in the share,
    # so its quantiles are those of the share mapped through the same line
    t = allocation.table
    pools = dict(zip(allocation.pools["pool"], allocation.pools["amount"], strict=True))
    pool = float(pools["needs"])
    fixed = t["target"].to_numpy(dtype=float) - pool * t["share"].to_numpy(dtype=float)
    t_lo = fixed + pool * s_lo
    t_hi = fixed + pool * s_hi
    a_lo, a_hi = (t_lo, t_hi) if amounts is targets else np.quantile(amounts, q, axis=0)
    share = allocation.table["share"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        width_pct = np.where(share > 0, 100.0 * (s_hi - s_lo) / share, np.inf)
    table = pd.DataFrame(
        {
            "unit": units.to_numpy(),
            "share": share,
            "share_low": s_lo,
            "share_high": s_hi,
            "width_pct": width_pct,
            "target": allocation.table["target"].to_numpy(dtype=float),
            "target_low": t_lo,
            "target_high": t_hi,
            "allocation": allocation.table["allocation"].to_numpy(dtype=float),
            "allocation_low": a_lo,
            "allocation_high": a_hi,
            "flagged": width_pct > flag_width_pct,
        }
    )
    return KeyUncertainty(
        method=method,
        replicates=int(draws.shape[0]),
        failed=failed,
        level=level,
        flag_width_pct=flag_width_pct,
        table=table,
        share_draws=shares,
        allocation_draws=amounts,
    )
