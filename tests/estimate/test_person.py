"""Person-level models on the sample pupils: recovery, summing to units, two-level fit."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

import needsmodel as nm
from needsmodel.errors import DataError

INDICATORS = [
    "parents_education",
    "parents_outside_labour_market",
    "single_parent",
    "background",
    "income_quartile",
    "grade",
]
REFERENCE = {"parents_education": "long_higher", "background": "danish", "income_quartile": 4}

# generator names → needsmodel term names
TERMS = {
    "Intercept": "Intercept",
    "education_basic": "parents_education[basic]",
    "education_vocational": "parents_education[vocational]",
    "education_short_medium_higher": "parents_education[short_medium_higher]",
    "parents_outside_labour_market": "parents_outside_labour_market",
    "single_parent": "single_parent",
    "background_immigrant": "background[immigrant]",
    "background_descendant": "background[descendant]",
    "income_quartile_1": "income_quartile[1]",
    "income_quartile_2": "income_quartile[2]",
    "income_quartile_3": "income_quartile[3]",
    "grade": "grade",
}


@pytest.fixture(scope="module")
def pupils():
    return nm.datasets.load_sample_pupils()


@pytest.fixture(scope="module")
def units():
    return nm.datasets.load_sample()


def _spec(method, target="special_ed_cost", **kw):
    return nm.NeedSpec(
        target,
        INDICATORS,
        method=method,
        categorical=["income_quartile"],
        reference=REFERENCE,
        unit_key="district",
        **kw,
    )


@pytest.fixture(scope="module")
def twopart(pupils, units):
    return nm.fit(_spec("twopart"), pupils, units=units, id="district")


@pytest.fixture(scope="module")
def logit(pupils, units):
    return nm.fit(_spec("logit", target="special_ed"), pupils, units=units, id="district")


def _wald_p(res, prefix, truth):
    """p-value of the joint Wald test that the estimates equal the generator's truth.

    A joint test is the right check: the education and income estimates are
    strongly correlated, so one-at-a-time intervals would miss together.
    """
    return res.wald_test({prefix + TERMS[name]: value for name, value in truth.items()})[2]


def test_logit_recovers_the_true_referral_model(logit):
    truth = nm.datasets.true_parameters()["pupil_level"]["referral_logit"]
    assert _wald_p(logit, "", truth) > 0.01


def test_twopart_recovers_both_true_parts(twopart):
    truth = nm.datasets.true_parameters()["pupil_level"]
    assert _wald_p(twopart, "any:", truth["referral_logit"]) > 0.01
    assert _wald_p(twopart, "cost:", truth["cost_given_referral_log_mean"]) > 0.01


@pytest.mark.slow
def test_wald_test_of_the_truth_rejects_at_its_nominal_rate():
    """Over 60 simulated municipalities the 5% Wald test of the true logit rejects about 5% of the time."""
    from needsmodel.datasets import _generator as gen

    truth = {TERMS[k]: v for k, v in gen.REFERRAL.items()}
    rejections = 0
    for seed in range(60):
        p = gen.simulate_pupils(seed=900 + seed)
        res = nm.fit(_spec("logit", target="special_ed", cv=2), p)
        rejections += res.wald_test(truth)[2] < 0.05
    assert rejections <= 9  # P(Binomial(60, 0.05) > 9) < 0.2%


def test_twopart_parts_equal_separate_statsmodels_fits(twopart, pupils):
    design = twopart.design.frame(pupils)
    y = pupils["special_ed_cost"].to_numpy(dtype=float)
    any_fit = sm.GLM((y > 0).astype(float), design, family=sm.families.Binomial()).fit(
        cov_type="HC0"
    )
    pos = y > 0
    cost_fit = sm.GLM(y[pos], design[pos], family=sm.families.Gamma(sm.families.links.Log())).fit(
        cov_type="HC0"
    )
    np.testing.assert_allclose(twopart.params.filter(like="any:"), any_fit.params, rtol=1e-7)
    np.testing.assert_allclose(twopart.params.filter(like="cost:"), cost_fit.params, rtol=1e-7)
    np.testing.assert_allclose(twopart.bse.filter(like="cost:"), cost_fit.bse, rtol=1e-6)
    expected = any_fit.predict(design) * cost_fit.predict(design)
    np.testing.assert_allclose(twopart.fitted, expected, rtol=1e-7)


def test_need_is_the_sum_of_pupil_predictions(twopart, pupils):
    by_unit = twopart.fitted.groupby(pupils["district"]).sum()
    np.testing.assert_allclose(twopart.need.loc[by_unit.index], by_unit, rtol=1e-12)
    observed = pupils.groupby("district")["special_ed_cost"].sum()
    np.testing.assert_allclose(twopart.observed.loc[observed.index], observed)
    assert twopart.exposure.loc["D01"] == 393  # the units table's pupils


def test_summed_predictions_are_the_allocated_need(tmp_path):
    result = nm.run(nm.datasets.sample_dir() / "special_education_pupils.toml")
    pupils = nm.datasets.load_sample_pupils()
    summed = result.results.fitted.groupby(pupils["district"]).sum()
    alloc = result.allocation.table.set_index("unit")
    np.testing.assert_allclose(alloc.loc[summed.index, "need"], summed, rtol=1e-12)
    shares = summed / summed.sum()
    np.testing.assert_allclose(alloc.loc[summed.index, "share"], shares, rtol=1e-12)
    assert alloc["allocation"].sum() == 130_000_000


def test_two_levels_of_fit_are_reported(twopart):
    ps = twopart.person_stats
    assert ps["persons"] == 10_393
    assert 0.0 < ps["r2_person"] < 0.2  # low per pupil, as expected
    assert 0.6 < ps["auc"] < 0.8
    assert twopart.fit_stats["r2_need"] > 0.6  # high per district
    assert twopart.cv.scheme == "grouped k-fold by unit (k=10)"
    assert twopart.fit_stats["cv_rmse"] > twopart.fit_stats["rmse"]


def test_predictive_ratios(twopart, logit, capsys):
    pr = twopart.predictive_ratios
    print(pr.to_string())  # shown in the test log, as the issue asks
    assert list(pr.columns) == ["group", "level", "persons", "observed", "predicted", "ratio"]
    assert pr.iloc[0]["group"] == "all" and pr.iloc[0]["persons"] == 10_393
    quart = pr[pr["group"] == "income_quartile"]
    assert quart["level"].tolist() == ["1", "2", "3", "4"]
    assert quart["persons"].sum() == 10_393
    np.testing.assert_allclose(pr["ratio"], pr["predicted"] / pr["observed"])
    # a well-specified model is close to 1 in every large category
    big = pr[(pr["persons"] >= 1000) & (pr["group"] != "grade")]
    assert big["ratio"].between(0.95, 1.05).all(), big
    # a logit with an intercept and dummies reproduces every category's count exactly
    lr = logit.predictive_ratios
    cats = lr[
        lr["group"].isin(["parents_education", "background", "income_quartile", "single_parent"])
    ]
    np.testing.assert_allclose(cats["ratio"], 1.0, rtol=1e-6)
    assert "income_quartile" in capsys.readouterr().out


def test_grouped_cv_keeps_units_together(pupils, units):
    res = nm.fit(_spec("ols", cv=4), pupils, units=units, id="district")
    assert res.cv.scheme == "grouped k-fold by unit (k=4)"
    assert res.cv.predictions.notna().all()


def test_person_table_with_unknown_unit(pupils, units):
    bad = pupils.copy()
    bad.loc[0, "district"] = "D99"
    with pytest.raises(
        DataError, match="unit id\\(s\\) 'D99' in 'district' that are not in the units table"
    ):
        nm.fit(_spec("ols"), bad, units=units, id="district")


def test_unit_without_persons(pupils, units):
    with pytest.raises(DataError, match="unit\\(s\\) 'D24' have no persons"):
        nm.fit(_spec("ols"), pupils[pupils["district"] != "D24"], units=units, id="district")


def test_missing_value_in_person_table_names_the_row(pupils):
    bad = pupils.copy()
    bad["single_parent"] = bad["single_parent"].astype(float)
    bad.loc[5, "single_parent"] = np.nan
    with pytest.raises(
        DataError, match="column 'single_parent' has 1 missing value\\(s\\), in 'row 7'"
    ):
        nm.fit(_spec("ols"), bad)


def test_without_units_table_units_come_from_persons(pupils):
    res = nm.fit(_spec("ols"), pupils)
    assert len(res.need) == 24
    np.testing.assert_allclose(res.exposure.sum(), len(pupils))


def test_predict_reapplies_the_design(twopart, pupils):
    new = pupils.head(5)
    np.testing.assert_allclose(twopart.predict(new), twopart.fitted.head(5))
    odd = pupils.head(2).assign(background="martian")
    with pytest.raises(DataError, match="level\\(s\\) 'martian' not seen"):
        twopart.predict(odd)


def test_randhie_two_part_model_runs_on_real_person_data():
    """The RAND HIE medical spending data: many zeros, person-years summed to sites."""
    df = nm.datasets.load_randhie()
    df = df[df["year"] == 2]
    spec = nm.NeedSpec(
        "meddol",
        ["coins", "xage", "female", "physlm", "disea"],
        method="twopart",
        unit_key="site_id",
        categorical=["coins"],
    )
    res = nm.fit(spec, df)
    assert len(res.need) == 6
    assert res.need.sum() == pytest.approx(df["meddol"].sum(), rel=0.05)
    # free care (coinsurance 0) raises both the chance of any use and the spending level: Manning et al. (1987)
    assert res.params["any:coins[25]"] < 0 and res.params["any:coins[95]"] < 0
    assert res.person_stats["share_positive"] == pytest.approx((df["meddol"] > 0).mean())


def test_wald_test_is_an_object_that_still_unpacks(sample_units, sample_spec):
    from needsmodel.estimate.results import UnknownTermError, WaldTest

    res = nm.fit(sample_spec, sample_units, id="district")
    slopes = [t for t in res.params.index if t != "Intercept"]
    test = res.wald_test(dict.fromkeys(slopes, 0.0))
    assert isinstance(test, WaldTest)
    stat, df, p = test
    assert (stat, df, p) == (test.statistic, test.df, test.pvalue)
    assert df == len(slopes) and 0.0 <= p <= 1.0
    # the statistic is statsmodels' own joint test of the same restrictions
    ref = res.model_result.wald_test(np.eye(len(res.params))[1:], scalar=True, use_f=False)
    assert stat == pytest.approx(float(ref.statistic), rel=1e-9)
    assert str(test).startswith(f"Wald test, {df} restrictions: chi2({df}) = ")
    with pytest.raises(UnknownTermError, match="no term 'nope'"):
        res.wald_test({"nope": 0.0})
    with pytest.raises(KeyError):  # still a KeyError for code written against the tuple API
        res.wald_test({"nope": 0.0})


def test_results_refit_on_all_rows_gives_the_estimates_and_says_when_it_cannot(
    sample_units, sample_spec, tmp_path
):
    res = nm.fit(sample_spec, sample_units, id="district")
    core = res.refit(np.arange(len(res.data)))
    np.testing.assert_allclose(core.params, res.params, rtol=1e-10)
    half = res.refit(np.arange(len(res.data))[::2])
    assert not np.allclose(half.params, res.params)
    # given coefficients were not estimated here
    coef = tmp_path / "coefficients.csv"
    res.tidy().reset_index()[["term", "estimate"]].to_csv(coef, index=False)
    given = nm.estimate.given.apply_units(
        sample_spec,
        nm.read_coefficients(coef),
        nm.estimate.prepare_units(sample_spec, sample_units, id="district"),
    )
    with pytest.raises(nm.errors.InputError, match="cannot be refitted"):
        given.refit(np.arange(3))
