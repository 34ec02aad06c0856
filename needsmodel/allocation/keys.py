"""From need to allocation keys and kroner of a fixed budget."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AllocationError, InfeasibleRuleError, format_ids
from .policy import AllocationPolicy
from .rounding import largest_remainder
from .transition import bounds, path_frame

__all__ = ["KEY_COLUMNS", "Allocation", "allocate", "need_index", "target_amounts"]

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
    """

    table: pd.DataFrame
    budget: int
    round_to: int
    policy: AllocationPolicy
    pools: pd.DataFrame
    path: pd.DataFrame | None = None
    details: dict[str, Any] | None = None

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

        Columns: ``unit, current, target, allocation, change, change_pct,
        transition`` (what the transition rules added or withheld against the
        target).
        """
        if self.table["current"].isna().all():
            raise AllocationError("no current budget was given, so there are no winners or losers")
        cols = ["unit", "current", "target", "allocation", "change", "change_pct", "transition"]
        return self.table.sort_values(["change", "unit"], ascending=[False, True]).reset_index(
            drop=True
        )[cols]

    def with_details(self, **tables: Any) -> Allocation:
        """A copy with further named tables in :attr:`details`."""
        return replace(self, details={**(self.details or {}), **tables})

    def _repr_html_(self) -> str:
        return str(self.table.to_html(index=False, float_format=lambda v: f"{v:,.4g}", border=0))


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
    pools = pd.DataFrame(
        {
            "pool": ["base", "per_capita", "needs"],
            "amount": [base_pool, pc_pool, needs_pool],
            "share_pct": [
                100.0 * v / budget if budget else np.nan for v in (base_pool, pc_pool, needs_pool)
            ],
            "rule": [
                f"{policy.base_per_unit:,.0f} kr per unit" if policy.base_per_unit else "none",
                pc_rule,
                "by estimated need",
            ],
        }
    )
    return (
        np.full(n, float(policy.base_per_unit)),
        per_capita,
        needs_pool * need / need.sum(),
        pools,
    )


def allocate(
    need: pd.Series,
    budget: int | AllocationPolicy,
    *,
    exposure: pd.Series | None = None,
    current: pd.Series | None = None,
    round_to: int = 1,
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
    [360, 270, 370]
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
    if policy.has_transition and cur is None:
        raise AllocationError(
            "transition rules (max_loss_pct, max_gain_pct, equalisation_pct, phase_in_years) "
            "work against the current budget; give current=<current budget per unit>"
        )
    base, per_capita, needs, pools = target_amounts(
        need.to_numpy(), expo.to_numpy() if expo is not None else None, policy
    )
    target = base + per_capita + needs
    path = None
    if policy.has_transition:
        assert cur is not None
        steps = policy.path(target, cur.to_numpy())
        unrounded = steps[0]
        if policy.phase_in_years > 1:
            rounded = np.vstack(
                [
                    largest_remainder(s, policy.budget, policy.round_to, need.to_numpy())
                    for s in steps
                ]
            )
            path = path_frame(rounded.astype(float), pd.Index(index.astype(str), name="unit"))
    else:
        unrounded = target
    lo = hi = None
    if policy.has_caps:
        assert cur is not None
        lo, hi = bounds(cur.to_numpy(), policy.max_loss_pct, policy.max_gain_pct, policy.round_to)
        unrounded = np.clip(unrounded, lo, hi)
    amounts = largest_remainder(
        unrounded, policy.budget, policy.round_to, need.to_numpy(), lower=lo, upper=hi
    )
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
    return Allocation(
        table=table[KEY_COLUMNS],
        budget=int(policy.budget),
        round_to=int(policy.round_to),
        policy=policy,
        pools=pools,
        path=path,
        details={},
    )
