"""Rounding amounts so that they sum exactly to a total."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import AllocationError

__all__ = ["largest_remainder"]


def largest_remainder(
    amounts: ArrayLike,
    total: int,
    round_to: int = 1,
    priority: ArrayLike | None = None,
    *,
    lower: ArrayLike | None = None,
    upper: ArrayLike | None = None,
) -> np.ndarray:
    """Round ``amounts`` to multiples of ``round_to`` that sum to ``total``.

    Hamilton's largest-remainder method: every amount is first rounded down to
    a multiple of ``round_to``; the multiples still missing from ``total`` go,
    one each, to the amounts with the largest remainders; ties go to the
    higher ``priority`` (e.g. the need, so more need never gets less money),
    then to the earlier position.

    Parameters
    ----------
    amounts : array_like
        Unrounded amounts (kr); they should sum to ``total`` up to rounding.
    total : int
        The exact total; must be a multiple of ``round_to``.
    round_to : int
        The rounding unit in kroner (1, 100, 1000, ...).
    priority : array_like, optional
        Tie-breaker between equal remainders, higher first.
    lower, upper : array_like, optional
        Bounds (multiples of ``round_to``) the rounded amounts must respect,
        e.g. the floors and caps of transition rules. A unit at a bound is
        skipped when the missing multiples are handed out, so floating-point
        noise in the amounts cannot push it across.

    Returns
    -------
    ndarray of int64
        Rounded amounts with ``sum == total``.

    Examples
    --------
    >>> largest_remainder([1 / 3, 1 / 3, 1 / 3], 1).tolist()
    [1, 0, 0]
    >>> largest_remainder([333.4, 333.3, 333.3], 1000, round_to=100).tolist()
    [400, 300, 300]
    """
    a = np.asarray(amounts, dtype=float)
    total = int(total)
    round_to = int(round_to)
    if round_to <= 0:
        raise AllocationError(f"round_to must be a positive whole number; got {round_to}")
    if total % round_to:
        raise AllocationError(
            f"the total {total} is not a multiple of round_to {round_to}, so rounded "
            "amounts cannot sum to it exactly"
        )
    if a.size == 0:
        if total:
            raise AllocationError("cannot distribute a non-zero total over no units")
        return np.zeros(0, dtype=np.int64)
    if not np.all(np.isfinite(a)):
        raise AllocationError("amounts to round must be finite numbers")
    n = a.size
    lo = np.full(n, -np.inf) if lower is None else np.asarray(lower, dtype=float) / round_to
    hi = np.full(n, np.inf) if upper is None else np.asarray(upper, dtype=float) / round_to
    quota = a / round_to
    base = np.clip(np.floor(quota), np.ceil(lo - 1e-9), np.floor(hi + 1e-9))
    frac = quota - base
    units = base.astype(np.int64)
    if priority is None:
        order = np.argsort(-frac, kind="stable")
    else:
        order = np.lexsort((-np.asarray(priority, dtype=float), -frac))
    missing = total // round_to - int(units.sum())
    step = 1 if missing > 0 else -1
    while missing:
        room = (hi - units >= 1) if step > 0 else (units - lo >= 1)
        candidates = order[room[order]] if step > 0 else order[::-1][room[order[::-1]]]
        if candidates.size == 0:
            raise AllocationError(
                "the bounds leave no room to round the amounts to the total"
            )  # pragma: no cover - bounds are checked before rounding
        if abs(missing) >= candidates.size:  # many multiples missing: spread them evenly
            room_left = (hi - units) if step > 0 else (units - lo)
            share = min(abs(missing) // candidates.size, 1 << 62)
            give = np.minimum(room_left[candidates], share).astype(np.int64)
            units[candidates] += step * give
            missing -= step * int(give.sum())
            continue
        take = candidates[: abs(missing)]
        units[take] += step
        missing -= step * take.size
    return units * round_to
