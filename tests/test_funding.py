"""Baseline model, tariffs, carry-over and effect tariffs, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import needsmodel as nm
from needsmodel.errors import InputError
from needsmodel.funding import baseline_settlement, carry_over, effect_payments, tariffs


def test_baseline_settlement_by_hand():
    p = pd.DataFrame(
        {"provider": ["A", "B", "C"], "activity": [1200, 900, 1000], "baseline": [1000, 1000, 1000]}
    )
    s = baseline_settlement(p, tariff=2_000, marginal_rate=0.4, refund_rate=0.6).set_index(
        "provider"
    )
    # A: 200 above at 40 % of 2,000 = 160,000; B: 100 below refunded at 60 % = -120,000
    assert (
        s.loc["A", "adjustment"] == 160_000
        and s.loc["B", "adjustment"] == -120_000
        and s.loc["C", "adjustment"] == 0
    )
    assert s.loc["A", "payment"] == 2_000_000 + 160_000
    assert s.loc["A", "pure_tariff"] == 2_400_000 and s.loc["B", "pure_frame"] == 2_000_000
    assert s.loc["total", "budget_effect"] == 40_000
    # the baseline model lies between frame and tariff for every provider
    inner = s.drop(index="total")
    lo = inner[["pure_tariff", "pure_frame"]].min(axis=1)
    hi = inner[["pure_tariff", "pure_frame"]].max(axis=1)
    assert ((inner["payment"] >= lo) & (inner["payment"] <= hi)).all()


def test_baseline_with_own_tariffs_and_frames():
    p = pd.DataFrame(
        {
            "provider": ["A"],
            "activity": [50],
            "baseline": [40],
            "tariff": [100.0],
            "frame": [5_000.0],
        }
    )
    s = baseline_settlement(p, tariff="tariff", frame="frame", marginal_rate=1.0)
    assert s["payment"].iloc[0] == 5_000 + 1_000


def test_tariffs_allocate_overheads_by_driver():
    s = pd.DataFrame(
        {
            "service": ["day", "night"],
            "direct_cost": [600_000.0, 400_000.0],
            "volume": [1000, 500],
            "hours": [3000, 1000],
            "m2": [100, 300],
        }
    )
    t = tariffs(
        s, {"admin": 200_000.0, "buildings": 400_000.0}, {"admin": "hours", "buildings": "m2"}
    ).set_index("service")
    assert (
        t.loc["day", "overhead_admin"] == 150_000
        and t.loc["night", "overhead_buildings"] == 300_000
    )
    assert t["full_cost"].sum() == pytest.approx(1_600_000)  # every krone allocated
    assert t.loc["day", "tariff"] == pytest.approx((600_000 + 150_000 + 100_000) / 1000)


def test_carry_over_by_hand():
    c = carry_over(
        [1000, 1000, 1000, 1000],
        [900, 1100, 1080, 950],
        max_surplus_pct=5,
        max_deficit_pct=3,
        surplus_rate=0.8,
    )
    # y1: +100 -> 80 % = 80, capped at 50, 50 forfeited; y2: 1050 - 1100 = -50, carried -30, 20 to cover
    # y3: 970 - 1080 = -110, carried -30, 80 to cover; y4: 970 - 950 = +20 -> 16 carried, 4 forfeited
    assert c["carried_out"].tolist() == [50.0, -30.0, -30.0, 16.0]
    assert c["forfeited"].tolist() == [50.0, 0.0, 0.0, 4.0]
    assert c["to_cover"].tolist() == [0.0, 20.0, 80.0, 0.0]
    assert c["available"].tolist() == [1000.0, 1050.0, 970.0, 970.0]


def test_effect_payments_remove_the_gain_from_cream_skimming():
    """Two providers with equal skill; one picks easy citizens. Naive bonuses reward the choice, adjusted ones do not."""
    rng = np.random.default_rng(0)
    n = 20_000
    easy = rng.random(n) < 0.5
    p = np.where(easy, 0.7, 0.3)  # risk-adjusted expected success (the model's prediction)
    provider = np.where(
        easy,
        np.where(rng.random(n) < 0.8, "skimmer", "fair"),
        np.where(rng.random(n) < 0.2, "skimmer", "fair"),
    )
    success = (rng.random(n) < p).astype(int)
    out = effect_payments(
        pd.DataFrame({"provider": provider, "success": success}),
        p,
        base_tariff=10_000,
        bonus=20_000,
    ).set_index("provider")
    per_citizen_naive = (out["base"] + out["bonus_unadjusted"]) / out["citizens"]
    per_citizen_adjusted = out["payment"] / out["citizens"]
    assert (
        per_citizen_naive["skimmer"] - per_citizen_naive["fair"] > 3_000
    )  # naive rule pays for the choice
    assert (
        abs(per_citizen_adjusted["skimmer"] - per_citizen_adjusted["fair"]) < 300
    )  # adjusted: only noise


def test_effect_payments_with_a_fitted_risk_model():
    """Expected outcomes from needsmodel's person-level logit on the sample pupils."""
    pupils = nm.datasets.load_sample_pupils()
    spec = nm.NeedSpec(
        "special_ed", ["parents_education", "single_parent"], method="logit", unit_key="district"
    )
    res = nm.fit(spec, pupils)
    out = effect_payments(
        pupils.rename(columns={"district": "provider", "special_ed": "success"}),
        res.fitted,
        base_tariff=1_000,
        bonus=5_000,
    )
    # a canonical-link logit reproduces the total: adjusted bonuses sum to zero across providers
    assert out["bonus_adjusted"].sum() == pytest.approx(0.0, abs=1e-6)


def test_funding_errors():
    with pytest.raises(InputError, match="marginal_rate must be between 0 and 1"):
        baseline_settlement(
            pd.DataFrame({"provider": ["A"], "activity": [1], "baseline": [1]}),
            tariff=1,
            marginal_rate=2,
        )
    with pytest.raises(InputError, match="one value per year"):
        carry_over([1, 2], [1])
    with pytest.raises(InputError, match="probabilities"):
        effect_payments(
            pd.DataFrame({"provider": ["A"], "success": [1]}), [1.5], base_tariff=1, bonus=1
        )
