"""Criteria weights and unit amounts: 100 % of the socioeconomic pool, amounts × counts rebuild it.

The intercept of the additive model is money per pupil, not a criterion: by
default it is taken out of the table and paid per exposure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import SAMPLE_INDICATORS
from hypothesis import given, settings
from hypothesis import strategies as st

import needsmodel as nm
from needsmodel.allocation import criteria_weights
from needsmodel.errors import InputError


@pytest.fixture(scope="module")
def wls():
    units = nm.datasets.load_sample()
    return nm.fit(
        nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils"), units, id="district"
    )


@settings(max_examples=50, deadline=None)
@given(pool=st.floats(1e3, 1e10))
def test_weights_sum_to_100_and_amounts_rebuild_the_pool(wls, pool):
    cw = criteria_weights(wls, pool)
    t = cw.table
    assert "Intercept" not in t["criterion"].tolist()
    assert t["weight_pct"].sum() == pytest.approx(100.0, abs=1e-9)
    socio = cw.socioeconomic_pool
    assert (t["unit_amount"] * t["count"]).sum() == pytest.approx(socio, rel=1e-12)
    assert cw.by_unit.to_numpy().sum() == pytest.approx(socio, rel=1e-12)
    # the intercept's kroner are paid per pupil, and the two parts make the needs pool
    pupils = nm.datasets.load_sample().set_index("district")["pupils"]
    np.testing.assert_allclose(
        cw.per_exposure.to_numpy(), cw.per_exposure_rate * pupils.to_numpy(), rtol=1e-12
    )
    assert socio + cw.per_exposure.sum() == pytest.approx(pool, rel=1e-12)
    # the former table (intercept as a criterion) divides the whole needs pool
    old = criteria_weights(wls, pool, intercept="criterion")
    assert "Intercept" in old.table["criterion"].tolist()
    assert (old.table["unit_amount"] * old.table["count"]).sum() == pytest.approx(pool, rel=1e-12)
    assert old.socioeconomic_pool == pytest.approx(pool, rel=1e-12)


def test_parts_are_coefficient_times_count(wls):
    units = nm.datasets.load_sample().set_index("district")
    cw = criteria_weights(wls, float(wls.need.sum()), intercept="criterion")  # scale 1
    t = cw.table.set_index("criterion")
    assert t.loc["Intercept", "count"] == units["pupils"].sum()
    pupils_low = (units["pupils"] * units["parents_low_education"]).sum()
    assert t.loc["parents_low_education", "count"] == pytest.approx(pupils_low)
    assert t.loc["parents_low_education", "unit_amount"] == pytest.approx(
        wls.params["parents_low_education"]
    )
    np.testing.assert_allclose(cw.by_unit.sum(axis=1), wls.need.to_numpy(), rtol=1e-12)


def test_each_unit_rebuilds_its_needs_amount():
    result = nm.run(nm.datasets.sample_config_path())
    cw = result.criteria
    needs = result.allocation.table.set_index("unit")["needs_amount"]
    np.testing.assert_allclose(cw.by_unit.sum(axis=1), needs.loc[cw.by_unit.index], rtol=1e-9)
    per_pupil = result.allocation.table.set_index("unit")["per_capita_amount"]
    np.testing.assert_allclose(cw.per_exposure, per_pupil.loc[cw.by_unit.index], rtol=1e-9)
    comp = result.allocation.composition.set_index("part")["amount"]
    assert comp["socioeconomic"] == pytest.approx(cw.socioeconomic_pool, rel=1e-12)
    assert comp.sum() == pytest.approx(130_000_000, rel=1e-12)
    long = cw.long()
    assert list(long.columns) == ["unit", "criterion", "count", "unit_amount", "amount"]
    np.testing.assert_allclose(long["count"] * long["unit_amount"], long["amount"], rtol=1e-12)


def test_person_level_ols_counts_persons_in_each_category():
    pupils = nm.datasets.load_sample_pupils()
    spec = nm.NeedSpec(
        "special_ed_cost", ["parents_education", "single_parent"], method="ols", unit_key="district"
    )
    res = nm.fit(spec, pupils)
    cw = criteria_weights(res, 50_000_000, intercept="criterion")
    t = cw.table.set_index("criterion")
    assert (
        t.loc["parents_education[vocational]", "count"]
        == (pupils["parents_education"] == "vocational").sum()
    )
    assert t.loc["Intercept", "count"] == len(pupils)
    assert (t["unit_amount"] * t["count"]).sum() == pytest.approx(50_000_000, rel=1e-12)
    assert t.loc["parents_education[vocational]", "indicator"] == "parents_education"


def test_pooled_years_fold_the_year_effect_into_the_intercept():
    result = nm.run(nm.datasets.sample_dir() / "school_districts_panel.toml")
    t = result.criteria.table
    assert "year[2025]" not in t["criterion"].tolist()
    assert t["weight_pct"].sum() == pytest.approx(100.0)
    socio = result.criteria.socioeconomic_pool
    assert (t["unit_amount"] * t["count"]).sum() == pytest.approx(socio, rel=1e-12)
    assert socio + result.criteria.per_exposure.sum() == pytest.approx(140_000_000, rel=1e-12)


def test_multiplicative_models_are_refused():
    units = nm.datasets.load_sample()
    res = nm.fit(
        nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", method="gamma"),
        units,
        id="district",
    )
    with pytest.raises(
        InputError, match="criteria weights need an additive model \\(ols or wls\\); method 'gamma'"
    ):
        criteria_weights(res, 1e6)
    run = nm.run(nm.datasets.sample_dir() / "special_education_pupils.toml")
    assert run.criteria is None and "multiplicative" in run.criteria_note


def test_criteria_with_pools_divide_only_the_needs_pool(tmp_path):
    src = nm.datasets.sample_dir()
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[data]\nunits = "{src / "school_districts.csv"}"\nid = "district"\n'
        '[model]\ntarget = "special_ed_cost"\nexposure = "pupils"\n'
        f"indicators = {SAMPLE_INDICATORS!r}\n".replace("'", '"')
        + "[allocation]\nbudget = 100_000_000\nbase_per_unit = 500_000\nper_capita_pct = 30\n",
        encoding="utf-8",
    )
    result = nm.run(cfg)
    assert result.criteria.needs_pool == pytest.approx(100e6 - 24 * 500_000 - 30e6)
    pools = result.allocation.pools.set_index("pool")["amount"]
    assert pools.sum() == pytest.approx(100e6)
    assert isinstance(result.criteria.table, pd.DataFrame)
