"""Non-negative criteria: bounded least squares, checked against scikit-learn's positive fit."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import write_config
from sklearn.linear_model import LinearRegression

import needsmodel as nm

ALL = ["parents_low_education", "parents_outside_labour_market", "single_parent",
       "immigrant_background", "low_income"]  # fmt: skip


def test_constrained_wls_equals_scikit_learns_positive_regression():
    units = nm.datasets.load_sample()
    spec = nm.NeedSpec("special_ed_cost", ALL, exposure="pupils", constraints="nonnegative")
    res = nm.fit(spec, units, id="district")
    y = units["special_ed_cost"] / units["pupils"]
    ref = LinearRegression(positive=True).fit(units[ALL], y, sample_weight=units["pupils"])
    np.testing.assert_allclose(res.params[ALL], ref.coef_, rtol=1e-6, atol=1e-6)
    assert res.params["Intercept"] == pytest.approx(ref.intercept_, rel=1e-6)
    assert (res.params[ALL] >= 0).all()
    assert res.fit_stats["at_zero"] == ["parents_low_education"]  # negative without the bound
    unconstrained = nm.fit(
        nm.NeedSpec("special_ed_cost", ALL, exposure="pupils"), units, id="district"
    )
    assert unconstrained.params["parents_low_education"] < 0
    assert (res.bse[ALL] > 0).all()  # bootstrap standard errors


def test_the_run_says_which_criteria_hit_zero(workdir):
    cfg = write_config(workdir, model={"indicators": ALL, "constraints": "nonnegative"})
    run = nm.run(cfg)
    guard = next(g for g in run.guards if g.code == "at_zero")
    assert guard.terms == ["parents_low_education"]
    assert (run.criteria.table["weight_pct"] >= 0).all()
    assert not any(g.code == "negative_weight" for g in run.guards)
    html = nm.report.render_report(run, lang="en")
    assert "holds parents_low_education at zero" in html


def test_constraints_only_for_linear_unit_models():
    with pytest.raises(nm.errors.InputError, match="constraints='nonnegative' is for unit-level"):
        nm.NeedSpec("special_ed_cost", ALL, exposure="pupils", method="gamma",
                    constraints="nonnegative")  # fmt: skip
