"""Scenarios: two or more allocations of the same units, side by side."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AllocationError
from .keys import Allocation

__all__ = ["compare_scenarios"]


def _allocation(obj: Any) -> Allocation:
    if isinstance(obj, Allocation):
        return obj
    alloc = getattr(obj, "allocation", None)
    if isinstance(alloc, Allocation):
        return alloc
    raise TypeError(f"expected an Allocation or a RunResult; got {type(obj).__name__}")


def compare_scenarios(scenarios: Mapping[str, Any]) -> pd.DataFrame:
    """One table of several allocations of the same units.

    Parameters
    ----------
    scenarios : mapping
        Name → :class:`Allocation` or :class:`~needsmodel.RunResult` (e.g. two
        configs run on the same data, or one need allocated under two
        policies). The first is the baseline.

    Returns
    -------
    DataFrame
        One row per unit: ``unit``, ``current`` (of the first scenario that has
        one), then per scenario ``<name>_share`` and ``<name>_allocation``, and
        for every scenario after the first ``<name>_vs_<first>`` (kr) and
        ``<name>_vs_<first>_pct``.

    Examples
    --------
    >>> need = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"])
    >>> current = pd.Series([300.0, 300.0, 400.0], index=["a", "b", "c"])
    >>> from needsmodel.allocation import allocate
    >>> t = compare_scenarios({
    ...     "full": allocate(need, 1000, current=current),
    ...     "floor": allocate(need, 1000, current=current, max_loss_pct=10),
    ... })
    >>> t["floor_vs_full"].tolist()
    [103.0, -26.0, -77.0]
    """
    if len(scenarios) < 2:
        raise AllocationError("compare_scenarios needs at least two scenarios")
    allocs = {name: _allocation(a) for name, a in scenarios.items()}
    first_name, first = next(iter(allocs.items()))
    units = first.table["unit"].tolist()
    for name, a in allocs.items():
        if sorted(a.table["unit"]) != sorted(units):
            raise AllocationError(
                f"scenario '{name}' allocates other units than '{first_name}'; compare "
                "scenarios on the same units"
            )
    out = pd.DataFrame({"unit": units})
    current = next(
        (
            a.table.set_index("unit")["current"]
            for a in allocs.values()
            if a.table["current"].notna().any()
        ),
        None,
    )
    out["current"] = current.reindex(units).to_numpy() if current is not None else np.nan
    base = first.table.set_index("unit")["allocation"].reindex(units).to_numpy(dtype=float)
    for name, a in allocs.items():
        t = a.table.set_index("unit").reindex(units)
        out[f"{name}_share"] = t["share"].to_numpy()
        out[f"{name}_allocation"] = t["allocation"].to_numpy()
    for name, a in list(allocs.items())[1:]:
        diff = a.table.set_index("unit")["allocation"].reindex(units).to_numpy(dtype=float) - base
        out[f"{name}_vs_{first_name}"] = diff
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"{name}_vs_{first_name}_pct"] = np.where(base > 0, 100.0 * diff / base, np.nan)
    return out
