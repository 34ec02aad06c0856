"""OLS and WLS need models: agreement with statsmodels, recovery, cross-validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from helpers import SAMPLE_INDICATORS
from sklearn.model_selection import KFold

import needsmodel as nm
from needsmodel.datasets import _generator as gen
from needsmodel.estimate.cv import CV_SEED


def _statsmodels_fit(units, cov, weights=True, cluster=None):
    y = units["special_ed_cost"] / units["pupils"]
    x = sm.add_constant(units[SAMPLE_INDICATORS])
    model = sm.WLS(y, x, weights=units["pupils"]) if weights else sm.OLS(y, x)
    kw = {"cov_type": cov}
    if cluster is not None:
        kw["cov_kwds"] = {"groups": pd.factorize(cluster)[0]}
    return model.fit(use_t=True, **kw)


@pytest.mark.parametrize("cov", ["nonrobust", "HC0", "HC1", "HC2", "HC3"])
@pytest.mark.parametrize("method", ["wls", "ols"])
def test_matches_statsmodels(sample_units, cov, method):
    spec = nm.NeedSpec(
        "special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", method=method, cov=cov
    )
    res = nm.fit(spec, sample_units, id="district")
    ref = _statsmodels_fit(sample_units.set_index("district"), cov, weights=method == "wls")
    tidy = res.tidy()
    np.testing.assert_allclose(tidy["estimate"], ref.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(tidy["std_error"], ref.bse.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(tidy["p_value"], ref.pvalues.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(tidy[["ci_low", "ci_high"]], ref.conf_int().to_numpy(), rtol=1e-10)
    assert res.fit_stats["r2"] == pytest.approx(ref.rsquared, rel=1e-12)
    assert res.fit_stats["adj_r2"] == pytest.approx(ref.rsquared_adj, rel=1e-12)


def test_cluster_robust_matches_statsmodels(sample_units):
    units = sample_units.assign(area=[f"A{i % 6}" for i in range(len(sample_units))])
    spec = nm.NeedSpec(
        "special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", cov="cluster", cluster="area"
    )
    res = nm.fit(spec, units, id="district")
    ref = _statsmodels_fit(units.set_index("district"), "cluster", cluster=units["area"])
    np.testing.assert_allclose(res.tidy()["std_error"], ref.bse.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(res.tidy()["p_value"], ref.pvalues.to_numpy(), rtol=1e-8)
    assert res.df_inference == 5  # clusters - 1


def test_recovers_pseudo_true_coefficients(sample_units, sample_spec):
    """The generator's pseudo-true district coefficients lie in the 95% intervals."""
    truth = nm.datasets.true_parameters()["unit_level_wls_pseudo_true"]["sample_config"]
    ci = nm.fit(sample_spec, sample_units, id="district").conf_int()
    for term, value in truth.items():
        assert ci.loc[term, "ci_low"] <= value <= ci.loc[term, "ci_high"], term


@pytest.mark.slow
def test_interval_coverage_over_simulated_municipalities():
    """Over 200 simulated municipalities the HC3 95% intervals cover the truth about 95% of the time."""
    truth = nm.datasets.true_parameters()["unit_level_wls_pseudo_true"]["sample_config"]
    spec = nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", cov="HC3", cv=2)
    hits = []
    for seed in range(200):
        units = gen.aggregate_districts(gen.simulate_pupils(seed=5000 + seed))
        ci = nm.fit(spec, units, id="district").conf_int()
        hits.append([ci.loc[t, "ci_low"] <= v <= ci.loc[t, "ci_high"] for t, v in truth.items()])
    coverage = np.mean(hits, axis=0)
    # binomial sd of a 95% rate over 200 draws is 1.5 points
    assert np.all(coverage >= 0.90), coverage
    assert np.all(coverage <= 0.995), coverage


def test_wls_need_sums_to_observed_total(sample_units, sample_spec):
    res = nm.fit(sample_spec, sample_units, id="district")
    assert res.need.sum() == pytest.approx(sample_units["special_ed_cost"].sum(), rel=1e-12)
    assert res.need.index.tolist() == sample_units["district"].tolist()
    per_capita = res.need_per_capita
    np.testing.assert_allclose(per_capita, res.fitted)


def test_levels_model_without_exposure(sample_units):
    spec = nm.NeedSpec("special_ed_cost", ["pupils", "parents_low_education"])
    res = nm.fit(spec, sample_units, id="district")
    ref = sm.OLS(
        sample_units["special_ed_cost"],
        sm.add_constant(sample_units[["pupils", "parents_low_education"]]),
    ).fit()
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(res.need, ref.fittedvalues, rtol=1e-10)
    assert res.method == "ols"


