"""Every unit-level method agrees with a direct statsmodels fit and predicts need in kroner."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from helpers import SAMPLE_INDICATORS

import needsmodel as nm
from needsmodel.errors import InputError

FAMILIES = {
    "gamma": lambda: sm.families.Gamma(sm.families.links.Log()),
    "poisson": lambda: sm.families.Poisson(),
    "tweedie": lambda: sm.families.Tweedie(var_power=1.5, link=sm.families.links.Log()),
}


@pytest.fixture(scope="module")
def units():
    return nm.datasets.load_sample().set_index("district")


@pytest.mark.parametrize("method", list(FAMILIES))
def test_glm_matches_statsmodels(units, method):
    spec = nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", method=method)
    res = nm.fit(spec, units)
    y = units["special_ed_cost"] / units["pupils"]
    ref = sm.GLM(
        y,
        sm.add_constant(units[SAMPLE_INDICATORS]),
        family=FAMILIES[method](),
        var_weights=units["pupils"],
    ).fit(cov_type="HC0")
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-7)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=1e-6)
    np.testing.assert_allclose(res.need, ref.fittedvalues * units["pupils"], rtol=1e-7)
    assert res.df_inference is None  # normal inference, as statsmodels
    np.testing.assert_allclose(res.tidy()["p_value"], ref.pvalues, rtol=1e-6)
    assert res.fit_stats["deviance"] == pytest.approx(ref.deviance, rel=1e-9)


def test_poisson_on_non_integer_costs_is_quasi_likelihood(units):
    units = units.assign(cost_1000=units["special_ed_cost"] / 1000)
    spec = nm.NeedSpec("cost_1000", SAMPLE_INDICATORS, exposure="pupils", method="poisson")
    res = nm.fit(spec, units)
    assert "aic" not in res.fit_stats
    assert res.fit_stats["likelihood"].startswith("quasi-Poisson")
    # canonical link with intercept: predicted need sums to observed cost
    assert res.need.sum() == pytest.approx(units["cost_1000"].sum(), rel=1e-8)


def test_poisson_counts_have_a_likelihood(units):
    spec = nm.NeedSpec("special_ed_pupils", SAMPLE_INDICATORS, exposure="pupils", method="poisson")
    res = nm.fit(spec, units)
    ref = sm.GLM(
        units["special_ed_pupils"].astype(float),
        sm.add_constant(units[SAMPLE_INDICATORS]),
        family=sm.families.Poisson(),
        offset=np.log(units["pupils"].astype(float)),
    ).fit()
    # per-capita rate with exposure weights is the offset model on counts
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-6)
    assert np.isfinite(res.fit_stats["aic"])


def test_binomial_rate_with_exposure_equals_two_column_glm(units):
    spec = nm.NeedSpec(
        "special_ed_pupils", SAMPLE_INDICATORS, exposure="pupils", method="logit", cov="nonrobust"
    )
    res = nm.fit(spec, units)
    endog = np.column_stack(
        [units["special_ed_pupils"], units["pupils"] - units["special_ed_pupils"]]
    )
    ref = sm.GLM(
        endog, sm.add_constant(units[SAMPLE_INDICATORS]), family=sm.families.Binomial()
    ).fit()
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-8)
    assert res.fit_stats["llf"] == pytest.approx(ref.llf, rel=1e-10)
    assert res.method == "binomial"
    np.testing.assert_allclose(res.need, ref.fittedvalues * units["pupils"], rtol=1e-8)


def test_loglinear_smearing_is_duan(units):
    spec = nm.NeedSpec(
        "special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", method="loglinear", cov="HC1"
    )
    res = nm.fit(spec, units)
    y = np.log(units["special_ed_cost"] / units["pupils"])
    x = sm.add_constant(units[SAMPLE_INDICATORS])
    ols = sm.WLS(y, x, weights=units["pupils"]).fit(cov_type="HC1")
    np.testing.assert_allclose(res.params, ols.params, rtol=1e-10)
    np.testing.assert_allclose(res.bse, ols.bse, rtol=1e-10)
    smear = np.average(np.exp(ols.resid), weights=units["pupils"])
    assert res.fit_stats["smearing"] == pytest.approx(smear, rel=1e-12)
    np.testing.assert_allclose(
        res.need, np.exp(ols.fittedvalues) * smear * units["pupils"], rtol=1e-10
    )
    # retransformed need is close to the observed total (it is not forced to equal it)
    assert res.need.sum() / units["special_ed_cost"].sum() == pytest.approx(1.0, abs=0.05)


def test_loglinear_refuses_zero_costs(units):
    u = units.copy()
    u.iloc[0, u.columns.get_loc("special_ed_cost")] = 0
    spec = nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", method="loglinear")
    with pytest.raises(InputError, match="method 'loglinear' needs a positive target; 1 row"):
        nm.fit(spec, u)


def test_gamma_refuses_zero_costs(units):
    u = units.copy()
    u.iloc[0, u.columns.get_loc("special_ed_cost")] = 0
    spec = nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", method="gamma")
    with pytest.raises(InputError, match="Use 'twopart' or 'tweedie'"):
        nm.fit(spec, u)


@pytest.mark.parametrize("cov", ["HC1", "HC2", "HC3"])
def test_glm_refuses_small_sample_hc(cov):
    with pytest.raises(InputError, match=f"cov='{cov}' is not available for method 'gamma'"):
        nm.NeedSpec("c", ["a"], method="gamma", cov=cov)


def test_glm_cluster_covariance_equals_hand_computed_sandwich(units):
    """Cluster-robust SEs of a weighted Gamma GLM: bread = inverse observed information,
    meat = sum over clusters of summed scores, with the G/(G-1) (n-1)/(n-k) correction."""
    groups = np.arange(len(units)) % 5
    u = units.assign(area=[f"A{g}" for g in groups])
    spec = nm.NeedSpec(
        "special_ed_cost",
        SAMPLE_INDICATORS,
        exposure="pupils",
        method="gamma",
        cov="cluster",
        cluster="area",
    )
    res = nm.fit(spec, u)
    y = (u["special_ed_cost"] / u["pupils"]).to_numpy()
    x = sm.add_constant(u[SAMPLE_INDICATORS]).to_numpy()
    w = u["pupils"].to_numpy(dtype=float)
    model = sm.GLM(y, x, family=FAMILIES["gamma"](), var_weights=w)
    beta = model.fit().params
    mu = np.exp(x @ beta)
    # Gamma, log link: score_i = w_i (y_i - mu_i) / mu_i x_i / phi; observed information
    # -d2l/dbeta2 = sum w_i y_i / mu_i x_i x_i' / phi. phi cancels in the sandwich.
    scores = (w * (y - mu) / mu)[:, None] * x
    info = (x * (w * y / mu)[:, None]).T @ x
    bread = np.linalg.inv(info)
    meat = sum(np.outer(scores[groups == g].sum(0), scores[groups == g].sum(0)) for g in range(5))
    n, k = x.shape
    cov = bread @ meat @ bread * 5 / 4 * (n - 1) / (n - k)
    np.testing.assert_allclose(res.bse, np.sqrt(np.diag(cov)), rtol=1e-6)


def test_glm_cross_validation_refits_out_of_fold(units):
    spec = nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", method="gamma")
    res = nm.fit(spec, units)
    assert res.cv.scheme == "leave-one-out"
    # refit without the first unit by hand
    rest = units.iloc[1:]
    ref = sm.GLM(
        rest["special_ed_cost"] / rest["pupils"],
        sm.add_constant(rest[SAMPLE_INDICATORS]),
        family=FAMILIES["gamma"](),
        var_weights=rest["pupils"],
    ).fit()
    x0 = np.r_[1.0, units.iloc[0][SAMPLE_INDICATORS].to_numpy(dtype=float)]
    want = np.exp(x0 @ ref.params.to_numpy()) * units["pupils"].iloc[0]
    assert res.cv.predictions.iloc[0] == pytest.approx(want, rel=1e-7)


def test_results_interface_is_the_same_for_every_method(units):
    for method in ("wls", "ols", "loglinear", "gamma", "poisson", "tweedie"):
        spec = nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", method=method)
        res = nm.fit(spec, units)
        assert list(res.tidy().columns) == [
            "estimate",
            "std_error",
            "t",
            "p_value",
            "ci_low",
            "ci_high",
        ], method
        assert res.need.index.tolist() == units.index.tolist()
        assert {"nobs", "r2_need", "rmse", "cv_rmse"} <= set(res.fit_stats), method
        assert "Need model results" in res.summary()
        assert res.predict(units).shape == (24,)


def test_categorical_unit_indicator(units):
    u = units.assign(region=["north", "south", "east"] * 8)
    spec = nm.NeedSpec(
        "special_ed_cost",
        ["parents_low_education", "region"],
        exposure="pupils",
        reference={"region": "south"},
    )
    res = nm.fit(spec, u)
    assert res.params.index.tolist() == [
        "Intercept",
        "parents_low_education",
        "region[east]",
        "region[north]",
    ]
    d = pd.get_dummies(u["region"])[["east", "north"]].astype(float)
    x = sm.add_constant(pd.concat([u[["parents_low_education"]], d], axis=1))
    ref = sm.WLS(u["special_ed_cost"] / u["pupils"], x, weights=u["pupils"]).fit()
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-10)
