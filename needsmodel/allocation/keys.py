"""From need to allocation keys and kroner of a fixed budget."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ..display import DisplayMixin, Summary
from ..errors import AllocationError, InfeasibleRuleError, ZeroCurrentBudgetWarning, format_ids
from .policy import AllocationPolicy
from .rounding import largest_remainder
from .transition import TransitionPath

__all__ = ["KEY_COLUMNS", "REASONS", "Allocation", "allocate", "need_index", "target_amounts"]

#: Columns of :attr:`Allocation.table` and of ``allocation_keys.csv``. The first
#: nine are the keys proper; the rest break the target down and show the
#: transition.
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
    "target",
    "base_amount",
    "per_capita_amount",
    "needs_amount",
    "transition",
    "current_adjusted",
    "change_adjusted",
    "reason",
]

#: Why a unit's allocation differs from its target (the ``reason`` column).
REASONS = ("", "floor", "cap", "pace of change", "phase-in", "equalisation", "budget shortfall")


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
    per = (need / exposure).where(exposure > 0)  # no index for a unit without exposure
    return (per / (need.sum() / exposure.sum())).rename("index")


#: Columns of the winners-and-losers table; the fixed-price ones appear when prices are given.
_WINNERS_LOSERS = (
    "unit", "current", "current_fixed", "current_adjusted", "target", "allocation", "change",
    "change_pct", "change_fixed", "change_fixed_pct", "change_adjusted", "transition", "reason",
)  # fmt: skip


@dataclass(frozen=True, eq=False, repr=False)
class Allocation(DisplayMixin):
    """A budget distributed over units.

    Attributes
    ----------
    table : DataFrame
        One row per unit with the columns in :data:`KEY_COLUMNS`. ``target`` is
        the amount the pools and need give before any transition rule (kr,
        unrounded); ``transition`` is ``allocation - target``. Current-budget
        columns are missing when no current budget is given.
    budget : int
        The distributed budget; ``table["allocation"].sum() == budget``.
    round_to : int
        Rounding unit of the amounts (kr).
    policy : AllocationPolicy
        The rules that were applied.
    pools : DataFrame
        The budget split: base, per-capita and needs pool (kr).
    path : DataFrame or None
        With ``phase_in_years > 1``: the amount of every unit in every year of
        the phase-in (rounded), one column per year.
    details : dict
        Further tables by name (criteria weights, uncertainty, ...).
    transition : TransitionPath or None
        The whole transition (frames, targets, frame-adjusted budgets, floors
        and caps per year) when a transition rule applies.
    years : DataFrame or None
        With several budget years (frames, phase-in): one row per unit and
        year: ``unit, year, frame, exposure, target, amount`` (fixed prices of
        the budget year) and, with a price index, ``price_index`` and
        ``amount_current_prices`` (``amount × price_index`` in exact decimal
        arithmetic, :class:`decimal.Decimal`).
    prices : Series or None
        The price and wage index (PL) by year label, relative to the budget
        year (= 1).
    composition : DataFrame
        What the budget is allocated by: ``part, amount, share_pct``, with the
        parts ``base`` (amounts per unit), ``per_exposure`` (kroner per pupil
        or citizen: the per-capita pool and, for an additive model, its
        intercept) and ``socioeconomic`` (the criteria); without a split of
        the need (:func:`allocate`'s ``per_exposure_need``), ``need`` and
        ``redistributed``, the part of the needs pool that need moves away
        from a plain per-exposure split.

    The table's ``current_adjusted`` is the current budget scaled to the new
    frame, ``change_adjusted`` the change against it (growth of the frame is
    no gain), and ``reason`` says why a unit is not at its target: ``floor``,
    ``cap``, ``pace of change`` (slowed to pay for others' floors or caps),
    ``phase-in``, ``equalisation`` or ``budget shortfall`` (the pace rule could
    not hold; one common factor was used).
    """

    table: pd.DataFrame
    budget: int
    round_to: int
    policy: AllocationPolicy
    pools: pd.DataFrame
    path: pd.DataFrame | None = None
    details: dict[str, Any] | None = None
    transition: TransitionPath | None = None
    composition: pd.DataFrame | None = None
    years: pd.DataFrame | None = None
    prices: pd.Series | None = None

    @property
    def amounts(self) -> pd.Series:
        """Allocated kroner per unit, indexed by unit id."""
        return self.table.set_index("unit")["allocation"]

    @property
    def shares(self) -> pd.Series:
        """Allocation keys (shares of the need, summing to 1)."""
        return self.table.set_index("unit")["share"]

    def winners_and_losers(self) -> pd.DataFrame:
        """Units sorted by change against the current budget, largest gain first.

        Columns: ``unit, current, current_adjusted, target, allocation,
        change, change_pct, change_adjusted, transition, reason``: the change
        against the current budget and against the current budget scaled to
        the new frame (growth of the frame is no gain), what the transition
        rules added or withheld against the target, and why.
        """
        if self.table["current"].isna().all():
            raise AllocationError("no current budget was given, so there are no winners or losers")
        t = self.table
        before = self._previous_price()
        if before is not None:  # and the change in fixed prices
            t = t.assign(current_fixed=t["current"] * before)
            t["change_fixed"] = t["allocation"] - t["current_fixed"]
            with np.errstate(divide="ignore", invalid="ignore"):
                t["change_fixed_pct"] = np.where(
                    t["current_fixed"] > 0, 100.0 * t["change_fixed"] / t["current_fixed"], np.nan
                )
        cols = [c for c in _WINNERS_LOSERS if c in t.columns]
        return t.sort_values(["change", "unit"], ascending=[False, True]).reset_index(drop=True)[
            cols
        ]

    def _previous_price(self) -> float | None:
        """Factor taking the current (last year's) budget to the budget year's prices."""
        if self.prices is None or (self.transition is None and self.years is None):
            return None
        first = self.policy.year_labels[0]
        if not first.isdigit():
            return None
        last_year = str(int(first) - 1)
        if last_year not in self.prices.index:
            return None
        return float(self.prices[first] / self.prices[last_year])

    def with_details(self, **tables: Any) -> Allocation:
        """A copy with further named tables in :attr:`details`."""
        return replace(self, details={**(self.details or {}), **tables})

    def summary(self) -> Summary:
        """Budget, rules, composition and the keys per unit."""
        header = [
            ("Budget", f"{self.budget:,} kr"),
            ("Units", f"{len(self.table):,}"),
            ("Rounded to", f"{self.round_to:,} kr"),
            ("Sum", f"{int(self.table['allocation'].sum()):,} kr"),
        ]
        tables = []
        if self.composition is not None:
            tables.append(("Allocated by", self.composition.set_index("part")))
        cols = ["unit", "exposure", "need", "index", "share", "allocation", "current", "change"]
        shown = self.table[cols].dropna(axis=1, how="all").set_index("unit")
        tables.append(("Keys", shown))
        if self.path is not None:
            tables.append(("Path", self.path))
        return Summary("Allocation", header, tables)

    def _describe(self) -> str:
        return (
            f"{self.budget:,} kr over {len(self.table):,} units in multiples of {self.round_to:,}"
        )


def _check_need(need: pd.Series) -> pd.Series:
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
    return need


def target_amounts(
    need: np.ndarray, exposure: np.ndarray | None, policy: AllocationPolicy
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Split the budget into pools and give each unit its part of each.

    Returns
    -------
    base, per_capita, needs : ndarray
        Each unit's amount from the base, per-capita and needs pool (kr).
    pools : DataFrame
        The pools: ``pool, amount, share_pct, rule``.
    """
    n = need.size
    budget = float(policy.budget)
    base_pool = policy.base_per_unit * n
    if policy.needs_amount is not None:
        return _fixed_needs_pool(need, exposure, policy, base_pool)
    if policy.per_capita_amount is not None or policy.per_capita_pct:
        if exposure is None:
            raise AllocationError("a per-capita pool needs an exposure (pupils, citizens)")
        total_expo = float(exposure.sum())
        if policy.per_capita_amount is not None:
            pc_pool = policy.per_capita_amount * total_expo
            pc_rule = f"{policy.per_capita_amount:,.2f} kr per unit of exposure"
        else:
            pc_pool = budget * policy.per_capita_pct / 100.0
            pc_rule = f"{policy.per_capita_pct:g}% of the budget by exposure"
        per_capita = pc_pool * exposure / total_expo
    else:
        pc_pool, pc_rule = 0.0, "none"
        per_capita = np.zeros(n)
    needs_pool = budget - base_pool - pc_pool
    if needs_pool < -1e-6:
        raise InfeasibleRuleError(
            f"the base pool ({base_pool:,.0f} kr) and the per-capita pool ({pc_pool:,.0f} kr) "
            f"together exceed the budget of {budget:,.0f} kr",
            rule="pools",
        )
    needs_pool = max(needs_pool, 0.0)
    pools = _pools_frame(
        budget,
        (base_pool, pc_pool, needs_pool),
        (
            f"{policy.base_per_unit:,.0f} kr per unit" if policy.base_per_unit else "none",
            pc_rule,
            "by estimated need",
        ),
    )
    return (
        np.full(n, float(policy.base_per_unit)),
        per_capita,
        needs_pool * need / need.sum(),
        pools,
    )


def _pools_frame(
    budget: float, amounts: tuple[float, float, float], rules: tuple[str, str, str]
) -> pd.DataFrame:
    """The pools table: base, per-capita and needs pool with amount, share and rule."""
    return pd.DataFrame(
        {
            "pool": ["base", "per_capita", "needs"],
            "amount": list(amounts),
            "share_pct": [100.0 * v / budget if budget else np.nan for v in amounts],
            "rule": list(rules),
        }
    )


def _fixed_needs_pool(
    need: np.ndarray, exposure: np.ndarray | None, policy: AllocationPolicy, base_pool: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Pools when the needs pool has a fixed size: each unit is paid its need as stated, the
    per-capita pool takes the rest of the budget (the base pool when there is no exposure)."""
    n = need.size
    budget = float(policy.budget)
    needs_pool = float(policy.needs_amount or 0.0)
    rest = budget - base_pool - needs_pool
    if rest < -1e-6 * max(budget, 1.0):
        raise InfeasibleRuleError(
            f"criteria_amounts pay {needs_pool:,.0f} kr (kroner per counted person times the "
            f"persons counted) and the base pool {base_pool:,.0f} kr: together more than the "
            f"budget of {budget:,.0f} kr",
            rule="criteria_amounts",
        )
    rest = max(rest, 0.0)
    base = np.full(n, float(policy.base_per_unit))
    per_capita = np.zeros(n)
    pc_pool = 0.0
    if exposure is not None and float(np.sum(exposure)) > 0:
        pc_pool = rest
        per_capita = rest * exposure / float(np.sum(exposure))
    elif rest > 0:  # no exposure: the rest is shared equally as base amounts
        base = base + rest / n
        base_pool += rest
    needs = need * (needs_pool / need.sum()) if need.sum() > 0 else np.zeros(n)
    pools = _pools_frame(
        budget,
        (base_pool, pc_pool, needs_pool),
        (
            f"{policy.base_per_unit:,.0f} kr per unit" if base_pool else "none",
            "the rest of the budget by exposure" if pc_pool else "none",
            "criteria amounts as stated",
        ),
    )
    return base, per_capita, needs, pools


def allocate(
    need: pd.Series,
    budget: int | AllocationPolicy,
    *,
    exposure: pd.Series | None = None,
    current: pd.Series | None = None,
    round_to: int = 1,
    per_exposure_need: pd.Series | None = None,
    exposure_path: pd.DataFrame | None = None,
    need_rate: pd.Series | None = None,
    prices: Mapping[str, float] | pd.Series | None = None,
    **rules: Any,
) -> Allocation:
    """Distribute a fixed budget by need, with optional pools and transition rules.

    need → need index → share → target (base + per-capita + needs pool) →
    transition (equalisation, phase-in, floors and caps, all budget-neutral) →
    kroner rounded to ``round_to`` by largest remainder, summing to the budget
    exactly.

    Parameters
    ----------
    need : Series
        Predicted need per unit (kr), indexed by unit id.
    budget : int or AllocationPolicy
        The budget (kr), or a whole policy.
    exposure : Series, optional
        Exposure per unit, for the need index and a per-capita pool.
    current : Series, optional
        Current budget per unit, for the change and the transition rules.
    round_to : int
        Rounding unit (kr) when ``budget`` is a number.
    per_exposure_need : Series, optional
        The part of each unit's need that is money per unit of exposure and
        no socioeconomic criterion: the intercept of an additive per-capita
        model (see :func:`~needsmodel.allocation.criteria.intercept_need`).
        Its share of the needs pool is reported, and shown per unit, as paid
        per exposure; the rest is the socioeconomic pool. The amounts do not
        change.
    exposure_path : DataFrame, optional
        Several budget years: exposure per unit (rows) and year label
        (columns), e.g. a pupil forecast. Need per unit of exposure is kept
        and multiplied by the year's exposure; per-capita pools follow it.
    need_rate : Series, optional
        With ``exposure_path``: need per unit of exposure by unit, from the
        model (default: ``need / exposure``, which is 0 for a unit without
        exposure in the budget year, so it would stay at 0 in later years).
    prices : mapping or Series, optional
        Price and wage index (PL) by year label; amounts are in fixed prices
        of the first budget year and shown in current prices as
        ``amount × index / index[first year]``.
    **rules
        Further :class:`AllocationPolicy` fields when ``budget`` is a number:
        ``base_per_unit``, ``per_capita_pct``, ``per_capita_amount``,
        ``max_loss_pct``, ``max_gain_pct``, ``equalisation_pct``,
        ``phase_in_years``.

    Returns
    -------
    Allocation

    Raises
    ------
    AllocationError
        If a unit's need is negative or missing, or a rule needs a current
        budget that is not given.
    InfeasibleRuleError
        If the rules cannot all hold within the budget; ``.rule`` names the one.

    Examples
    --------
    >>> need = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"])
    >>> allocate(need, 1000).amounts.tolist()
    [167, 333, 500]
    >>> current = pd.Series([400.0, 300.0, 300.0], index=["a", "b", "c"])
    >>> allocate(need, 1000, current=current, max_loss_pct=10).amounts.tolist()
    [360, 306, 334]

    ``a`` is held at its floor (360); the 193 kr that costs are taken by
    slowing the two gainers by the same fraction of their distance to target.
    """
    policy = (
        budget
        if isinstance(budget, AllocationPolicy)
        else AllocationPolicy(
            budget=int(budget) if float(budget) == int(budget) else budget,
            round_to=round_to,
            **rules,
        )
    )
    need = _check_need(need)
    index = need.index
    expo = exposure.reindex(index).astype(float) if exposure is not None else None
    if expo is not None and expo.isna().any():
        raise AllocationError(f"exposure is missing for unit(s) {format_ids(index[expo.isna()])}")
    cur = current.reindex(index).astype(float) if current is not None else None
    if cur is not None and cur.isna().any():
        raise AllocationError(
            f"current budget is missing for unit(s) {format_ids(index[cur.isna()])}"
        )
    if cur is not None and (cur < 0).any():
        raise AllocationError(
            f"the current budget is negative for unit(s) {format_ids(index[cur < 0])}; a "
            "current budget is money a unit has, zero or more",
            field="current",
        )
    if cur is not None and policy.max_gain_pct is not None and (cur == 0).any():
        warnings.warn(
            f"unit(s) {format_ids(index[cur == 0])} have a current budget of 0 kr: the cap of "
            f"{policy.max_gain_pct:g} % holds them at 0 kr every year; give new units a "
            "current budget, or drop max_gain_pct",
            ZeroCurrentBudgetWarning,
            stacklevel=2,
        )
    if policy.has_transition and cur is None:
        raise AllocationError(
            "transition rules (max_loss_pct, max_gain_pct, equalisation_pct, phase_in_years) "
            "work against the current budget; give current=<current budget per unit>"
        )
    base, per_capita, needs, pools = target_amounts(
        need.to_numpy(), expo.to_numpy() if expo is not None else None, policy
    )
    target = base + per_capita + needs
    rate = need_rate.reindex(index).astype(float) if need_rate is not None else None
    targets, expo_years = _year_targets(need, expo, exposure_path, policy, target, rate)
    path = None
    transition = None
    units = pd.Index(index.astype(str), name="unit")
    if policy.has_transition:
        assert cur is not None
        transition = policy.path(targets, cur.to_numpy(), need.to_numpy())
        amounts = transition.amounts[0]
        published = transition.amounts
    else:
        published = np.vstack(
            [
                largest_remainder(t, f, policy.round_to, need.to_numpy())
                for t, f in zip(targets, policy.year_frames, strict=True)
            ]
        )
        amounts = published[0]
    if policy.n_years > 1:
        path = pd.DataFrame(
            published.T.astype(float), index=units, columns=list(policy.year_labels)
        )
    index_by_year = _price_index(prices, policy)
    share = need / need.sum()
    table = pd.DataFrame(
        {
            "unit": index.astype(str),
            "exposure": expo.to_numpy() if expo is not None else np.nan,
            "need": need.to_numpy(),
            "index": need_index(need, expo).to_numpy(),
            "share": share.to_numpy(),
            "allocation": amounts,
        }
    )
    if cur is None:
        table["current"] = np.nan
        table["change"] = np.nan
        table["change_pct"] = np.nan
    else:
        c = cur.to_numpy()
        table["current"] = c
        table["change"] = table["allocation"] - c
        with np.errstate(divide="ignore", invalid="ignore"):
            table["change_pct"] = np.where(c > 0, 100.0 * table["change"] / c, np.nan)
    table["target"] = target
    table["base_amount"] = base
    table["per_capita_amount"] = per_capita
    table["needs_amount"] = needs
    table["transition"] = table["allocation"] - target
    composition = _composition(pools, need, expo, per_exposure_need, table, float(policy.budget))
    if cur is None:
        table["current_adjusted"] = np.nan
    elif transition is not None:
        table["current_adjusted"] = transition.start[0]
    else:
        c = cur.to_numpy()
        table["current_adjusted"] = c * (policy.budget / c.sum()) if c.sum() > 0 else np.nan
    table["change_adjusted"] = table["allocation"] - table["current_adjusted"]
    table["reason"] = _reasons(table, policy, transition)
    return Allocation(
        table=table[KEY_COLUMNS],
        budget=int(policy.budget),
        round_to=int(policy.round_to),
        policy=policy,
        pools=pools,
        path=path,
        details={},
        transition=transition,
        composition=composition,
        years=_years_table(units, policy, targets, published, expo_years, index_by_year)
        if policy.n_years > 1 or index_by_year is not None
        else None,
        prices=index_by_year,
    )


def _year_targets(
    need: pd.Series,
    expo: pd.Series | None,
    exposure_path: pd.DataFrame | None,
    policy: AllocationPolicy,
    first: np.ndarray,
    rate: pd.Series | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Targets of every budget year (years × units), and the exposure used each year."""
    labels, frames = policy.year_labels, policy.year_frames
    if exposure_path is not None and expo is None:
        raise AllocationError("an exposure forecast needs the exposure of the budget year")
    expo_years = None
    if expo is not None:
        expo_years = np.tile(expo.to_numpy(dtype=float), (policy.n_years, 1))
    if exposure_path is not None and expo is not None:
        missing_years = [y for y in labels[1:] if y not in exposure_path.columns]
        if missing_years:
            raise AllocationError(
                f"the exposure forecast has no column for year(s) {format_ids(missing_years)}; "
                f"it has {format_ids(list(exposure_path.columns))}"
            )
        ahead = exposure_path.reindex(need.index)
        gaps = ahead[list(labels[1:])].isna().any(axis=1)
        if gaps.any():
            raise AllocationError(
                f"the exposure forecast is missing for unit(s) {format_ids(need.index[gaps])}"
            )
        for t, y in enumerate(labels[1:], start=1):
            assert expo_years is not None
            expo_years[t] = ahead[y].to_numpy(dtype=float)
    rows = [first]
    for t in range(1, policy.n_years):
        need_t = need.to_numpy(dtype=float)
        expo_t = expo_years[t] if expo_years is not None else None
        if exposure_path is not None and expo is not None and expo_t is not None:
            if rate is not None:
                per = rate.to_numpy(dtype=float)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    per = np.where(expo.to_numpy() > 0, need_t / expo.to_numpy(), 0.0)
            need_t = per * expo_t
        year_policy = replace(
            policy, budget=frames[t], frames=(), labels=(), phase_in_years=1, equalisation_pct=100
        )
        if policy.needs_amount is not None:  # amounts as stated, on the year's own counts
            year_policy = replace(year_policy, needs_amount=float(need_t.sum()))
        b, pc, nd, _ = target_amounts(need_t, expo_t, year_policy)
        rows.append(b + pc + nd)
    return np.vstack(rows), expo_years


def _price_index(
    prices: Mapping[str, float] | pd.Series | None, policy: AllocationPolicy
) -> pd.Series | None:
    """The PL index by year label relative to the first budget year, as Decimals."""
    if prices is None:
        return None
    raw = {str(k): v for k, v in dict(prices).items()}
    labels = policy.year_labels
    missing_years = [y for y in labels if y not in raw]
    if missing_years:
        raise AllocationError(
            f"the price index has no value for year(s) {format_ids(missing_years)}"
        )
    bad = [k for k, v in raw.items() if not np.isfinite(float(v)) or float(v) <= 0]
    if bad:
        raise AllocationError(f"the price index must be positive; not for {format_ids(bad)}")
    base = Decimal(str(raw[labels[0]]))
    return pd.Series(
        {k: Decimal(str(v)) / base for k, v in sorted(raw.items())}, dtype=object, name="index"
    )


def _years_table(
    units: pd.Index,
    policy: AllocationPolicy,
    targets: np.ndarray,
    published: np.ndarray,
    expo_years: np.ndarray | None,
    prices: pd.Series | None,
) -> pd.DataFrame:
    frames = policy.year_frames
    rows = []
    for t, year in enumerate(policy.year_labels):
        part = pd.DataFrame(
            {
                "unit": units.to_numpy(),
                "year": year,
                "frame": frames[t],
                "exposure": expo_years[t] if expo_years is not None else np.nan,
                "target": targets[t],
                "amount": published[t].astype(np.int64),
            }
        )
        if prices is not None:
            idx = prices[year]
            part["price_index"] = float(idx)
            part["amount_current_prices"] = [Decimal(int(a)) * idx for a in part["amount"]]
        rows.append(part)
    return pd.concat(rows, ignore_index=True)


def _composition(
    pools: pd.DataFrame,
    need: pd.Series,
    expo: pd.Series | None,
    per_exposure_need: pd.Series | None,
    table: pd.DataFrame,
    budget: float,
) -> pd.DataFrame:
    """What the budget is allocated by (see :attr:`Allocation.composition`)."""
    amount = pools.set_index("pool")["amount"]
    base, per_capita, needs = (float(amount[p]) for p in ("base", "per_capita", "needs"))
    total = float(need.sum())
    if per_exposure_need is not None:
        pe = per_exposure_need.reindex(need.index).astype(float)
        if pe.isna().any():
            raise AllocationError(
                f"per_exposure_need is missing for unit(s) {format_ids(need.index[pe.isna()])}"
            )
        moved = needs * pe.to_numpy() / total
        table["per_capita_amount"] = table["per_capita_amount"] + moved
        table["needs_amount"] = table["needs_amount"] - moved
        pe_pool = float(moved.sum())
        rows = [
            ("base", base),
            ("per_exposure", per_capita + pe_pool),
            ("socioeconomic", needs - pe_pool),
        ]
    else:
        rows = [("base", base), ("per_exposure", per_capita), ("need", needs)]
        if expo is not None and expo.sum() > 0:
            e = expo.to_numpy() / float(expo.sum())
            gap = needs * (need.to_numpy() / total - e)
            rows.append(("redistributed", float(gap[gap > 0].sum())))
    return pd.DataFrame(
        {
            "part": [r[0] for r in rows],
            "amount": [r[1] for r in rows],
            "share_pct": [100.0 * r[1] / budget if budget else np.nan for r in rows],
        }
    )


def _reasons(
    table: pd.DataFrame, policy: AllocationPolicy, transition: TransitionPath | None
) -> list[str]:
    """Why each unit's allocation (this year) is not its target."""
    if transition is None:
        return [""] * len(table)
    a = table["allocation"].to_numpy(dtype=float)
    gap = a - table["target"].to_numpy(dtype=float)
    lo, hi = transition.lower[0], transition.upper[0]
    step = transition.steps[0] if transition.steps else None
    if step is not None and step.fallback:
        slowed = "budget shortfall"
    elif policy.phase_in_years > 1:
        slowed = "phase-in"
    elif policy.equalisation_pct < 100:
        slowed = "equalisation"
    else:
        slowed = "pace of change"
    out = []
    for i, g in enumerate(gap):
        if abs(g) < policy.round_to:
            out.append("")
        elif policy.has_caps and a[i] <= lo[i] and g > 0:
            out.append("floor")
        elif policy.has_caps and a[i] >= hi[i] and g < 0:
            out.append("cap")
        else:
            out.append(slowed)
    return out
