"""compare(), regularised fits, several years, influenceable indicators."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from helpers import SAMPLE_INDICATORS
from scipy import stats

import needsmodel as nm
from needsmodel.errors import InfluenceableIndicatorWarning

ALL = [*SAMPLE_INDICATORS, "immigrant_background", "low_income"]


@pytest.fixture(scope="module")
def units():
    return nm.datasets.load_sample()


@pytest.fixture(scope="module")
def fits(units):
    wls = nm.fit(
        nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils"), units, id="district"
    )
    gamma = nm.fit(
        nm.NeedSpec("special_ed_cost", ALL, exposure="pupils", method="gamma"), units, id="district"
    )
    lasso = nm.fit_regularized(
        nm.NeedSpec("special_ed_cost", ALL, exposure="pupils", cv=6), units, "lasso", id="district"
    )
    return {"WLS": wls, "Gamma": gamma, "Lasso": lasso}


def test_compare_side_by_side(fits):
    c = nm.compare(fits)
    assert list(c.estimates.columns) == ["WLS", "Gamma", "Lasso"]
    assert c.estimates.index.tolist() == ["Intercept", *ALL]
    assert np.isnan(c.estimates.loc["low_income", "WLS"])  # not in that model
    assert c.estimates.loc["single_parent", "WLS"] == fits["WLS"].params["single_parent"]
    assert c.std_errors.loc["single_parent", "Gamma"] == fits["Gamma"].bse["single_parent"]
    assert np.isnan(c.std_errors.loc["single_parent", "Lasso"])
    assert c.stats.loc["r2", "WLS"] == fits["WLS"].fit_stats["r2"]
    assert np.isnan(c.stats.loc["r2", "Gamma"]) and not np.isnan(c.stats.loc["aic", "Gamma"])
    assert c.stats.loc["cv_rmse", "Lasso"] == fits["Lasso"].fit_stats["cv_rmse"]


def test_compare_renders_markdown_and_html(fits):
    c = nm.compare(fits)
    md = c.to_markdown()
    assert md.splitlines()[0].startswith("|") and "WLS" in md and "cv_rmse" in md
    est, se = fits["WLS"].params["Intercept"], fits["WLS"].bse["Intercept"]
    assert f"{est:,.0f} ({se:,.0f})" in md
    html = c.to_html()
    assert html.startswith("<table") and "Lasso" in html
    assert "<strong>Model comparison</strong>" in c._repr_html_()


def test_compare_names_a_list_by_method(fits):
    c = nm.compare([fits["WLS"], fits["WLS"]])
    assert list(c.estimates.columns) == ["wls", "wls (2)"]


def test_regularized_back_transforms_to_the_indicator_scale(units):
    """The lasso's coefficients on the original scale reproduce scikit-learn's own predictions."""
    from sklearn.linear_model import LassoCV
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import StandardScaler

    res = nm.fit_regularized(
        nm.NeedSpec("special_ed_cost", ALL, exposure="pupils", cv=4), units, "lasso", id="district"
    )
    x = units[ALL].to_numpy(dtype=float)
    w = units["pupils"].to_numpy(dtype=float)
    y = units["special_ed_cost"].to_numpy() / w
    sc = StandardScaler().fit(x, sample_weight=w)
    est = LassoCV(
        cv=KFold(5, shuffle=True, random_state=20240601), alphas=40, max_iter=50_000, random_state=0
    ).fit(sc.transform(x), y, sample_weight=w)
    np.testing.assert_allclose(res.need.to_numpy(), est.predict(sc.transform(x)) * w, rtol=1e-8)
    assert res.penalty == pytest.approx(est.alpha_)
    assert res.fit_stats["nonzero"] == int(np.sum(est.coef_ != 0))
    assert res.cv.scheme == "k-fold (k=4, nested)"


@pytest.mark.parametrize("kind", ["ridge", "elasticnet"])
def test_other_penalties(units, kind):
    res = nm.fit_regularized(
        nm.NeedSpec("special_ed_cost", ALL, exposure="pupils", cv=3), units, kind, id="district"
    )
    assert res.params.index.tolist() == ["Intercept", *ALL]
    assert res.fit_stats["cv_rmse"] > 0
    assert (res.l1_ratio is None) == (kind == "ridge")


def test_regularized_refuses_person_level_spec(units):
    spec = nm.NeedSpec("c", ["a"], unit_key="district")
    with pytest.raises(nm.errors.InputError, match="regularised fits are for unit-level models"):
        nm.fit_regularized(spec, units)


@pytest.fixture(scope="module")
def panel():
    return pd.read_csv(
        nm.datasets.sample_dir() / "school_districts_panel.csv", dtype={"district": str}
    )


@pytest.fixture(scope="module")
def years(panel):
    spec = nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils")
    return nm.fit_years(spec, panel, year="year", id="district")


def test_pooled_fit_has_year_effects(years, panel):
    x = pd.concat(
        [
            panel[SAMPLE_INDICATORS],
            pd.get_dummies(panel["year"], prefix="y", drop_first=True).astype(float),
        ],
        axis=1,
    )
    ref = sm.WLS(
        panel["special_ed_cost"] / panel["pupils"], sm.add_constant(x), weights=panel["pupils"]
    ).fit(cov_type="HC3")
    np.testing.assert_allclose(years.pooled.params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(years.pooled.bse, ref.bse, rtol=1e-10)
    assert years.pooled.params.index[-3:].tolist() == ["year[2023]", "year[2024]", "year[2025]"]


def test_per_year_fits_and_stability_table(years, panel):
    assert years.years == ["2022", "2023", "2024", "2025"]
    one = panel[panel["year"] == 2024]
    ref = sm.WLS(
        one["special_ed_cost"] / one["pupils"],
        sm.add_constant(one[SAMPLE_INDICATORS]),
        weights=one["pupils"],
    ).fit(cov_type="HC3")
    np.testing.assert_allclose(years.by_year["2024"].params, ref.params, rtol=1e-10)
    st = years.stability()
    assert st.index.tolist() == ["Intercept", *SAMPLE_INDICATORS]
    row = st.loc["single_parent"]
    est = np.array([years.by_year[y].params["single_parent"] for y in years.years])
    se = np.array([years.by_year[y].bse["single_parent"] for y in years.years])
    assert row["sd"] == pytest.approx(est.std(ddof=1))
    w = 1 / se**2
    q = float(np.sum(w * (est - np.sum(w * est) / w.sum()) ** 2))
    assert row["q"] == pytest.approx(q)
    assert row["q_p_value"] == pytest.approx(stats.chi2.sf(q, 3))


def test_need_for_a_year(years):
    need = years.need_for(2025)
    assert len(need) == 24 and need.index[0] == "D01"
    with pytest.raises(nm.errors.InputError, match="year 1999 is not in the data"):
        years.need_for(1999)


def test_influenceable_indicator_warns_and_says_why(units):
    spec = nm.NeedSpec(
        "special_ed_cost",
        [*SAMPLE_INDICATORS, "special_ed_pupils"],
        exposure="pupils",
        influenceable=["special_ed_pupils"],
    )
    with pytest.warns(
        InfluenceableIndicatorWarning,
        match=re.escape("indicator 'special_ed_pupils' is marked as influenceable"),
    ) as rec:
        nm.fit(spec, units, id="district")
    assert "raises its own allocation" in str(rec[0].message)


def test_no_warning_without_influenceable_indicators(units):
    spec = nm.NeedSpec(
        "special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", influenceable=["special_ed_pupils"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", InfluenceableIndicatorWarning)
        nm.fit(spec, units, id="district")


def test_the_fit_table_shows_each_statistic_in_its_own_format():
    """R² to three decimals, counts as whole numbers (0.7 against 0.7 and 24.0 said nothing)."""
    units = nm.datasets.load_sample()
    small = nm.NeedSpec("special_ed_cost", ["parents_low_education"], exposure="pupils")
    large = nm.NeedSpec(
        "special_ed_cost", ["parents_low_education", "single_parent"], exposure="pupils"
    )
    c = nm.compare(
        {"a": nm.fit(small, units, id="district"), "b": nm.fit(large, units, id="district")}
    )
    for text in (str(c), c._repr_html_()):
        assert "24.0" not in text and "0.644" in text and "0.708" in text
    assert c.stats.loc["r2", "a"] == pytest.approx(0.6435, abs=1e-4)  # the data keep full precision
