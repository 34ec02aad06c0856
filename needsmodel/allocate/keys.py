"""From need to allocation keys and kroner of a fixed budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AllocationError, format_ids
from .rounding import largest_remainder

__all__ = ["KEY_COLUMNS", "Allocation", "allocate", "need_index"]

#: Columns of :attr:`Allocation.table` and of ``allocation_keys.csv``.
KEY_COLUMNS = [
    "unit",
    "exposure",
    "need",
    "index",
    "share",
    "allocation",
    "current",
    "change",
    "change_pct",
]


def need_index(need: pd.Series, exposure: pd.Series | None = None) -> pd.Series:
    """Need index: need per unit of exposure relative to the overall average.

    The exposure-weighted mean of the index is 1 (with no exposure, the plain
    mean is 1). A district with index 1.2 needs 20% more per pupil than the
    average pupil.

    Examples
    --------
    >>> need = pd.Series([100.0, 300.0]); pupils = pd.Series([10.0, 20.0])
    >>> need_index(need, pupils).round(4).tolist()
    [0.75, 1.125]
    """
    if exposure is None:
        return (need / need.mean()).rename("index")
    return ((need / exposure) / (need.sum() / exposure.sum())).rename("index")


@dataclass(frozen=True, eq=False)
class Allocation:
    """A budget distributed over units.

    Attributes
    ----------
    table : DataFrame
        One row per unit with the columns in :data:`KEY_COLUMNS`; ``current``,
        ``change`` and ``change_pct`` are missing when no current budget is
        given.
    budget : int
        The distributed budget; ``table["allocation"].sum() == budget``.
    round_to : int
        Rounding unit of the amounts (kr).
    details : dict
        Further tables by name (pools, transition paths, ...).
    """

    table: pd.DataFrame
    budget: int
    round_to: int
    details: dict[str, Any]

    @property
    def amounts(self) -> pd.Series:
        """Allocated kroner per unit, indexed by unit id."""
        return self.table.set_index("unit")["allocation"]

    @property
    def shares(self) -> pd.Series:
        """Allocation keys (shares of the need, summing to 1)."""
        return self.table.set_index("unit")["share"]

    def winners_and_losers(self) -> pd.DataFrame:
        """Units sorted by change against the current budget, largest gain first."""
        if self.table["current"].isna().all():
            raise AllocationError("no current budget was given, so there are no winners or losers")
        return self.table.sort_values(["change", "unit"], ascending=[False, True]).reset_index(
            drop=True
        )

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False, float_format=lambda v: f"{v:,.4g}", border=0)


def allocate(
    need: pd.Series,
    budget: int,
    *,
    exposure: pd.Series | None = None,
    current: pd.Series | None = None,
    round_to: int = 1,
) -> Allocation:
    """Distribute a fixed budget in proportion to need.

    need → need index → share → kroner, rounded to ``round_to`` by largest
    remainder so that the amounts sum to ``budget`` exactly.

    Parameters
    ----------
    need : Series
        Predicted need per unit (kr), indexed by unit id.
    budget : int
        The budget to distribute (kr); a multiple of ``round_to``.
    exposure : Series, optional
        Exposure per unit, for the need index.
    current : Series, optional
        Current budget per unit, for the change.
    round_to : int
        Rounding unit (kr).

    Returns
    -------
    Allocation

    Raises
    ------
    AllocationError
        If a unit's need is negative or not a number, the total need is zero, or
        the budget is not a multiple of ``round_to``.

    Examples
    --------
    >>> need = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"])
    >>> allocate(need, 1000).amounts.tolist()
    [167, 333, 500]
    """
    need = need.astype(float)
    if need.isna().any():
        raise AllocationError(f"need is missing for unit(s) {format_ids(need.index[need.isna()])}")
    neg = need < 0
    if neg.any():
        raise AllocationError(
            f"predicted need is negative for unit(s) {format_ids(need.index[neg])}; a linear "
            "model extrapolates below zero there; consider a log-link model or other indicators"
        )
    if need.sum() <= 0:
        raise AllocationError("total need is zero; nothing to allocate by")
    if int(budget) != budget or budget < 0:
        raise AllocationError(
            f"budget must be a non-negative whole number of kroner; got {budget!r}"
        )
    budget = int(budget)
    share = need / need.sum()
    amounts = largest_remainder(share.to_numpy() * budget, budget, round_to)
    table = pd.DataFrame(
        {
            "unit": need.index.astype(str),
            "exposure": exposure.reindex(need.index).to_numpy(dtype=float)
            if exposure is not None
            else np.nan,
            "need": need.to_numpy(),
            "index": need_index(
                need, exposure.reindex(need.index) if exposure is not None else None
            ).to_numpy(),
            "share": share.to_numpy(),
            "allocation": amounts,
        }
    )
    _add_change(table, current, need.index)
    return Allocation(table=table, budget=budget, round_to=int(round_to), details={})


def _add_change(table: pd.DataFrame, current: pd.Series | None, index: pd.Index) -> None:
    if current is None:
        table["current"] = np.nan
        table["change"] = np.nan
        table["change_pct"] = np.nan
        return
    cur = current.reindex(index).to_numpy(dtype=float)
    table["current"] = cur
    table["change"] = table["allocation"] - cur
    with np.errstate(divide="ignore", invalid="ignore"):
        table["change_pct"] = np.where(cur > 0, 100.0 * table["change"] / cur, np.nan)
