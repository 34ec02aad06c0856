"""Effect tariffs with a fixed, risk-adjusted expectation; capacity budgets; result-based funding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import needsmodel as nm
from needsmodel import capacity, funding
from needsmodel import effect_tariffs as et
from needsmodel import result_funding as rf
from needsmodel.datasets._care import CARE_TRUTH, expected_progression_true
from needsmodel.errors import InputError


@pytest.fixture(scope="module")
def care():
    data = nm.datasets.load_care_for_you()
    history = data[data["year"] < 2026]
    now = data[data["year"] == 2026].reset_index(drop=True)
    risk = et.fit_risk_model(
        history,
        ["age", "level_intake", "diagnosis", "own_home"],
        reference={"diagnosis": "psychiatric"},
    )
    return history, now, risk


def test_the_risk_model_is_fitted_on_earlier_years_and_recovers_the_truth(care):
    _, _, risk = care
    t = risk.tidy()
    truth = {"age": 3 * CARE_TRUTH["age_over_45"], "own_home": 3 * CARE_TRUTH["own_home"],
             "level_intake": -3 * CARE_TRUTH["level_below_5"]}  # fmt: skip
    for term, value in truth.items():
        assert t.loc[term, "ci_low"] <= value <= t.loc[term, "ci_high"], term
    # the intercept is on the progression scale, not the shifted one
    assert t.loc["Intercept", "estimate"] == pytest.approx(
        risk.results.params["Intercept"] - 1.0, rel=1e-12
    )


def test_payment_is_the_tariff_when_progression_is_as_expected(care):
    _, now, risk = care
    e = risk.predict(now).to_numpy()
    s = et.settle(now.assign(progression=e), e, bonus_per_step=50_000)
    np.testing.assert_allclose(s["payment"], s["tariff"], rtol=1e-12)
    # one more step for everyone: the bonus rises by exactly bonus × citizens
    s0 = et.settle(now, e, bonus_per_step=50_000).set_index("provider")
    s1 = et.settle(now.assign(progression=now["progression"] + 1), e, bonus_per_step=50_000)
    assert s1.set_index("provider").loc["total", "bonus"] - s0.loc[
        "total", "bonus"
    ] == pytest.approx(50_000 * len(now))


def test_cream_skimming_gains_nothing_after_risk_adjustment(care):
    _, now, risk = care
    e = risk.predict(now).to_numpy()
    chosen = np.argsort(-e)[:100]
    a = et.selection_advantage(now, e, e, chosen, bonus_per_step=50_000, draws=3000)
    assert abs(a.adjusted) < 3 * a.adjusted_se
    assert a.naive > 10 * a.naive_se
    truth = expected_progression_true(now, provider_effect=False)
    b = et.selection_advantage(now, e, truth, chosen, bonus_per_step=50_000, draws=3000)
    assert abs(b.adjusted) < 0.1 * b.naive


def test_simulated_budget_risk_is_centred_on_the_tariffs(care):
    _, now, risk = care
    e = risk.predict(now).to_numpy()
    sim = et.simulate_total(e, now["tariff"], bonus_per_step=50_000, draws=4000)
    se = sim["payment"].std(ddof=1) / np.sqrt(len(sim))
    assert abs(sim["payment"].mean() - now["tariff"].sum()) < 4 * se


def test_price_bonus_and_bids():
    assert et.price_bonus(100_000, years=1, discount_rate=0.0, share=0.5) == pytest.approx(50_000)
    assert et.price_bonus(100_000, years=2, discount_rate=0.1, share=1.0) == pytest.approx(
        100_000 / 1.1 + 100_000 / 1.21
    )
    with pytest.raises(InputError, match="share must be between 0 and 1"):
        et.price_bonus(1.0, share=2)
    bids = pd.DataFrame({"bidder": ["A", "B"], "price": [100.0, 102.0], "bonus_share": [0.0, 0.5]})
    t = et.compare_bids(bids, citizens=10, avoided_value_per_step=20.0, uplift=(0.0, 0.5))
    assert t["net_cost_0"].tolist() == [1000.0, 1020.0]
    # with 0.5 extra steps per citizen: A pays 1000 and saves 100; B pays 1020 + 10 × 10 × 0.5
    assert t["net_cost_0.5"].tolist() == [900.0, 970.0]


def test_baseline_ceiling_and_worst_case():
    p = pd.DataFrame({"provider": ["A", "B"], "activity": [130, 90], "baseline": [100, 100]})
    s = funding.baseline_settlement(p, tariff=1000, marginal_rate=0.5, ceiling_pct=10)
    a = s.set_index("provider").loc["A"]
    assert a["paid_deviation"] == 10 and a["unpaid_activity"] == 20
    assert a["payment"] == 100_000 + 0.5 * 1000 * 10
    w = funding.baseline_worst_case(p, tariff=1000, marginal_rate=0.5, ceiling_pct=10)
    assert w["max_extra_payment"].tolist() == [5000.0, 5000.0, 10000.0]
    assert np.isinf(funding.baseline_worst_case(p, tariff=1000)["max_extra_payment"].iloc[0])


def test_carry_over_units_totals():
    acc = pd.DataFrame({"unit": ["a", "a", "b", "b"], "year": [1, 2, 1, 2],
                        "budget": [100.0, 100.0, 50.0, 50.0], "spending": [90.0, 104.0, 55.0, 40.0]})  # fmt: skip
    out = funding.carry_over_units(acc, max_surplus_pct=5, max_deficit_pct=5)
    tot = out[out["unit"] == "total"].set_index("year")
    per = out[out["unit"] != "total"].groupby("year")["carried_out"].sum()
    assert tot["carried_out"].tolist() == per.tolist()


def test_capacity_budget_moves_the_occupancy_risk():
    c = pd.DataFrame({"category": ["A"], "places": [10], "tariff": [100.0], "occupied": [8.0]})
    none = capacity.capacity_budget(c, planned_occupancy=1.0, empty_rate=0.0, fixed_share=0.6)
    full = capacity.capacity_budget(c, planned_occupancy=1.0, empty_rate=0.6, fixed_share=0.6)
    assert none.loc[0, "provider_result"] == pytest.approx(-2 * 100 * 0.6)  # fixed cost unpaid
    assert full.loc[0, "provider_result"] == pytest.approx(0.0)
    assert full.loc[0, "deviation"] == pytest.approx(-2 * 100 * 0.4)
    with pytest.raises(InputError, match="between 0 and the places bought"):
        capacity.capacity_budget(c.assign(occupied=11.0))


def test_result_funding_pot_is_zero_sum():
    s = pd.DataFrame({"school": ["A", "B"], "active": [10, 30], "completed": [5, 5]})
    rates = {"active": 2.0, "completed": 4.0}
    open_ended = rf.result_funding(s, rates)
    assert open_ended["total"].tolist() == [40.0, 80.0, 120.0]
    pot = rf.result_funding(s, rates, pot=240)
    assert pot["total"].tolist() == [80.0, 160.0, 240.0]
    assert rf.marginal_gains(s, rates, pot=240)["completed"] == pytest.approx(8.0)
