"""Pools and transition rules: properties over random inputs, and worked examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import needsmodel as nm
from needsmodel.allocation import AllocationPolicy, solve_bounded, transition_path
from needsmodel.errors import AllocationError, InfeasibleRuleError

ROUND = st.sampled_from([1, 10, 100, 1000])


@st.composite
def cases(draw, max_units=25):
    n = draw(st.integers(1, max_units))
    need = draw(st.lists(st.floats(0.0, 1e7, allow_nan=False), min_size=n, max_size=n))
    assume(sum(need) > 0)
    current = draw(st.lists(st.floats(1e3, 1e7, allow_nan=False), min_size=n, max_size=n))
    expo = draw(st.lists(st.floats(1.0, 1e4, allow_nan=False), min_size=n, max_size=n))
    round_to = draw(ROUND)
    scale = draw(st.floats(0.8, 1.2))
    budget = int(sum(current) * scale) // round_to * round_to
    idx = [f"u{i}" for i in range(n)]
    return (
        pd.Series(need, index=idx),
        pd.Series(current, index=idx),
        pd.Series(expo, index=idx),
        budget,
        round_to,
    )


@settings(max_examples=300, deadline=None)
@given(
    case=cases(),
    base=st.floats(0, 1e5),
    pc_pct=st.floats(0, 60),
    loss=st.one_of(st.none(), st.floats(0, 30)),
    gain=st.one_of(st.none(), st.floats(0, 50)),
)
def test_exact_sum_and_bounds_or_named_error(case, base, pc_pct, loss, gain):
    need, current, expo, budget, round_to = case
    try:
        alloc = nm.allocate(
            need,
            budget,
            exposure=expo,
            current=current,
            round_to=round_to,
            base_per_unit=base,
            per_capita_pct=pc_pct,
            max_loss_pct=loss,
            max_gain_pct=gain,
        )
    except InfeasibleRuleError as e:
        # the rule named is really violated: recompute feasibility independently
        floors = (
            [math.ceil(c * (1 - (loss or 0) / 100) / round_to - 1e-9) * round_to for c in current]
            if loss is not None
            else [0] * len(current)
        )
        caps = (
            [math.floor(c * (1 + gain / 100) / round_to + 1e-9) * round_to for c in current]
            if gain is not None
            else None
        )
        pools_too_big = base * len(need) + budget * pc_pct / 100 > budget + 1e-6
        if e.rule == "pools":
            assert pools_too_big
        elif e.rule == "round_to":
            # some unit has no multiple of round_to within its bounds, or the bounds fit the
            # budget until they are rounded to multiples of round_to
            raw_floor = sum(c * (1 - (loss or 0) / 100) for c in current) if loss is not None else 0
            raw_cap = sum(c * (1 + gain / 100) for c in current) if gain is not None else None
            no_multiple = caps is not None and any(f > c for f, c in zip(floors, caps, strict=True))
            floors_rounded = sum(floors) > budget >= raw_floor - 1e-6
            caps_rounded = caps is not None and raw_cap is not None and sum(caps) < budget
            assert no_multiple or floors_rounded or caps_rounded
        elif e.rule == "max_loss_pct":
            assert sum(floors) > budget
        else:
            assert e.rule == "max_gain_pct" and caps is not None and sum(caps) < budget  # noqa: PT017
        return
    a = alloc.table["allocation"].to_numpy()
    assert int(a.sum()) == budget
    assert np.all(a % round_to == 0) and np.all(a >= 0)
    cur = current.to_numpy()
    if loss is not None:
        assert np.all(a >= cur * (1 - loss / 100) - 1e-6)
    if gain is not None:
        assert np.all(a <= cur * (1 + gain / 100) + 1e-6)
    if loss is None and gain is None:
        # without rules the target is paid, up to the rounding unit
        assert np.all(np.abs(a - alloc.table["target"].to_numpy()) <= round_to + 1e-6 * budget)


@settings(max_examples=200, deadline=None)
@given(case=cases(), base=st.floats(0, 1e5))
def test_without_transition_more_need_never_gives_less_money(case, base):
    need, _, _, budget, round_to = case
    assume(base * len(need) <= budget)
    a = (
        nm.allocate(need, budget, round_to=round_to, base_per_unit=base)
        .table["allocation"]
        .to_numpy()
    )
    v = need.to_numpy()
    more = v[:, None] > v[None, :]
    assert np.all((a[:, None] >= a[None, :])[more])


@settings(max_examples=200, deadline=None)
@given(case=cases(), years=st.integers(2, 6))
def test_phase_in_ends_at_the_target(case, years):
    need, current, _, budget, round_to = case
    alloc = nm.allocate(need, budget, current=current, round_to=round_to, phase_in_years=years)
    path = alloc.path
    assert path.shape == (len(need), years)
    final = path.iloc[:, -1].to_numpy()
    direct = nm.allocate(need, budget, round_to=round_to).table["allocation"].to_numpy()
    np.testing.assert_array_equal(final, direct)
    assert (path.sum(axis=0) == budget).all()
    np.testing.assert_array_equal(path.iloc[:, 0].to_numpy(), alloc.table["allocation"].to_numpy())


@settings(max_examples=100, deadline=None)
@given(case=cases(), rate=st.floats(1, 99))
def test_equalisation_moves_part_of_the_way(case, rate):
    need, current, _, budget, round_to = case
    alloc = nm.allocate(need, budget, current=current, round_to=round_to, equalisation_pct=rate)
    t = alloc.table
    scaled = current.to_numpy() * budget / current.sum()
    want = scaled + rate / 100 * (t["target"].to_numpy() - scaled)
    assert np.all(np.abs(t["allocation"].to_numpy() - want) <= round_to + 1e-6 * budget)
    assert int(t["allocation"].sum()) == budget


def test_floors_are_paid_by_capped_gains_worked_example():
    need = pd.Series([10.0, 10.0, 80.0], index=["a", "b", "c"])
    current = pd.Series([40.0, 30.0, 30.0], index=["a", "b", "c"]) * 1000
    alloc = nm.allocate(need, 100_000, current=current, max_loss_pct=10, max_gain_pct=50)
    a = alloc.amounts
    # a and b are held at their floors (36,000 and 27,000); c, capped at 45,000, would
    # leave 100,000 - 108,000 < 0 ... so c takes the rest: 37,000
    assert a.tolist() == [36_000, 27_000, 37_000]
    assert alloc.table["transition"].round().tolist() == [26_000, 17_000, -43_000]


def test_solve_bounded_is_exact():
    rng = np.random.default_rng(1)
    for _ in range(500):
        n = int(rng.integers(1, 40))
        d = rng.random(n) * 100
        cur = rng.random(n) * 100 + 1
        lo, hi = cur * 0.9, cur * 1.1
        total = float(cur.sum() * rng.uniform(0.92, 1.08))
        a = solve_bounded(d, lo, hi, total)
        assert a.sum() == pytest.approx(total, rel=1e-12)
        free = (a > lo + 1e-9) & (a < hi - 1e-9)
        if free.sum() > 1:  # one common factor on the free units
            theta = a[free] / d[free]
            assert np.ptp(theta) <= 1e-9 * theta.max()


def test_infeasible_floors_name_the_rule():
    need = pd.Series([1.0, 1.0])
    current = pd.Series([100.0, 100.0])
    with pytest.raises(
        InfeasibleRuleError,
        match="the floors of max_loss_pct cost 196 kr, more than the budget of 150 kr",
    ) as e:
        nm.allocate(need, 150, current=current, max_loss_pct=2)
    assert e.value.rule == "max_loss_pct"
    with pytest.raises(
        InfeasibleRuleError, match="the caps of max_gain_pct allow at most 220 kr"
    ) as e:
        nm.allocate(need, 300, current=current, max_gain_pct=10)
    assert e.value.rule == "max_gain_pct"
    with pytest.raises(InfeasibleRuleError, match="base pool") as e:
        nm.allocate(need, 100, base_per_unit=60)
    assert e.value.rule == "pools"


def test_pools_split_the_budget():
    need = pd.Series([1.0, 3.0], index=["a", "b"])
    expo = pd.Series([100.0, 300.0], index=["a", "b"])
    alloc = nm.allocate(need, 10_000, exposure=expo, base_per_unit=1000, per_capita_pct=40)
    pools = alloc.pools.set_index("pool")["amount"]
    assert pools.tolist() == [2000.0, 4000.0, 4000.0]
    t = alloc.table.set_index("unit")
    assert t.loc["a", "base_amount"] == 1000 and t.loc["a", "per_capita_amount"] == 1000
    assert t.loc["a", "needs_amount"] == 1000 and t.loc["b", "needs_amount"] == 3000
    assert alloc.amounts.tolist() == [3000, 7000]
    per_pupil = nm.allocate(need, 10_000, exposure=expo, per_capita_amount=5.0)
    assert per_pupil.pools.set_index("pool").loc["per_capita", "amount"] == 2000.0


def test_rules_need_a_current_budget():
    with pytest.raises(AllocationError, match="give current=<current budget per unit>"):
        nm.allocate(pd.Series([1.0]), 100, max_loss_pct=5)


def test_policy_rejects_bad_values():
    with pytest.raises(AllocationError, match="per_capita_pct must be between 0 and 100; got 120"):
        AllocationPolicy(100, per_capita_pct=120)
    with pytest.raises(
        AllocationError, match="give phase_in_years or equalisation_pct below 100, not both"
    ):
        AllocationPolicy(100, phase_in_years=3, equalisation_pct=50)
    with pytest.raises(AllocationError, match="give per_capita_pct or per_capita_amount, not both"):
        AllocationPolicy(100, per_capita_pct=10, per_capita_amount=5)


def test_winners_and_losers_table():
    need = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"])
    current = pd.Series([400.0, 300.0, 300.0], index=["a", "b", "c"])
    wl = nm.allocate(need, 1000, current=current, max_loss_pct=10).winners_and_losers()
    assert list(wl.columns) == [
        "unit",
        "current",
        "current_adjusted",
        "target",
        "allocation",
        "change",
        "change_pct",
        "change_adjusted",
        "transition",
        "reason",
    ]
    assert wl["unit"].tolist() == ["c", "b", "a"]


def test_transition_path_with_caps_moves_gradually():
    target = np.array([200.0, 800.0])
    current = np.array([500.0, 500.0])
    path = transition_path(target, current, 1000.0, years=3, max_loss_pct=20).unrounded
    assert path[0].tolist() == pytest.approx([400.0, 600.0])
    assert path[2].tolist() == pytest.approx(
        [256.0, 744.0]
    )  # 20 % a year from 400, 320: not yet there
