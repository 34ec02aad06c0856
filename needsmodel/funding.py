"""Funding models around a need model: baseline, tariffs, carry-over, effect tariffs.

- :func:`baseline_settlement` — the *baseline model* ("baselinemodel") that lets
  an activity tariff live inside a fixed frame: a provider keeps its frame for
  the baseline activity, is paid a marginal rate for activity above it and
  refunds a rate for activity below it. Compared with a pure tariff and a pure
  frame, per provider and for the funder's budget.
- :func:`tariffs` — tariffs from costs and activity by activity-based costing:
  overheads are allocated to services by cost drivers, then full cost / volume.
- :func:`carry_over` — surplus and deficit carried from year to year
  ("overførselsadgang") with limits and rates, simulated over years.
- :func:`effect_payments` — effect tariffs ("effekttakster"): a base tariff
  per citizen plus a bonus per success *above the expected*, where each
  citizen's expected outcome is risk-adjusted by a person-level model, so a
  provider that picks easy citizens gains nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .casechecks import check_columns, check_ids, check_mapping, check_number, check_values
from .errors import DataError, InputError, format_ids

__all__ = [
    "baseline_settlement",
    "baseline_worst_case",
    "carry_over",
    "carry_over_units",
    "effect_payments",
    "tariffs",
]


def baseline_settlement(
    providers: pd.DataFrame,
    *,
    tariff: float | str,
    marginal_rate: float = 0.5,
    refund_rate: float | None = None,
    activity: str = "activity",
    baseline: str = "baseline",
    frame: str | None = None,
    id: str = "provider",
    ceiling_pct: float | None = None,
) -> pd.DataFrame:
    """Settle activity against a baseline inside a fixed frame.

    Each provider's frame pays for its baseline activity. Activity above the
    baseline is paid ``marginal_rate × tariff`` per unit, up to a ceiling of
    ``ceiling_pct`` % above the baseline (activity beyond it is not paid);
    activity below it is refunded at ``refund_rate × tariff`` per unit
    (default: the same rate). :func:`baseline_worst_case` gives the funder's
    largest possible extra payment.

    Parameters
    ----------
    providers : DataFrame
        One row per provider: id, activity, baseline and optionally the frame.
    tariff : float or str
        Full tariff per unit of activity (kr), or a column with one per
        provider.
    marginal_rate, refund_rate : float
        Shares of the tariff paid above / refunded below the baseline (0-1).
    frame : str, optional
        Column with each provider's frame (default: baseline × tariff).
    ceiling_pct : float, optional
        Extra activity is paid up to this % above the baseline.

    Returns
    -------
    DataFrame
        Per provider: ``activity, baseline, deviation, paid_deviation``
        (the deviation up to the ceiling), ``unpaid_activity``, ``frame,
        adjustment, payment`` under the baseline model, ``pure_tariff``
        (activity × tariff), ``pure_frame``, and the funder's
        ``budget_effect`` (payment - frame); a last row ``total``.

    Examples
    --------
    >>> p = pd.DataFrame({"provider": ["A", "B"], "activity": [110, 90], "baseline": [100, 100]})
    >>> s = baseline_settlement(p, tariff=1000, marginal_rate=0.5)
    >>> s["payment"].tolist()
    [105000.0, 95000.0, 200000.0]
    """
    what = "baseline_settlement(providers)"
    numeric = [activity, baseline, *([tariff] if isinstance(tariff, str) else [])]
    numeric += [frame] if frame is not None else []
    check_columns(providers, what, numeric, nonnegative=numeric, id=id)
    if not isinstance(tariff, str):
        check_number(tariff, "tariff", low=0)
    if ceiling_pct is not None:
        check_number(ceiling_pct, "ceiling_pct", low=0)
    check_number(marginal_rate, "marginal_rate", low=0, high=1)
    if refund_rate is not None:
        check_number(refund_rate, "refund_rate", low=0, high=1)
    refund = marginal_rate if refund_rate is None else refund_rate
    p = providers
    t = (
        p[tariff].to_numpy(dtype=float)
        if isinstance(tariff, str)
        else np.full(len(p), float(tariff))
    )
    act = p[activity].to_numpy(dtype=float)
    base = p[baseline].to_numpy(dtype=float)
    if np.any(act < 0) or np.any(base < 0):
        raise DataError("activity and baseline must not be negative")
    fr = p[frame].to_numpy(dtype=float) if frame is not None else base * t
    dev = act - base
    if ceiling_pct is not None and ceiling_pct < 0:
        raise InputError(f"ceiling_pct must not be negative; got {ceiling_pct!r}")
    paid = dev if ceiling_pct is None else np.minimum(dev, base * ceiling_pct / 100.0)
    adjustment = np.where(paid >= 0, marginal_rate * t * paid, refund * t * paid)
    out = pd.DataFrame(
        {
            id: p[id].astype(str).to_numpy(),
            "activity": act,
            "baseline": base,
            "deviation": dev,
            "paid_deviation": paid,
            "unpaid_activity": dev - paid,
            "frame": fr,
            "adjustment": adjustment,
            "payment": fr + adjustment,
            "pure_tariff": act * t,
            "pure_frame": fr,
        }
    )
    out["budget_effect"] = out["payment"] - out["frame"]
    total = out.drop(columns=id).sum().to_frame().T
    total.insert(0, id, "total")
    return pd.concat([out, total], ignore_index=True)


def baseline_worst_case(
    providers: pd.DataFrame,
    *,
    tariff: float | str,
    marginal_rate: float = 0.5,
    ceiling_pct: float | None = None,
    baseline: str = "baseline",
    id: str = "provider",
) -> pd.DataFrame:
    """The funder's largest extra payment under the baseline model (its exposure).

    With a ceiling, no provider can be paid more than ``marginal_rate ×
    tariff × baseline × ceiling``; without one, the exposure has no bound
    (``inf``). Per provider and a ``total`` row: ``baseline, ceiling_activity,
    max_extra_payment``.

    Examples
    --------
    >>> p = pd.DataFrame({"provider": ["A"], "baseline": [100]})
    >>> baseline_worst_case(p, tariff=1000, ceiling_pct=10)["max_extra_payment"].tolist()
    [5000.0, 5000.0]
    """
    numeric = [baseline, *([tariff] if isinstance(tariff, str) else [])]
    check_columns(providers, "baseline_worst_case(providers)", numeric, nonnegative=numeric, id=id)
    if not isinstance(tariff, str):
        check_number(tariff, "tariff", low=0)
    check_number(marginal_rate, "marginal_rate", low=0, high=1)
    if ceiling_pct is not None:
        check_number(ceiling_pct, "ceiling_pct", low=0)
    t = (
        providers[tariff].to_numpy(dtype=float)
        if isinstance(tariff, str)
        else np.full(len(providers), float(tariff))
    )
    base = providers[baseline].to_numpy(dtype=float)
    extra = base * (ceiling_pct / 100.0) if ceiling_pct is not None else np.full(base.size, np.inf)
    out = pd.DataFrame(
        {
            id: providers[id].astype(str).to_numpy(),
            "baseline": base,
            "ceiling_activity": base + extra,
            "max_extra_payment": marginal_rate * t * extra,
        }
    )
    total = out.drop(columns=id).sum().to_frame().T
    total.insert(0, id, "total")
    return pd.concat([out, total], ignore_index=True)


def tariffs(
    services: pd.DataFrame,
    overheads: Mapping[str, float],
    drivers: Mapping[str, str],
    *,
    service: str = "service",
    direct: str = "direct_cost",
    volume: str = "volume",
) -> pd.DataFrame:
    """Tariffs by activity-based costing.

    Every overhead cost pool is allocated to the services in proportion to its
    cost driver (a column of ``services``: staff hours, square metres, number
    of cases, ...). Full cost = direct cost + allocated overheads; tariff =
    full cost / volume.

    Parameters
    ----------
    services : DataFrame
        One row per service with the direct cost, the volume (the unit the
        tariff is paid per) and the driver columns.
    overheads : mapping
        Cost pool → amount (kr), e.g. ``{"management": 2e6, "buildings": 3e6}``.
    drivers : mapping
        Cost pool → driver column.

    Returns
    -------
    DataFrame
        Per service: direct cost, ``overhead_<pool>`` per pool, ``full_cost``,
        ``volume`` and ``tariff``.

    Examples
    --------
    >>> s = pd.DataFrame({"service": ["a", "b"], "direct_cost": [100.0, 300.0],
    ...                   "volume": [10, 20], "hours": [1, 3]})
    >>> tariffs(s, {"admin": 400.0}, {"admin": "hours"})["tariff"].tolist()
    [20.0, 30.0]
    """
    unknown = sorted(set(overheads) ^ set(drivers))
    if unknown:
        raise InputError(
            f"every overhead pool needs a driver and vice versa; check {format_ids(unknown)}"
        )
    check_mapping(overheads, "tariffs(overheads)", nonnegative=True)
    numeric = [direct, volume, *dict.fromkeys(drivers.values())]
    check_columns(
        services, "tariffs(services)", numeric, nonnegative=numeric, positive=[volume], id=service
    )
    out = services[[service, direct]].copy()
    full = services[direct].to_numpy(dtype=float).copy()
    for pool, amount in overheads.items():
        d = services[drivers[pool]].to_numpy(dtype=float)
        if d.sum() <= 0 or np.any(d < 0):
            raise DataError(
                f"driver '{drivers[pool]}' of pool '{pool}' must be non-negative and not all zero"
            )
        part = float(amount) * d / d.sum()
        out[f"overhead_{pool}"] = part
        full += part
    vol = services[volume].to_numpy(dtype=float)
    if np.any(vol <= 0):
        bad = services.loc[vol <= 0, service].tolist()
        raise DataError(f"volume must be positive; it is not for {format_ids(bad)}", column=volume)
    out["full_cost"] = full
    out["volume"] = vol
    out["tariff"] = full / vol
    return out


def carry_over(
    budgets: Sequence[float] | pd.Series | np.ndarray,
    spending: Sequence[float] | pd.Series | np.ndarray,
    *,
    max_surplus_pct: float = 5.0,
    max_deficit_pct: float = 5.0,
    surplus_rate: float = 1.0,
    deficit_rate: float = 1.0,
    years: Sequence[object] | None = None,
) -> pd.DataFrame:
    """Simulate carrying surpluses and deficits from year to year.

    Each year the available amount is the budget plus what was carried in; the
    result is available minus spending. A surplus is carried at
    ``surplus_rate`` up to ``max_surplus_pct`` of the year's budget (the rest
    is forfeited); a deficit is carried at ``deficit_rate`` down to
    ``max_deficit_pct`` of the budget (the rest must be covered in the year,
    e.g. by the unit's own measures or by the funder).

    Returns
    -------
    DataFrame
        Per year: ``budget, carried_in, available, spending, result,
        carried_out, forfeited, to_cover``.

    Examples
    --------
    >>> result = carry_over([100, 100, 100], [90, 112, 95], max_surplus_pct=5, max_deficit_pct=5)
    >>> result["carried_out"].tolist()
    [5.0, -5.0, 0.0]
    """
    b = check_values(budgets, "carry_over(budgets)", nonnegative=True)
    s = check_values(spending, "carry_over(spending)", nonnegative=True)
    for name, v in (("surplus_rate", surplus_rate), ("deficit_rate", deficit_rate)):
        check_number(v, name, low=0, high=1)
    for name, v in (("max_surplus_pct", max_surplus_pct), ("max_deficit_pct", max_deficit_pct)):
        check_number(v, name, low=0)
    if b.shape != s.shape:
        raise InputError(f"budgets ({b.size}) and spending ({s.size}) need one value per year each")
    rows = []
    carried = 0.0
    for i in range(b.size):
        available = b[i] + carried
        result = available - s[i]
        if result >= 0:
            kept = min(result * surplus_rate, b[i] * max_surplus_pct / 100.0)
            forfeited, to_cover, out = result - kept, 0.0, kept
        else:
            carried_deficit = max(result * deficit_rate, -b[i] * max_deficit_pct / 100.0)
            forfeited, to_cover, out = 0.0, carried_deficit - result, carried_deficit
        rows.append(
            {
                "year": years[i] if years is not None else i + 1,
                "budget": b[i],
                "carried_in": carried,
                "available": available,
                "spending": s[i],
                "result": result,
                "carried_out": out,
                "forfeited": forfeited,
                "to_cover": to_cover,
            }
        )
        carried = out
    return pd.DataFrame(rows)


def carry_over_units(
    accounts: pd.DataFrame,
    *,
    unit: str = "unit",
    year: str = "year",
    budget: str = "budget",
    spending: str = "spending",
    **rules: float,
) -> pd.DataFrame:
    """Carry-over for every unit, and its effect on the municipality's total.

    :func:`carry_over` per unit (same ``rules``: ``max_surplus_pct``,
    ``max_deficit_pct``, ``surplus_rate``, ``deficit_rate``), then per year a
    ``total`` row: what the units carry into next year is the municipality's
    liability (a surplus it has promised to let them spend, a deficit it
    expects them to repay); ``forfeited`` returns to the treasury and
    ``to_cover`` must be found in the year.

    Returns
    -------
    DataFrame
        ``unit, year, budget, carried_in, available, spending, result,
        carried_out, forfeited, to_cover``; rows ``unit = "total"`` per year.
    """
    check_columns(
        accounts, "carry_over_units(accounts)", [budget, spending],
        nonnegative=[budget, spending], required=[unit, year],
    )  # fmt: skip
    check_ids(accounts[unit], f"carry_over_units(accounts) column '{unit}'", unique=False)
    dup = accounts.duplicated([unit, year], keep=False)
    if dup.any():
        pairs = accounts.loc[dup, [unit, year]].astype(str).agg(" ".join, axis=1)
        first = format_ids(list(dict.fromkeys(pairs)))
        raise DataError(
            f"carry_over_units(accounts) has more than one row for {first}", column=year
        )
    parts = []
    for u, rows in accounts.sort_values([unit, year]).groupby(unit, sort=True):
        res = carry_over(
            rows[budget].to_numpy(dtype=float),
            rows[spending].to_numpy(dtype=float),
            years=rows[year].tolist(),
            **rules,
        )
        res.insert(0, "unit", str(u))
        parts.append(res)
    per_unit = pd.concat(parts, ignore_index=True)
    total = per_unit.drop(columns="unit").groupby("year", sort=True).sum().reset_index()
    total.insert(0, "unit", "total")
    return pd.concat([per_unit, total], ignore_index=True)


def effect_payments(
    citizens: pd.DataFrame,
    expected: Sequence[float] | pd.Series | np.ndarray,
    *,
    provider: str = "provider",
    outcome: str = "success",
    base_tariff: float,
    bonus: float,
) -> pd.DataFrame:
    """Effect-based payments: a base tariff per citizen plus a bonus per success above expected.

    Parameters
    ----------
    citizens : DataFrame
        One row per citizen served: the provider and the outcome (1 = success).
    expected : array-like
        Each citizen's expected outcome (probability of success) from a
        risk-adjustment model fitted on citizens' characteristics, e.g. a
        person-level logit's predictions.
    base_tariff : float
        Paid per citizen (kr).
    bonus : float
        Paid per success above the expected (kr); negative when a provider
        does worse than its citizens' expected outcome.

    Returns
    -------
    DataFrame
        Per provider: ``citizens, successes, expected_successes,
        success_rate, expected_rate, base, bonus_unadjusted`` (bonus ×
        successes, what a naive effect tariff pays), ``bonus_adjusted``
        (bonus × (successes - expected)), ``payment`` (base + adjusted bonus).
        Under the adjusted rule a provider's expected payment does not depend on
        which citizens it serves: its expected bonus is zero for any mix.
    """
    check_columns(citizens, "effect_payments(citizens)", [outcome], required=[provider])
    check_ids(
        citizens[provider], "effect_payments(citizens) column " + repr(provider), unique=False
    )
    if not citizens[outcome].isin([0, 1]).all():
        raise DataError(f"column '{outcome}' must be 1 (success) or 0", column=outcome)
    check_number(base_tariff, "base_tariff", low=0)
    check_number(bonus, "bonus")
    e = check_values(expected, "effect_payments(expected)")
    if e.shape != (len(citizens),):
        raise InputError(f"expected needs one value per citizen ({len(citizens)}); got {e.shape}")
    if np.any((e < 0) | (e > 1)):
        raise InputError("expected outcomes must be probabilities between 0 and 1")
    y = citizens[outcome].to_numpy(dtype=float)
    frame = pd.DataFrame({"provider": citizens[provider].astype(str).to_numpy(), "y": y, "e": e})
    g = frame.groupby("provider", sort=True).agg(
        citizens=("y", "size"), successes=("y", "sum"), expected_successes=("e", "sum")
    )
    g["success_rate"] = g["successes"] / g["citizens"]
    g["expected_rate"] = g["expected_successes"] / g["citizens"]
    g["base"] = base_tariff * g["citizens"]
    g["bonus_unadjusted"] = bonus * g["successes"]
    g["bonus_adjusted"] = bonus * (g["successes"] - g["expected_successes"])
    g["payment"] = g["base"] + g["bonus_adjusted"]
    return g.reset_index().rename(columns={"provider": provider})
