"""Fixed tariff categories and capacity budgets (the course's Aalborg case).

A funder buys *places* in tariff categories (e.g. levels of support) and pays
a fixed tariff per occupied place-year. The capacity budget is places × tariff
× planned occupancy. What happens when a place stands empty is the design
choice: the provider's cost of a place is partly fixed (staff, buildings) and
partly variable; paying ``empty_rate`` of the tariff for an empty place moves
the occupancy risk between provider and funder. With ``empty_rate`` equal to
the fixed share of the cost the provider breaks even at any occupancy and the
funder carries all the risk; with 0 the provider carries it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .casechecks import check_columns
from .errors import InputError

__all__ = ["capacity_budget"]


def capacity_budget(
    categories: pd.DataFrame,
    *,
    planned_occupancy: float = 0.95,
    empty_rate: float = 0.0,
    fixed_share: float = 0.6,
    category: str = "category",
    places: str = "places",
    tariff: str = "tariff",
    occupied: str = "occupied",
) -> pd.DataFrame:
    """Budget, payment and results per tariff category at the actual occupancy.

    Parameters
    ----------
    categories : DataFrame
        One row per tariff category: places bought, the tariff per occupied
        place-year (kr) and the place-years actually occupied.
    planned_occupancy : float
        Occupancy the budget is set for (0-1).
    empty_rate : float
        Share of the tariff the funder pays for an empty place-year (0-1).
    fixed_share : float
        Share of the tariff that is the provider's fixed cost per place.

    Returns
    -------
    DataFrame
        Per category and a ``total`` row: ``places, tariff, budget, occupied,
        empty, occupancy, paid_occupied, paid_empty, payment, deviation``
        (payment - budget: the funder's over- or underspending),
        ``provider_cost`` and ``provider_result`` (payment - cost).

    Examples
    --------
    >>> c = pd.DataFrame({"category": ["A"], "places": [10], "tariff": [100.0], "occupied": [8]})
    >>> r = capacity_budget(c, planned_occupancy=1.0, empty_rate=0.6, fixed_share=0.6)
    >>> r.loc[0, ["payment", "provider_result"]].tolist()
    [920.0, 0.0]
    """
    check_columns(
        categories, "capacity_budget(categories)", [places, tariff, occupied],
        nonnegative=[places, tariff, occupied], id=category,
    )  # fmt: skip
    for name, v in (
        ("planned_occupancy", planned_occupancy),
        ("empty_rate", empty_rate),
        ("fixed_share", fixed_share),
    ):
        if not 0 <= v <= 1:
            raise InputError(f"{name} must be between 0 and 1; got {v!r}")
    n = categories[places].to_numpy(dtype=float)
    t = categories[tariff].to_numpy(dtype=float)
    occ = categories[occupied].to_numpy(dtype=float)
    if np.any(occ < 0) or np.any(occ > n):
        raise InputError("occupied place-years must lie between 0 and the places bought")
    out = pd.DataFrame(
        {
            category: categories[category].astype(str).to_numpy(),
            "places": n,
            "tariff": t,
            "budget": n * t * planned_occupancy,
            "occupied": occ,
            "empty": n - occ,
        }
    )
    out["paid_occupied"] = occ * t
    out["paid_empty"] = (n - occ) * t * empty_rate
    out["payment"] = out["paid_occupied"] + out["paid_empty"]
    out["deviation"] = out["payment"] - out["budget"]
    out["provider_cost"] = n * t * fixed_share + occ * t * (1 - fixed_share)
    out["provider_result"] = out["payment"] - out["provider_cost"]
    total = out.drop(columns=[category, "tariff"]).sum().to_frame().T
    total.insert(0, category, "total")
    total.insert(2, "tariff", np.nan)
    out = pd.concat([out, total], ignore_index=True)
    out.insert(6, "occupancy", out["occupied"] / out["places"])
    return out
