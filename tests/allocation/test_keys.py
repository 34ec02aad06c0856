"""Need → index → shares → kroner that sum exactly to the budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import needsmodel as nm
from needsmodel.errors import AllocationError

needs = st.lists(
    st.floats(min_value=0.0, max_value=1e8, allow_nan=False), min_size=1, max_size=60
).filter(lambda v: sum(v) > 0)
round_tos = st.sampled_from([1, 10, 100, 500, 1000, 5000, 10_000])


@settings(max_examples=300, deadline=None)
@given(need=needs, units_of_budget=st.integers(min_value=0, max_value=10**6), round_to=round_tos)
def test_amounts_sum_exactly_to_the_budget(need, units_of_budget, round_to):
    budget = units_of_budget * round_to
    alloc = nm.allocate(pd.Series(need), budget, round_to=round_to)
    amounts = alloc.table["allocation"].to_numpy()
    assert amounts.dtype == np.int64
    assert int(amounts.sum()) == budget
    assert np.all(amounts % round_to == 0)
    assert np.all(amounts >= 0)
    # never more than one rounding unit away from the exact share
    exact = np.asarray(need) / sum(need) * budget
    assert np.all(np.abs(amounts - exact) <= round_to + 1e-6 * budget)


@settings(max_examples=200, deadline=None)
@given(need=needs, budget=st.integers(min_value=1, max_value=10**10), round_to=round_tos)
def test_more_need_never_gives_less_money(need, budget, round_to):
    budget -= budget % round_to
    alloc = nm.allocate(pd.Series(need), budget, round_to=round_to)
    amounts = alloc.table["allocation"].to_numpy()
    v = np.asarray(need)
    more = v[:, None] > v[None, :]
    assert np.all((amounts[:, None] >= amounts[None, :])[more])


@settings(max_examples=200, deadline=None)
@given(data=st.lists(st.tuples(st.floats(1.0, 1e7), st.floats(1.0, 1e4)), min_size=1, max_size=40))
def test_index_has_exposure_weighted_mean_one(data):
    need = pd.Series([d[0] for d in data])
    exposure = pd.Series([d[1] for d in data])
    index = nm.need_index(need, exposure)
    assert np.average(index, weights=exposure) == pytest.approx(1.0, rel=1e-9)


def test_largest_remainder_examples():
    assert nm.largest_remainder([1 / 3, 1 / 3, 1 / 3], 1).tolist() == [1, 0, 0]
    assert nm.largest_remainder([0.4, 0.6], 1).tolist() == [0, 1]
    assert nm.largest_remainder([2.5, 2.5, 5.0], 10).tolist() == [3, 2, 5]
    assert nm.largest_remainder([333.4, 333.3, 333.3], 1000, round_to=100).tolist() == [
        400,
        300,
        300,
    ]


def test_allocation_table_and_change(sample_units):
    units = sample_units.set_index("district")
    need = units["special_ed_cost"].astype(float)
    alloc = nm.allocate(
        need, 130_000_000, exposure=units["pupils"], current=units["budget_current"], round_to=1000
    )
    t = alloc.table
    assert list(t.columns) == nm.allocate.__globals__["KEY_COLUMNS"]
    assert t["share"].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(t["change"], t["allocation"] - t["current"])
    np.testing.assert_allclose(t["change_pct"], 100 * t["change"] / t["current"])
    wl = alloc.winners_and_losers()
    assert wl["change"].is_monotonic_decreasing
    assert alloc.amounts.index.tolist() == units.index.tolist()


def test_negative_need_is_refused():
    with pytest.raises(AllocationError, match="predicted need is negative for unit\\(s\\) 'b'"):
        nm.allocate(pd.Series([5.0, -1.0], index=["a", "b"]), 100)


def test_budget_must_be_a_multiple_of_round_to():
    with pytest.raises(AllocationError, match="not a multiple of round_to 1000"):
        nm.allocate(pd.Series([1.0, 2.0]), 10_500, round_to=1000)


def test_without_current_budget_there_are_no_winners():
    alloc = nm.allocate(pd.Series([1.0, 2.0]), 300)
    assert alloc.table["current"].isna().all()
    with pytest.raises(AllocationError, match="no current budget"):
        alloc.winners_and_losers()
