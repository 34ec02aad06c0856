"""Rounding amounts so that they sum exactly to a total."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import AllocationError

__all__ = ["largest_remainder"]


def largest_remainder(amounts: ArrayLike, total: int, round_to: int = 1) -> np.ndarray:
    """Round ``amounts`` to multiples of ``round_to`` that sum to ``total``.

    Hamilton's largest-remainder method: every amount is first rounded down to
    a multiple of ``round_to``; the multiples still missing from ``total`` go,
    one each, to the amounts with the largest remainders (ties to the earlier
    position, so the result does not depend on anything but the input order).

    Parameters
    ----------
    amounts : array_like
        Unrounded amounts (kr); they should sum to ``total`` up to rounding.
    total : int
        The exact total; must be a multiple of ``round_to``.
    round_to : int
        The rounding unit in kroner (1, 100, 1000, ...).

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
    quota = a / round_to
    base = np.floor(quota)
    frac = quota - base
    base_int = base.astype(np.int64)
    missing = total // round_to - int(base_int.sum())
    order = np.argsort(-frac, kind="stable")
    n = a.size
    whole, part = divmod(abs(missing), n)
    if missing >= 0:
        base_int += whole
        base_int[order[:part]] += 1
    else:  # only from floating-point drift in the input
        base_int -= whole
        if part:
            base_int[order[n - part :]] -= 1
    return base_int * round_to
