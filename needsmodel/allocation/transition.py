"""Transition rules: floors, caps, partial equalisation, phase-in and several budget years.

A transition moves every unit from its current budget toward its target, year
by year, and never past it (:mod:`needsmodel.allocation.pace`). Each year:

1. the previous year's *published* amounts (this year: the current budget) are
   scaled to the year's frame: the frame-adjusted budget, so that growth or
   shrinkage of the frame counts as nobody's gain or loss;
2. every unit aims at a fraction of its distance to the year's target: the
   equalisation rate, or ``1 / (years left)`` of a phase-in, so equal steps
   when nothing binds and the last phase-in year reaches the target;
3. floors and caps apply against the previous published amount; floors are
   paid by slowing the gainers, money freed by caps slows the losers;
4. the amounts are rounded to ``round_to`` by largest remainder within the
   floors and caps, so the published numbers keep the rules and sum exactly to
   the year's frame.

``rule = "proportional"`` keeps the former rule (one common factor θ on every
unit's desired amount, :func:`~needsmodel.allocation.bounded.solve_bounded`);
it can push a unit that is close to its target away from it, in either
direction, to pay for others' floors and caps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import InfeasibleRuleError
from .bounded import bounds, solve_bounded
from .pace import PaceStep, pace_step
from .rounding import largest_remainder

__all__ = [
    "TRANSITION_RULES",
    "TransitionPath",
    "TransitionRule",
    "bounds",
    "first_year_amounts",
    "path_frame",
    "solve_bounded",
    "transition_path",
]

TransitionRule = Literal["pace", "proportional"]
TRANSITION_RULES: tuple[str, ...] = ("pace", "proportional")


@dataclass(frozen=True)
class TransitionPath:
    """Amounts per year on the way from the current budget to the target.

    All arrays have shape ``(years, units)``.

    Attributes
    ----------
    labels : tuple of str
        Year labels (calendar years, or ``year_1`` ...).
    frames : ndarray
        The frame of each year (kr).
    targets : ndarray
        Each year's target amounts.
    start : ndarray
        Each year's frame-adjusted starting point (the previous published
        year scaled to the year's frame).
    unrounded : ndarray
        Amounts before rounding.
    amounts : ndarray of int64
        Published amounts: multiples of ``round_to`` summing to each frame,
        within each year's floors and caps.
    lower, upper : ndarray
        Each year's floors and caps (``0`` and ``inf`` without rules).
    steps : tuple of PaceStep
        What the pace-of-change solution did each year (``rule = "pace"``).
    rule : str
        ``"pace"`` or ``"proportional"``.
    """

    labels: tuple[str, ...]
    frames: np.ndarray
    targets: np.ndarray
    start: np.ndarray
    unrounded: np.ndarray
    amounts: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    steps: tuple[PaceStep, ...]
    rule: str

    @property
    def years(self) -> int:
        """Number of budget years."""
        return int(self.amounts.shape[0])

    def frame(self, units: pd.Index) -> pd.DataFrame:
        """The published path as a table: one row per unit, one column per year."""
        return pd.DataFrame(self.amounts.T.astype(float), index=units, columns=list(self.labels))


def _fraction(t: int, phase_in_years: int, equalisation: float) -> float:
    """The share of the remaining distance aimed at in year ``t`` (1-based)."""
    if phase_in_years > 1:
        return 1.0 / (phase_in_years - t + 1) if t <= phase_in_years else 1.0
    return equalisation


def _year(
    goal: np.ndarray,
    previous: np.ndarray,
    frame: float,
    frac: float,
    caps: tuple[float | None, float | None] | None,
    round_to: int,
    rule: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, PaceStep | None]:
    """One budget year: frame-adjusted start, unrounded amounts, floors, caps, pace step."""
    n = previous.size
    total = previous.sum()
    s = previous * (frame / total) if total > 0 else goal.copy()
    lo, hi = (
        bounds(previous, caps[0], caps[1], round_to)
        if caps is not None
        else (np.zeros(n), np.full(n, np.inf))
    )
    if caps is not None and round_to > 1:
        _check_rounded_bounds(previous, caps, lo, hi, frame, round_to)
    if rule == "pace":
        step = pace_step(goal, s, lo, hi, frame, frac)
        return s, step.amounts, lo, hi, step
    desired = goal.copy() if frac == 1.0 else np.maximum(s + frac * (goal - s), 0.0)
    values = solve_bounded(desired, lo, hi, frame) if caps is not None else desired
    return s, values, lo, hi, None


def _check_rounded_bounds(
    previous: np.ndarray,
    caps: tuple[float | None, float | None],
    lo: np.ndarray,
    hi: np.ndarray,
    frame: float,
    round_to: int,
) -> None:
    """Blame ``round_to`` when the floors or caps fit the frame until they are rounded."""
    tol = 1e-9 * max(1.0, frame)
    if caps[0] is not None:
        raw = float(np.sum(previous * (1.0 - caps[0] / 100.0)))
        if raw <= frame + tol < lo.sum():
            raise InfeasibleRuleError(
                f"round_to = {round_to:,} kr is too coarse: the floors of max_loss_pct, rounded "
                f"up to whole multiples of it, cost {lo.sum():,.0f} kr, more than the budget of "
                f"{frame:,.0f} kr (unrounded {raw:,.0f} kr); choose a smaller round_to",
                rule="round_to",
            )
    if caps[1] is not None:
        raw = float(np.sum(previous * (1.0 + caps[1] / 100.0)))
        if hi.sum() < frame - tol <= raw:
            raise InfeasibleRuleError(
                f"round_to = {round_to:,} kr is too coarse: the caps of max_gain_pct, rounded "
                f"down to whole multiples of it, allow {hi.sum():,.0f} kr, less than the budget "
                f"of {frame:,.0f} kr (unrounded {raw:,.0f} kr); choose a smaller round_to",
                rule="round_to",
            )


def first_year_amounts(
    target: np.ndarray,
    current: np.ndarray,
    budget: float | Sequence[float] | np.ndarray,
    *,
    years: int = 1,
    equalisation_pct: float = 100.0,
    max_loss_pct: float | None = None,
    max_gain_pct: float | None = None,
    round_to: int = 1,
    rule: str = "pace",
) -> np.ndarray:
    """The unrounded amounts of the first budget year alone (``transition_path(...).unrounded[0]``).

    The first year depends on nothing later, so draws of the keys (thousands
    of targets) skip the later years and the rounding. Arguments as
    :func:`transition_path`, with ``target`` one row.

    Examples
    --------
    >>> first_year_amounts(np.array([200.0, 800.0]), np.array([500.0, 500.0]), 1000,
    ...                    years=3, max_loss_pct=20).tolist()
    [400.0, 600.0]
    """
    goal = np.asarray(target, dtype=float)
    frame = float(np.atleast_1d(np.asarray(budget, dtype=float))[0])
    has_caps = max_loss_pct is not None or max_gain_pct is not None
    caps = (max_loss_pct, max_gain_pct) if has_caps else None
    frac = _fraction(1, years, equalisation_pct / 100.0)
    cur = np.asarray(current, dtype=float)
    return _year(goal, cur, frame, frac, caps, round_to, rule)[1]


def transition_path(
    target: np.ndarray,
    current: np.ndarray,
    budget: float | Sequence[float] | np.ndarray,
    *,
    years: int = 1,
    equalisation_pct: float = 100.0,
    max_loss_pct: float | None = None,
    max_gain_pct: float | None = None,
    round_to: int = 1,
    rule: str = "pace",
    priority: np.ndarray | None = None,
    labels: Sequence[str] | None = None,
) -> TransitionPath:
    """The published amounts of every budget year, from the current budget toward the target.

    Parameters
    ----------
    target : ndarray
        Target amounts: one row (the same target, scaled to each frame) or
        one row per year.
    current : ndarray
        The current budget per unit.
    budget : float or sequence
        The frame: one number for every year, or one per year.
    years : int
        Phase-in years (reach the target in the last of them).
    equalisation_pct : float
        Without phase-in: the share of the distance closed each year.
    max_loss_pct, max_gain_pct : float, optional
        Floors and caps against the previous published year.
    round_to : int
        Published amounts are multiples of this.
    rule : {"pace", "proportional"}
        Pace of change toward the target (default), or the former common
        scaling factor.
    priority : ndarray, optional
        Tie-breaker of the rounding (e.g. the need).
    labels : sequence of str, optional
        Year labels.

    Returns
    -------
    TransitionPath

    Examples
    --------
    >>> p = transition_path(np.array([200.0, 800.0]), np.array([500.0, 500.0]), 1000,
    ...                     years=3, max_loss_pct=20)
    >>> p.amounts.tolist()
    [[400, 600], [320, 680], [256, 744]]
    """
    tgt = np.atleast_2d(np.asarray(target, dtype=float))
    cur = np.asarray(current, dtype=float)
    frames = np.atleast_1d(np.asarray(budget, dtype=float))
    n_years = max(int(years), frames.size, tgt.shape[0])
    if frames.size < n_years:
        frames = np.concatenate([frames, np.full(n_years - frames.size, frames[-1])])
    if tgt.shape[0] < n_years:
        # the same target each year, scaled to the year's frame
        base = tgt[-1]
        extra = [
            base * (f / base.sum()) if base.sum() > 0 else base for f in frames[tgt.shape[0] :]
        ]
        tgt = np.vstack([tgt, *extra])
    f = equalisation_pct / 100.0
    has_caps = max_loss_pct is not None or max_gain_pct is not None
    caps = (max_loss_pct, max_gain_pct) if has_caps else None
    n = cur.size
    shape = (n_years, n)
    start, unrounded = np.empty(shape), np.empty(shape)
    amounts = np.empty(shape, dtype=np.int64)
    lower, upper = np.zeros(shape), np.full(shape, np.inf)
    steps: list[PaceStep] = []
    previous = cur
    for t in range(1, n_years + 1):
        frame, goal = float(frames[t - 1]), tgt[t - 1]
        s, values, lo, hi, step = _year(
            goal, previous, frame, _fraction(t, years, f), caps, round_to, rule
        )
        if step is not None:
            steps.append(step)
        rounded = largest_remainder(
            values,
            round(frame),
            round_to,
            priority,
            lower=lo if has_caps else None,
            upper=hi if has_caps else None,
        )
        start[t - 1], unrounded[t - 1], amounts[t - 1] = s, values, rounded
        lower[t - 1], upper[t - 1] = lo, hi
        previous = rounded.astype(float)
    names = tuple(labels) if labels is not None else tuple(f"year_{t + 1}" for t in range(n_years))
    return TransitionPath(
        labels=names,
        frames=frames,
        targets=tgt,
        start=start,
        unrounded=unrounded,
        amounts=amounts,
        lower=lower,
        upper=upper,
        steps=tuple(steps),
        rule=rule,
    )


def path_frame(path: np.ndarray, units: pd.Index, first_year: int | None = None) -> pd.DataFrame:
    """A transition path as a table: one row per unit, one column per year."""
    names = [
        f"year_{t + 1}" if first_year is None else str(first_year + t) for t in range(path.shape[0])
    ]
    return pd.DataFrame(path.T, index=units, columns=names)
