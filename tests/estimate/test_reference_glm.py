"""statsmodels' published GLM results, reproduced through needsmodel's API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import needsmodel as nm

REF = json.loads((Path(__file__).parents[1] / "reference" / "statsmodels_glm.json").read_text())


@pytest.fixture(scope="module")
def star98():
    df = nm.datasets.load_star98()
    indicators = [c for c in df.columns if c not in ("county", "NABOVE", "NBELOW", "total")]
    spec = nm.NeedSpec("NABOVE", indicators, exposure="total", method="binomial", cov="nonrobust")
    return nm.fit(spec, df, id="county")


@pytest.mark.reference
def test_star98_deviance(star98):
    assert star98.fit_stats["deviance"] == pytest.approx(
        REF["star98"]["deviance"], rel=REF["star98"]["rtol"]
    )


@pytest.mark.reference
def test_star98_intercept(star98):
    assert star98.params["Intercept"] == pytest.approx(
        REF["star98"]["intercept"], rel=REF["star98"]["rtol"]
    )


@pytest.mark.reference
def test_star98_first_parameter(star98):
    assert star98.params["LOWINC"] == pytest.approx(
        REF["star98"]["LOWINC"], rel=REF["star98"]["rtol"]
    )


@pytest.mark.reference
def test_star98_need_is_expected_count(star98):
    """Need of a binomial rate model is exposure x probability: the expected number above the median."""
    df = nm.datasets.load_star98().set_index("county")
    assert star98.need.sum() == pytest.approx(df["NABOVE"].sum(), rel=1e-9)  # canonical link


@pytest.fixture(scope="module")
def scotland():
    df = nm.datasets.load_scotland()
    inds = ["COUTAX", "UNEMPF", "MOR", "ACT", "GDP", "AGE", "COUTAX_FEMALEUNEMP"]
    spec = nm.NeedSpec("YES", inds, method="gamma", link="inverse", cov="nonrobust")
    return nm.fit(spec, df, id="district")


@pytest.mark.reference
def test_scotland_gamma_deviance(scotland):
    assert scotland.fit_stats["deviance"] == pytest.approx(
        REF["scotland"]["deviance"], rel=REF["scotland"]["rtol"]
    )


@pytest.mark.reference
def test_scotland_gamma_scale(scotland):
    assert scotland.fit_stats["scale"] == pytest.approx(
        REF["scotland"]["scale"], rel=REF["scotland"]["rtol"]
    )


FULL = json.loads(
    (Path(__file__).parents[1] / "reference" / "statsmodels_glm_full.json").read_text()
)
STAR_TERMS = list(FULL["star98"]["params"])
SCOT_TERMS = list(FULL["scotland"]["params"])


@pytest.mark.reference
@pytest.mark.parametrize("term", STAR_TERMS)
def test_star98_every_coefficient_and_standard_error(star98, term):
    ref = FULL["star98"]
    assert star98.params[term] == pytest.approx(ref["params"][term], rel=ref["rtol_params"])
    assert star98.bse[term] == pytest.approx(ref["bse"][term], rel=ref["rtol_bse"])


@pytest.mark.reference
@pytest.mark.parametrize("term", SCOT_TERMS)
def test_scotland_every_coefficient_and_standard_error(scotland, term):
    ref = FULL["scotland"]
    assert scotland.params[term] == pytest.approx(ref["params"][term], rel=ref["rtol_params"])
    assert scotland.bse[term] == pytest.approx(ref["bse"][term], rel=ref["rtol_bse"])