def test_leave_one_out_closed_form_equals_refits(sample_units, sample_spec):
    res = nm.fit(sample_spec, sample_units, id="district")
    units = sample_units.set_index("district")
    brute = []
    for unit in units.index:
        train = units.drop(index=unit)
        fit = sm.WLS(
            train["special_ed_cost"] / train["pupils"],
            sm.add_constant(train[SAMPLE_INDICATORS]),
            weights=train["pupils"],
        ).fit()
        x = np.r_[1.0, units.loc[unit, SAMPLE_INDICATORS].to_numpy(dtype=float)]
        brute.append(float(x @ fit.params.to_numpy()) * units.loc[unit, "pupils"])
    assert res.cv is not None and res.cv.scheme == "leave-one-out"
    np.testing.assert_allclose(res.cv.predictions.to_numpy(), brute, rtol=1e-9)
    err = units["special_ed_cost"].to_numpy() - np.array(brute)
    assert res.fit_stats["cv_rmse"] == pytest.approx(np.sqrt(np.mean(err**2)), rel=1e-9)


def test_kfold_predictions_equal_refits_without_the_fold(sample_units):
    """Each unit's cross-validated need is the prediction of a WLS fitted without its fold."""
    spec = nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", cv=4)
    res = nm.fit(spec, sample_units, id="district")
    units = sample_units.set_index("district").loc[res.need.index]
    x = sm.add_constant(units[SAMPLE_INDICATORS]).to_numpy()
    y = (units["special_ed_cost"] / units["pupils"]).to_numpy()
    w = units["pupils"].to_numpy(dtype=float)
    expected = np.full(len(units), np.nan)
    for train, test in KFold(n_splits=4, shuffle=True, random_state=CV_SEED).split(x):
        fit = sm.WLS(y[train], x[train], weights=w[train]).fit()
        expected[test] = fit.predict(x[test]) * w[test]
    np.testing.assert_allclose(res.cv.predictions.to_numpy(), expected, rtol=1e-10)


def test_kfold_predictions_are_out_of_fold(sample_units):
    spec = nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", cv=4)
    res = nm.fit(spec, sample_units, id="district")
    assert res.cv.scheme == "k-fold (k=4)"
    assert res.cv.predictions.notna().all()
    assert res.fit_stats["cv_rmse"] > res.fit_stats["rmse"]
    again = nm.fit(spec, sample_units, id="district")
    pd.testing.assert_series_equal(res.cv.predictions, again.cv.predictions)


def test_tidy_is_the_single_source(sample_units, sample_spec):
    res = nm.fit(sample_spec, sample_units, id="district")
    tidy = res.tidy()
    assert list(tidy.columns) == ["estimate", "std_error", "t", "p_value", "ci_low", "ci_high"]
    assert tidy.index.name == "term"
    assert tidy.index.tolist() == ["Intercept", *SAMPLE_INDICATORS]
    pd.testing.assert_series_equal(res.params, tidy["estimate"], check_names=False)
    pd.testing.assert_series_equal(res.bse, tidy["std_error"], check_names=False)
    with pytest.deprecated_call():  # the old accessors still work, with a warning
        pd.testing.assert_series_equal(res.coef(), tidy["estimate"])
    with pytest.deprecated_call():
        pd.testing.assert_series_equal(res.se(), tidy["std_error"])
    wide = res.conf_int(alpha=0.10)
    assert (wide["ci_high"] - wide["ci_low"] < tidy["ci_high"] - tidy["ci_low"]).all()


def test_summary_and_html_show_the_model(sample_units, sample_spec):
    res = nm.fit(sample_spec, sample_units, id="district")
    text = str(res.summary())
    assert "WLS" in text and "parents_low_education" in text and "leave-one-out" in text
    assert str(res) == text
    assert "WLS" in res.summary()  # a Summary answers `in` like the string it prints
    html = res._repr_html_()
    assert html.count("<table") == 2 and "single_parent" in html


def test_units_table(sample_units, sample_spec):
    res = nm.fit(sample_spec, sample_units, id="district")
    t = res.units_table()
    assert list(t.columns) == ["exposure", "observed", "need", "difference", "need_cv"]
    np.testing.assert_allclose(t["difference"], t["observed"] - t["need"])


def test_spec_rejects_bad_arguments():
    with pytest.raises(
        nm.errors.InputError,
        match=r"method must be one of 'auto', 'ols', 'wls', 'loglinear', .*; got 'probit'",
    ):
        nm.NeedSpec("cost", ["a"], method="probit")
    with pytest.raises(nm.errors.InputError, match="cov must be one of"):
        nm.NeedSpec("cost", ["a"], cov="HC9")
    with pytest.raises(nm.errors.InputError, match="method='wls' weights by exposure"):
        nm.NeedSpec("cost", ["a"], method="wls")
    with pytest.raises(nm.errors.InputError, match="cov='cluster' needs cluster"):
        nm.NeedSpec("cost", ["a"], cov="cluster")
    with pytest.raises(nm.errors.InputError, match="cv must be"):
        nm.NeedSpec("cost", ["a"], cv=1)
