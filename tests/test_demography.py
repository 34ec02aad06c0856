"""Demographic budgets, healthier ageing and the exact decomposition of change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import needsmodel as nm
from needsmodel import demography as D
from needsmodel.errors import DataError, InputError


@pytest.fixture(scope="module")
def pop():
    return nm.datasets.load_elderly_population()


@pytest.fixture(scope="module")
def costs():
    return D.unit_costs(nm.datasets.load_elderly_accounts())


def test_unit_costs_are_cost_over_citizens():
    acc = nm.datasets.load_elderly_accounts()
    c = D.unit_costs(acc)
    assert c.index.tolist() == ["65-69", "70-74", "75-79", "80-84", "85-89", "90+"]
    assert c["80-84"] == pytest.approx(
        acc.set_index("age_band").loc["80-84", "cost"]
        / acc.set_index("age_band").loc["80-84", "citizens"]
    )
    assert c.is_monotonic_increasing


def test_budget_is_sum_of_citizens_times_unit_cost(pop, costs):
    b = D.demographic_budget(pop, costs)
    one = pop[(pop["district"] == "C2") & (pop["year"] == 2027)]
    want = float((one["citizens"] * one["age_band"].map(costs)).sum())
    got = b[(b["district"] == "C2") & (b["year"] == 2027)]["budget"].item()
    assert got == pytest.approx(want, rel=1e-12)
    assert len(b) == 4 * 8


def test_price_index_and_healthier_ageing(pop, costs):
    flat = D.demographic_budget(pop, costs).groupby("year")["budget"].sum()
    priced = D.demographic_budget(pop, costs, price_index=0.02).groupby("year")["budget"].sum()
    np.testing.assert_allclose(priced / flat, 1.02 ** (flat.index - 2025))
    healthy = (
        D.demographic_budget(pop, costs, healthy_years_per_year=0.2).groupby("year")["budget"].sum()
    )
    assert healthy.loc[2025] == pytest.approx(flat.loc[2025])
    assert (healthy.loc[2026:] < flat.loc[2026:]).all()
    assert flat.is_monotonic_increasing  # more and older citizens


def test_shift_is_log_linear_between_midpoints():
    c = pd.Series([1000.0, 4000.0, 16000.0], index=["70-74", "75-79", "80-84"])
    shifted = D.shift_cost_curve(c, 5.0)  # a full group: each takes the cost of the group below
    np.testing.assert_allclose(shifted.to_numpy(), [250.0, 1000.0, 4000.0])
    np.testing.assert_allclose(D.shift_cost_curve(c, 0.0), c)
    half = D.shift_cost_curve(c, 2.5)
    assert half["75-79"] == pytest.approx(2000.0)  # geometric mean of 1000 and 4000


def test_decomposition_adds_up_exactly(pop, costs):
    d = D.decompose_change(pop, costs, 2025, 2026, healthy_years_per_year=0.2, price_index=0.03)
    parts = d["demography"] + d["healthy_ageing"] + d["price"]
    np.testing.assert_allclose(parts, d["change"], rtol=1e-12)
    total = d.set_index("district").loc["total"]
    assert total["demography"] > 0 > total["healthy_ageing"] and total["price"] > 0
    b = (
        D.demographic_budget(pop, costs, healthy_years_per_year=0.2, price_index=0.03)
        .groupby("year")["budget"]
        .sum()
    )
    assert total["budget1"] - total["budget0"] == pytest.approx(
        b.loc[2026] - b.loc[2025], rel=1e-12
    )


def test_decomposition_without_price_or_health_is_all_demography(pop, costs):
    d = D.decompose_change(pop, costs, 2025, 2030)
    np.testing.assert_allclose(d["demography"], d["change"], rtol=1e-12)
    assert (d["price"] == 0).all() and (d["healthy_ageing"] == 0).all()


def test_unit_costs_from_activity():
    act = pd.DataFrame(
        {"age_band": ["65-69", "90+"], "citizens": [100, 10], "hours": [200, 900], "days": [0, 50]}
    )
    c = D.unit_costs_from_activity(act, {"hours": 400.0, "days": 1500.0})
    assert c.tolist() == [800.0, (900 * 400 + 50 * 1500) / 10]


def test_errors(pop, costs):
    with pytest.raises(
        DataError, match="age group\\(s\\) '100\\+' of the population have no unit cost"
    ):
        D.demographic_budget(
            pd.concat(
                [
                    pop,
                    pd.DataFrame(
                        [{"district": "C1", "age_band": "100+", "year": 2025, "citizens": 3}]
                    ),
                ]
            ),
            costs,
        )
    with pytest.raises(InputError, match="not of the form"):
        D.band_midpoints(["old"])
    with pytest.raises(DataError, match="needs column"):
        D.demographic_budget(pop.drop(columns="citizens"), costs)


@pytest.mark.parametrize("price", [0.02, {2025: 1.0, 2030: 1.104}])
def test_absent_rows_and_rows_with_zero_citizens_decompose_alike(pop, costs, price):
    """An empty age group stored as rows of 0 citizens, or not stored at all, is the same."""
    top = pop["age_band"].iloc[-1]  # the oldest age group (90+)
    zeroed = pop.copy()
    first = zeroed["year"] == 2025
    zeroed.loc[first & (zeroed["age_band"] == top), "citizens"] = 0
    absent = zeroed.loc[~(first & (zeroed["age_band"] == top))]
    kwargs = {"healthy_years_per_year": 0.5, "price_index": price, "base_year": 2025}
    with_zeros = D.decompose_change(zeroed, costs, 2025, 2030, **kwargs)
    without = D.decompose_change(absent, costs, 2025, 2030, **kwargs)
    cols = ["budget0", "budget1", "change", "demography", "healthy_ageing", "price"]
    np.testing.assert_allclose(with_zeros[cols], without[cols], rtol=0, atol=0.5)  # to the krone
    total = without.set_index("district").loc["total"]
    assert total["demography"] + total["healthy_ageing"] + total["price"] == pytest.approx(
        total["change"], abs=1e-6
    )
    # the price and healthier-ageing effects of 2030 reach the age group that was empty in 2025
    assert total["price"] > 0 and total["healthy_ageing"] < 0
