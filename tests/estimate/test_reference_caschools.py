"""Stock & Watson's California schools regressions (published values, HC1 SEs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import needsmodel as nm

REF = json.loads(
    (Path(__file__).parents[1] / "reference" / "caschools_stock_watson.json").read_text()
)


@pytest.fixture(scope="module")
def caschools():
    return nm.datasets.load_caschools()


@pytest.mark.reference
@pytest.mark.parametrize("name", list(REF["models"]))
def test_stock_watson_coefficients_and_hc1_errors(caschools, name):
    ref = REF["models"][name]
    tol = ref["tolerance"]
    spec = nm.NeedSpec("score", ref["indicators"], cov="HC1")
    res = nm.fit(spec, caschools, id="district")
    tidy = res.tidy()
    for term, value in ref["estimate"].items():
        assert tidy.loc[term, "estimate"] == pytest.approx(value, abs=tol["estimate_atol"]), term
    for term, value in ref["std_error"].items():
        assert tidy.loc[term, "std_error"] == pytest.approx(value, abs=tol["std_error_atol"]), term
    if "r2" in ref:
        assert res.fit_stats["r2"] == pytest.approx(ref["r2"], abs=tol["r2_atol"])
