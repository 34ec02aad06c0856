"""Type-split special-education model: recovery of known parameters and an independent fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression

import needsmodel as nm
from needsmodel.datasets._provision import PROVISION_COSTS, PROVISION_TRUTH, add_provision
from needsmodel.estimate.typesplit import compare_keys, fit_type_split

INDICATORS = ["parents_education", "parents_outside_labour_market", "single_parent"]
REFERENCE = {"parents_education": "long_higher"}


def _fit(pupils):
    return fit_type_split(
        pupils, target="provision", costs=PROVISION_COSTS, indicators=INDICATORS,
        unit_key="district", reference=REFERENCE,
    )  # fmt: skip


def test_the_sample_pupils_have_a_provision_type():
    pupils = nm.datasets.load_sample_pupils()
    assert set(pupils["provision"]) == {"none", *PROVISION_TRUTH}


def test_intervals_cover_the_generating_parameters_in_a_simulation():
    pupils = nm.datasets.load_sample_pupils()
    truth = pd.DataFrame(PROVISION_TRUTH)
    z = stats.norm.ppf(0.975)
    hits, total = 0, 0
    for seed in range(40):
        res = _fit(add_provision(pupils, seed=1000 + seed))
        t = truth.loc[res.params.index, res.params.columns]
        inside = (res.params - z * res.bse <= t) & (t <= res.params + z * res.bse)
        hits += int(inside.to_numpy().sum())
        total += inside.size
    coverage = hits / total
    assert 0.90 <= coverage <= 0.99, coverage


def test_mnlogit_wiring_equals_an_independent_multinomial_fit():
    pupils = nm.datasets.load_sample_pupils()
    res = _fit(pupils)
    x = res.design.frame(pupils).drop(columns="Intercept")
    clf = LogisticRegression(C=np.inf, max_iter=10_000, tol=1e-10).fit(x, pupils["provision"])
    classes = list(clf.classes_)
    base = classes.index("none")
    for t in res.params.columns:
        j = classes.index(t)
        slopes = clf.coef_[j] - clf.coef_[base]
        np.testing.assert_allclose(res.params.loc[x.columns, t], slopes, rtol=1e-4, atol=1e-4)
        assert res.params.loc["Intercept", t] == pytest.approx(
            clf.intercept_[j] - clf.intercept_[base], abs=1e-4
        )


def test_expected_costs_sum_to_the_units_and_reproduce_the_type_counts():
    pupils = nm.datasets.load_sample_pupils()
    res = _fit(pupils)
    assert res.need.sum() == pytest.approx(res.expected_cost.sum(), rel=1e-12)
    by_unit = res.expected_cost.groupby(pupils["district"]).sum()
    np.testing.assert_allclose(res.need.loc[by_unit.index], by_unit, rtol=1e-12)
    np.testing.assert_allclose(res.ratios["ratio"], 1.0, atol=1e-6)  # MLE with an intercept
    observed_cost = pupils["provision"].map(PROVISION_COSTS).fillna(0).sum()
    assert res.need.sum() == pytest.approx(observed_cost, rel=1e-6)
    pooled = nm.fit(
        nm.NeedSpec("special_ed_cost", INDICATORS, method="twopart", reference=REFERENCE,
                    unit_key="district"),
        pupils,
    )  # fmt: skip
    cmp = compare_keys(pooled.need, res.need, names=("pooled", "type_split"))
    assert cmp["share_pooled"].sum() == pytest.approx(1) and cmp[
        "share_type_split"
    ].sum() == pytest.approx(1)
    assert "<table" in res._repr_html_()
