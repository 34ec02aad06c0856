"""Pace of change: every unit moves toward its target, never past it.

The rule a finance committee signs (the NHS "pace of change", a Danish
*overgangsordning*): start from each unit's current budget scaled to the new
frame (its *frame-adjusted* budget ``s``) and move toward its target ``t``.

- Without floors or caps every unit closes the same fraction ``f`` of its
  distance: ``s + f (t - s)``; this sums to the frame because ``s`` and ``t``
  both do.
- A floor holds a loser above ``s + f (t - s)``; the money it costs is taken by
  slowing the gainers: all gainers that no bound holds close one smaller
  common fraction ``λ_gain ≤ f``.
- A cap holds a gainer below its step; the money it frees slows the losers: all
  losers that no bound holds close one smaller common fraction ``λ_loss ≤ f``.

Both fractions are found exactly: the total is piecewise linear and monotone in
each, so the breakpoints are sorted, the segment holding the frame is found by
bisection and the linear equation on it is solved. Every unit then lies between
its frame-adjusted budget and its target, or on its floor or cap.

That is always possible when every frame-adjusted budget lies within its floor
and cap. When it does not (the frame shrinks by more than a floor allows for a
unit, or a new unit has no current budget but a cap), the rule falls back to one
common scaling factor of every unit's step (:func:`solve_bounded`), which keeps
the budget and the bounds, and the units that this moves away from their target
are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InfeasibleRuleError
from .bounded import solve_bounded

__all__ = ["PaceStep", "pace_step"]


@dataclass(frozen=True)
class PaceStep:
    """One year's move toward the target.

    Attributes
    ----------
    amounts : ndarray
        Unrounded amounts, summing to the frame.
    fraction : float
        The fraction of the distance the year aims at (``f``).
    gain_fraction, loss_fraction : float
        The fractions the free gainers and free losers actually close.
    fallback : bool
        True when the pace rule could not hold (a frame-adjusted budget
        outside its bounds) and one common scaling factor was used instead.
    """

    amounts: np.ndarray
    fraction: float
    gain_fraction: float
    loss_fraction: float
    fallback: bool


def _clip_total(s: np.ndarray, d: np.ndarray, lo: np.ndarray, hi: np.ndarray, lam: float) -> float:
    return float(np.clip(s + lam * d, lo, hi).sum())


def _solve_fraction(
    s: np.ndarray, d: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: float, lam_max: float
) -> float | None:
    """λ in [0, lam_max] with Σ clip(s + λ d, lo, hi) = total (monotone in λ), or None."""
    if s.size == 0:
        return 0.0 if abs(total) <= 1e-9 else None
    g0 = _clip_total(s, d, lo, hi, 0.0)
    g1 = _clip_total(s, d, lo, hi, lam_max)
    tol = 1e-9 * max(1.0, abs(total))
    if not min(g0, g1) - tol <= total <= max(g0, g1) + tol:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        cands = np.concatenate([(lo - s) / d, (hi - s) / d])
    cands = cands[np.isfinite(cands) & (cands > 0.0) & (cands < lam_max)]
    pts = np.unique(np.concatenate([[0.0, lam_max], cands]))
    rising = g1 >= g0
    a, b = 0, pts.size - 1  # total lies between g(pts[a]) and g(pts[b])
    while b - a > 1:
        m = (a + b) // 2
        gm = _clip_total(s, d, lo, hi, float(pts[m]))
        if (gm < total) == rising:
            a = m
        else:
            b = m
    la, lb = float(pts[a]), float(pts[b])
    ga, gb = _clip_total(s, d, lo, hi, la), _clip_total(s, d, lo, hi, lb)
    if gb == ga:
        return la
    lam = la + (total - ga) * (lb - la) / (gb - ga)
    return float(min(max(lam, 0.0), lam_max))


def pace_step(
    target: np.ndarray,
    start: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    total: float,
    fraction: float,
    *,
    loss_rule: str = "max_loss_pct",
    gain_rule: str = "max_gain_pct",
) -> PaceStep:
    """Move every unit ``fraction`` of the way from ``start`` to ``target`` within bounds.

    Parameters
    ----------
    target : ndarray
        Target amounts, summing to ``total``.
    start : ndarray
        Frame-adjusted current amounts, summing to ``total``.
    lo, hi : ndarray
        Floors and caps (``hi`` may be ``inf``).
    total : float
        The frame.
    fraction : float
        The share of the distance the step aims at, in ``(0, 1]``.

    Raises
    ------
    InfeasibleRuleError
        When the floors alone cost more than the frame or the caps cannot hold
        it (``rule`` names the rule).

    Examples
    --------
    >>> step = pace_step(np.array([60., 40.]), np.array([50., 50.]),
    ...                  np.array([0., 45.]), np.full(2, np.inf), 100., 1.0)
    >>> step.amounts.tolist(), step.gain_fraction
    ([55.0, 45.0], 0.5)
    """
    t = np.asarray(target, dtype=float)
    s = np.asarray(start, dtype=float)
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    d = t - s
    gain, loss = d > 0, d < 0
    tol = 1e-9 * max(1.0, abs(total))
    if lo.sum() > total + tol:
        raise InfeasibleRuleError(
            f"the floors of {loss_rule} cost {lo.sum():,.0f} kr, more than the budget of "
            f"{total:,.0f} kr; allow a larger loss",
            rule=loss_rule,
        )
    if hi.sum() < total - tol:
        raise InfeasibleRuleError(
            f"the caps of {gain_rule} allow at most {hi.sum():,.0f} kr in total, less than the "
            f"budget of {total:,.0f} kr; allow a larger gain",
            rule=gain_rule,
        )

    def amounts(lg: float, ll: float) -> np.ndarray:
        lam = np.where(gain, lg, ll)
        step = np.where(lam == 1.0, t, s + lam * d)  # all the way is the target itself
        return np.clip(step, lo, hi)

    lg = ll = fraction
    a = amounts(lg, ll)
    excess = float(a.sum()) - total
    solved: float | None = 0.0
    if excess > tol:  # floors cost money: slow the gainers
        rest = float(a[~gain].sum())
        solved = _solve_fraction(s[gain], d[gain], lo[gain], hi[gain], total - rest, fraction)
        if solved is not None:
            lg = solved
    elif excess < -tol:  # caps freed money: slow the losers
        rest = float(a[~loss].sum())
        solved = _solve_fraction(s[loss], d[loss], lo[loss], hi[loss], total - rest, fraction)
        if solved is not None:
            ll = solved
    if solved is None:
        desired = np.maximum(s + fraction * d, 0.0)
        out = solve_bounded(desired, lo, hi, total, loss_rule=loss_rule, gain_rule=gain_rule)
        return PaceStep(out, fraction, float("nan"), float("nan"), True)
    # the sum equals the frame up to float noise, which the rounding absorbs
    return PaceStep(amounts(lg, ll), fraction, lg, ll, False)
