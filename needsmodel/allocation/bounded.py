"""Floors and caps, and the budget-neutral proportional solution under them.

:func:`bounds` turns ``max_loss_pct`` / ``max_gain_pct`` into floors and caps
per unit; :func:`solve_bounded` meets them by scaling the amounts of the units
that are not at a bound by one common factor θ, found exactly: the total
``Σ clip(θ·d_i, lo_i, hi_i)`` is piecewise linear and non-decreasing in θ, so
the breakpoints are sorted, the segment holding the budget is found and the
linear equation on it is solved.
"""

from __future__ import annotations

import numpy as np

from ..errors import InfeasibleRuleError

__all__ = ["bounds", "solve_bounded"]


def bounds(
    current: np.ndarray,
    max_loss_pct: float | None,
    max_gain_pct: float | None,
    round_to: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds per unit, rounded inwards to multiples of ``round_to``.

    Rounding inwards (floors up, caps down) keeps the bounds satisfied after
    the final largest-remainder rounding.
    """
    n = current.size
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    if max_loss_pct is not None:
        lo = np.ceil(current * (1.0 - max_loss_pct / 100.0) / round_to - 1e-9) * round_to
        lo = np.maximum(lo, 0.0)
    if max_gain_pct is not None:
        hi = np.floor(current * (1.0 + max_gain_pct / 100.0) / round_to + 1e-9) * round_to
    return lo, hi


def solve_bounded(
    desired: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    total: float,
    *,
    loss_rule: str = "max_loss_pct",
    gain_rule: str = "max_gain_pct",
) -> np.ndarray:
    """Amounts ``clip(θ·desired, lo, hi)`` summing to ``total``, θ solved exactly.

    Parameters
    ----------
    desired : ndarray
        Desired amounts (non-negative).
    lo, hi : ndarray
        Bounds per unit (``hi`` may be ``inf``).
    total : float
        The budget.

    Raises
    ------
    InfeasibleRuleError
        If the floors alone cost more than the budget (``rule=loss_rule``) or
        the caps leave part of the budget unspent (``rule=gain_rule``).

    Examples
    --------
    >>> solve_bounded(np.array([50., 30., 20.]), np.array([0., 35., 0.]),
    ...               np.full(3, np.inf), 100.).round(4).tolist()
    [46.4286, 35.0, 18.5714]
    """
    d = np.asarray(desired, dtype=float)
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    if np.any(lo > hi):
        i = int(np.argmax(lo > hi))
        raise InfeasibleRuleError(
            f"unit {i + 1} has no amount between its floor and its cap in multiples of round_to "
            f"(floor {lo[i]:,.0f} kr > cap {hi[i]:,.0f} kr); allow more loss or gain or a "
            "smaller round_to",
            rule="round_to",
        )
    floor_cost = lo.sum()
    tol = 1e-9 + 1e-12 * abs(total)  # bounds are whole multiples: only float noise is tolerated
    if floor_cost > total + tol:
        raise InfeasibleRuleError(
            f"the floors of {loss_rule} cost {floor_cost:,.0f} kr, more than the budget of "
            f"{total:,.0f} kr; allow a larger loss",
            rule=loss_rule,
        )
    cap_room = hi.sum()
    if cap_room < total - tol:
        raise InfeasibleRuleError(
            f"the caps of {gain_rule} allow at most {cap_room:,.0f} kr in total, less than the "
            f"budget of {total:,.0f} kr; allow a larger gain",
            rule=gain_rule,
        )
    # θ is scale-free: work with desired amounts relative to the largest, and
    # treat amounts below double precision of it as zero.
    top = float(d.max()) if d.size else 0.0
    d = d / top if top > 0 else d
    pos = d > 1e-15
    # Units with no desired amount sit at their floor whatever θ is.
    base = float(np.sum(lo[~pos]))
    dp, lop, hip = d[pos], lo[pos], hi[pos]
    if dp.size == 0:
        if abs(base - total) > 1e-6 * max(1.0, total):
            raise InfeasibleRuleError(
                "no unit has a positive desired amount, so the budget cannot be distributed",
                rule=gain_rule,
            )
        return lo.copy()
    t_lo = lop / dp  # below this θ the unit is at its floor
    t_hi = hip / dp  # above this θ the unit is at its cap
    breaks = np.unique(np.concatenate([[0.0], t_lo, t_hi[np.isfinite(t_hi)]]))

    values = _totals_at_breaks(breaks, dp, lop, hip, base)
    k = int(np.searchsorted(values, total, side="left"))
    free = ~np.isfinite(hip)
    if k >= breaks.size and not free.any():
        # every unit with a desired amount is at its cap and money is left: it
        # goes to the units with no desired amount, up to their caps
        out = lo.copy()
        out[pos] = hip
        return _fill_zero_units(out, ~pos, hi, total)
    if k >= breaks.size:
        # beyond the last breakpoint the units without a cap grow linearly
        theta = breaks[-1] + (total - values[-1]) / float(dp[free].sum())
    elif k == 0:
        theta = breaks[0]
    else:
        t0, t1 = breaks[k - 1], breaks[k]
        v0, v1 = values[k - 1], values[k]
        theta = t0 + (total - v0) * (t1 - t0) / (v1 - v0) if v1 > v0 else t1
    out = lo.copy()
    out[pos] = np.clip(theta * dp, lop, hip)
    return out


def _fill_zero_units(out: np.ndarray, zero: np.ndarray, hi: np.ndarray, total: float) -> np.ndarray:
    """Give the money left after all capped units to the zero-desire units, up to their caps."""
    rest = total - float(out.sum())
    room = np.where(zero, hi - out, 0.0)
    if rest <= 1e-9 * max(1.0, total) or room.sum() <= 0:
        return out
    unbounded = zero & ~np.isfinite(hi)
    if unbounded.any():
        out[unbounded] += rest / unbounded.sum()
    else:
        out += rest * room / room.sum()
    return out


def _totals_at_breaks(
    breaks: np.ndarray, d: np.ndarray, lo: np.ndarray, hi: np.ndarray, base: float
) -> np.ndarray:
    """Σ clip(θ d, lo, hi) at every θ in ``breaks`` (sorted), without an n × m array."""
    t_lo = lo / d
    t_hi = hi / d
    order_lo = np.sort(t_lo)
    order_hi = np.sort(t_hi)
    # cumulative sums of the parts that are at floor / free / at cap
    lo_by_tlo = lo[np.argsort(t_lo)]
    d_by_tlo = d[np.argsort(t_lo)]
    hi_by_thi = hi[np.argsort(t_hi)]
    d_by_thi = d[np.argsort(t_hi)]
    cum_lo_rest = np.concatenate([[0.0], np.cumsum(lo_by_tlo[::-1])])[
        ::-1
    ]  # floors of units with t_lo > θ
    cum_d_passed_lo = np.concatenate([[0.0], np.cumsum(d_by_tlo)])
    cum_d_passed_hi = np.concatenate([[0.0], np.cumsum(d_by_thi)])
    finite_hi = np.where(np.isfinite(hi_by_thi), hi_by_thi, 0.0)
    cum_hi_passed = np.concatenate([[0.0], np.cumsum(finite_hi)])
    a = np.searchsorted(order_lo, breaks, side="right")  # units with t_lo <= θ (not at floor)
    b = np.searchsorted(order_hi, breaks, side="right")  # units with t_hi <= θ (at cap)
    at_floor = cum_lo_rest[a]
    free_d = cum_d_passed_lo[a] - cum_d_passed_hi[b]
    at_cap = cum_hi_passed[b]
    return base + at_floor + breaks * free_d + at_cap
