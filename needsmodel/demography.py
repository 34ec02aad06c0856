"""Demographic models ("demografimodeller") for elderly care and similar services.

A demographic budget is the unit cost per age group times the population of
each district, age group and year of a projection. Three refinements make it
more than a mechanical projection:

- **unit costs from the accounts** (cost / citizens per age group) or from
  activity (hours × price / citizens);
- **healthier ageing**: each year the cost-by-age curve moves to older ages
  (an 80-year-old in 2030 costs what a 79.5-year-old costs today), interpolated
  on the log of the cost between age-group midpoints;
- **decomposition of the change** from one year to the next into demography
  (more or older citizens), healthier ageing and price/level, with Shapley
  weights so the three parts add up exactly to the change.

Examples
--------
>>> import needsmodel as nm
>>> pop = nm.datasets.load_elderly_population()
>>> costs = unit_costs(nm.datasets.load_elderly_accounts())
>>> budget = demographic_budget(pop, costs)
>>> sorted(budget.columns)
['budget', 'citizens', 'district', 'year']
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .casechecks import check_columns, check_mapping, check_number, check_values
from .errors import DataError, InputError, format_ids

__all__ = [
    "band_midpoints",
    "decompose_change",
    "demographic_budget",
    "shift_cost_curve",
    "unit_costs",
    "unit_costs_from_activity",
]


def band_midpoints(bands: Sequence[str], open_width: float = 5.0) -> pd.Series:
    """Midpoint ages of age groups written ``"65-69"`` or ``"90+"``.

    ``"65-69"`` covers ages 65.0 to 70.0, midpoint 67.5; an open group ``"90+"``
    is taken as ``open_width`` years wide.

    Examples
    --------
    >>> band_midpoints(["65-69", "90+"]).tolist()
    [67.5, 92.5]
    """
    out = {}
    for b in bands:
        text = str(b).strip()
        closed = re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", text)
        open_ = re.fullmatch(r"(\d+)\s*\+", text)
        if closed:
            lo, hi = int(closed.group(1)), int(closed.group(2))
            if hi < lo:
                raise InputError(f"age group {b!r} ends before it starts")
            out[b] = (lo + hi + 1) / 2.0
        elif open_:
            out[b] = int(open_.group(1)) + open_width / 2.0
        else:
            raise InputError(f"age group {b!r} is not of the form '65-69' or '90+'")
    return pd.Series(out, name="midpoint")


def unit_costs(
    accounts: pd.DataFrame,
    *,
    cost: str = "cost",
    population: str = "citizens",
    by: str = "age_band",
) -> pd.Series:
    """Unit cost per age group from the accounts: cost / citizens.

    Parameters
    ----------
    accounts : DataFrame
        One row per age group (or several, e.g. per district, which are summed).
    cost, population, by : str
        Column names.

    Returns
    -------
    Series
        Kroner per citizen, indexed by age group in the order of first appearance.
    """
    check_columns(
        accounts, "unit_costs(accounts)", [cost, population], nonnegative=[cost, population],
        required=[by],
    )  # fmt: skip
    g = accounts.groupby(by, sort=False)[[cost, population]].sum()
    if (g[population] <= 0).any():
        bad = list(g.index[g[population] <= 0])
        raise DataError(
            f"age group(s) {format_ids(bad)} have no citizens", column=population, ids=bad
        )
    return (g[cost] / g[population]).rename("unit_cost")


def unit_costs_from_activity(
    activity: pd.DataFrame,
    prices: Mapping[str, float],
    *,
    population: str = "citizens",
    by: str = "age_band",
) -> pd.Series:
    """Unit cost per age group from activity: Σ volume × price / citizens.

    Parameters
    ----------
    activity : DataFrame
        One row per age group with a column of volume per service (e.g. hours
        of home help, days in a nursing home) and the citizens.
    prices : mapping
        Price (kr) per unit of each service column.

    Examples
    --------
    >>> act = pd.DataFrame({"age_band": ["65-69", "90+"], "citizens": [100, 10],
    ...                     "home_help_hours": [200, 900]})
    >>> unit_costs_from_activity(act, {"home_help_hours": 400.0}).tolist()
    [800.0, 36000.0]
    """
    check_mapping(prices, "unit_costs_from_activity(prices)", nonnegative=True)
    check_columns(
        activity, "unit_costs_from_activity(activity)", [population, *prices],
        nonnegative=[population, *prices], required=[by],
    )  # fmt: skip
    g = activity.groupby(by, sort=False)[[population, *prices]].sum()
    cost = sum(g[s] * float(p) for s, p in prices.items())
    return (cost / g[population]).rename("unit_cost")


def shift_cost_curve(unit_cost: pd.Series, years: float, open_width: float = 5.0) -> pd.Series:
    """The cost curve moved ``years`` to older ages (healthier ageing).

    The cost of age group ``g`` becomes the curve's value at ``midpoint(g) -
    years``, interpolated linearly in log cost between midpoints (and
    extrapolated with the nearest slope). ``years = 0`` returns the curve
    unchanged; positive ``years`` lowers every cost on a rising curve.

    Examples
    --------
    >>> c = pd.Series([1000.0, 4000.0], index=["70-74", "75-79"])
    >>> shift_cost_curve(c, 2.5).round(1).tolist()
    [500.0, 2000.0]
    """
    check_number(years, "years")
    check_values(unit_cost, "unit_cost", nonnegative=True)
    if years == 0:
        return unit_cost.copy()
    if (unit_cost <= 0).any():
        raise InputError(
            "healthier ageing needs positive unit costs (the curve is shifted in logs)"
        )
    mid = band_midpoints(list(unit_cost.index), open_width).to_numpy()
    order = np.argsort(mid)
    x, y = mid[order], np.log(unit_cost.to_numpy(dtype=float)[order])
    target = mid - years
    if len(x) == 1:
        return unit_cost.copy()
    slope_lo = (y[1] - y[0]) / (x[1] - x[0])
    slope_hi = (y[-1] - y[-2]) / (x[-1] - x[-2])
    inner = np.interp(target, x, y)
    below, above = target < x[0], target > x[-1]
    inner[below] = y[0] + slope_lo * (target[below] - x[0])
    inner[above] = y[-1] + slope_hi * (target[above] - x[-1])
    return pd.Series(np.exp(inner), index=unit_cost.index, name=unit_cost.name)


def _price_factor(year: int, base_year: int, price_index: Mapping[int, float] | float) -> float:
    if isinstance(price_index, Mapping):
        if year not in price_index:
            raise InputError(f"price_index has no value for {year}")
        return check_number(price_index[year], f"price_index[{year}]", low=0, low_open=True)
    growth = check_number(price_index, "price_index", low=-1, low_open=True)
    return float((1.0 + growth) ** (year - base_year))


def _check_population(population: pd.DataFrame, what: str) -> None:
    """A projection: district, age group, year and a finite, non-negative citizen count."""
    check_columns(
        population, what, ["citizens", "year"], nonnegative=["citizens"],
        required=["district", "age_band"],
    )  # fmt: skip
    dup = population.duplicated(["district", "age_band", "year"], keep=False)
    if dup.any():
        first = population.loc[dup, ["district", "age_band", "year"]].astype(str).agg(" ".join, 1)
        raise DataError(
            f"{what} has more than one row for {format_ids(list(dict.fromkeys(first)))}",
            column="age_band",
        )


def _check_costed(population: pd.DataFrame, unit_cost: pd.Series) -> None:
    """Every age group of the population has a unit cost, a finite number of at least 0."""
    check_values(unit_cost, "unit_cost", nonnegative=True)
    unknown = sorted(set(population["age_band"]) - set(unit_cost.index))
    if unknown:
        raise DataError(
            f"age group(s) {format_ids(unknown)} of the population have no unit cost",
            column="age_band",
            ids=unknown,
        )


def _factors(
    population: pd.DataFrame,
    unit_cost: pd.Series,
    healthy_years_per_year: float,
    price_index: Mapping[int, float] | float,
    base_year: int,
) -> pd.DataFrame:
    _check_costed(population, unit_cost)
    rows = []
    for year, part in population.groupby("year", sort=True):
        y = int(str(year))
        curve = shift_cost_curve(unit_cost, healthy_years_per_year * (y - base_year))
        rows.append(
            part.assign(
                relative_cost=part["age_band"].map(curve / unit_cost).to_numpy(dtype=float),
                base_cost=part["age_band"].map(unit_cost).to_numpy(dtype=float),
                price=_price_factor(y, base_year, price_index),
            )
        )
    return pd.concat(rows, ignore_index=True)


def demographic_budget(
    population: pd.DataFrame,
    unit_cost: pd.Series,
    *,
    healthy_years_per_year: float = 0.0,
    price_index: Mapping[int, float] | float = 0.0,
    base_year: int | None = None,
    detail: bool = False,
) -> pd.DataFrame:
    """Budget per district and year: Σ over age groups of citizens × unit cost.

    Parameters
    ----------
    population : DataFrame
        Columns ``district, age_band, year, citizens`` (a projection).
    unit_cost : Series
        Kroner per citizen by age group, at ``base_year`` prices and health.
    healthy_years_per_year : float
        Healthier ageing: the cost curve moves this many years to older ages
        per year after ``base_year`` (e.g. 0.5).
    price_index : float or mapping
        Yearly price growth (``0.02``) or a factor per year (``{2025: 1.0,
        2026: 1.021, ...}``) relative to ``base_year``.
    base_year : int, optional
        The year the unit costs belong to (default: the first year).
    detail : bool
        Also return one row per district, age group and year with its cost.

    Returns
    -------
    DataFrame
        ``district, year, citizens, budget`` (and with ``detail`` the columns
        ``age_band, unit_cost, cost`` per age group instead).
    """
    _check_population(population, "demographic_budget(population)")
    check_number(healthy_years_per_year, "healthy_years_per_year")
    base = int(population["year"].min()) if base_year is None else int(base_year)
    f = _factors(population, unit_cost, healthy_years_per_year, price_index, base)
    f["unit_cost"] = f["base_cost"] * f["relative_cost"] * f["price"]
    f["cost"] = f["citizens"] * f["unit_cost"]
    if detail:
        return f[["district", "age_band", "year", "citizens", "unit_cost", "cost"]]
    out = f.groupby(["district", "year"], sort=True).agg(
        citizens=("citizens", "sum"), budget=("cost", "sum")
    )
    return out.reset_index()


def _shapley(f0: list[np.ndarray], f1: list[np.ndarray]) -> list[np.ndarray]:
    """Exact additive split of Δ Π f_k over the factors (Shapley weights)."""
    k = len(f0)
    parts = [np.zeros_like(f0[0], dtype=float) for _ in range(k)]
    for order in itertools.permutations(range(k)):
        current = [a.astype(float) for a in f0]
        for j in order:
            before = np.prod(current, axis=0)
            current[j] = f1[j].astype(float)
            parts[j] += np.prod(current, axis=0) - before
    n = math.factorial(k)
    return [p / n for p in parts]


def decompose_change(
    population: pd.DataFrame,
    unit_cost: pd.Series,
    year0: int,
    year1: int,
    *,
    healthy_years_per_year: float = 0.0,
    price_index: Mapping[int, float] | float = 0.0,
    base_year: int | None = None,
) -> pd.DataFrame:
    """Split the budget change from ``year0`` to ``year1`` per district.

    Each age group's cost is citizens × relative cost (healthier ageing) ×
    price × base unit cost; the change is split over the first three factors
    with Shapley weights, so ``demography + healthy_ageing + price`` equals
    ``change`` exactly.

    Returns
    -------
    DataFrame
        ``district, budget0, budget1, change, demography, healthy_ageing,
        price`` and a last row ``district = "total"``.
    """
    _check_population(population, "decompose_change(population)")
    check_number(healthy_years_per_year, "healthy_years_per_year")
    base = int(population["year"].min()) if base_year is None else int(base_year)
    _check_costed(population, unit_cost)
    key = ["district", "age_band"]
    years = population["year"].astype(int)
    rows0 = population[years == int(year0)]
    rows1 = population[years == int(year1)]
    if rows0.empty or rows1.empty:
        raise InputError(f"the population has no rows for {year0 if rows0.empty else year1}")
    # every district × age group of either year; a missing row is 0 citizens, while the
    # relative cost (healthier ageing) and the price belong to the year, for every age group
    idx = pd.MultiIndex.from_frame(pd.concat([rows0[key], rows1[key]]).drop_duplicates())
    idx = idx.sort_values()

    def factors(rows: pd.DataFrame, year: int) -> pd.DataFrame:
        curve = shift_cost_curve(unit_cost, healthy_years_per_year * (year - base))
        ages = idx.get_level_values("age_band")
        return pd.DataFrame(
            {
                "citizens": rows.groupby(key)["citizens"].sum().reindex(idx).fillna(0.0),
                "relative_cost": (curve / unit_cost).reindex(ages).to_numpy(dtype=float),
                "price": _price_factor(year, base, price_index),
                "base_cost": unit_cost.reindex(ages).to_numpy(dtype=float),
            },
            index=idx,
        )

    a = factors(rows0, int(year0))
    b = factors(rows1, int(year1))
    w = a["base_cost"].to_numpy(dtype=float)
    f0 = [a[c].to_numpy(dtype=float) for c in ("citizens", "relative_cost", "price")]
    f1 = [b[c].to_numpy(dtype=float) for c in ("citizens", "relative_cost", "price")]
    demo, healthy, price = (p * w for p in _shapley(f0, f1))
    rows = pd.DataFrame(
        {
            "district": idx.get_level_values("district"),
            "budget0": np.prod(f0, axis=0) * w,
            "budget1": np.prod(f1, axis=0) * w,
            "demography": demo,
            "healthy_ageing": healthy,
            "price": price,
        }
    )
    out = rows.groupby("district", sort=True).sum().reset_index()
    out.insert(3, "change", out["budget1"] - out["budget0"])
    total = out.drop(columns="district").sum().to_frame().T
    total.insert(0, "district", "total")
    return pd.concat([out, total], ignore_index=True)
