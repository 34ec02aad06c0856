"""The real data sets load offline and have what their docstrings promise."""

from __future__ import annotations

import pytest

import needsmodel as nm

LOADERS = {
    "load_caschools": ((420, 16), "district", ["score", "str", "english", "lunch"]),
    "load_maschools": (
        (220, 17),
        "district",
        ["sped_per_pupil", "expspecial", "special", "lunch", "income"],
    ),
    "load_randhie": ((20190, 46), "site_id", ["meddol", "coins", "zper"]),
    "load_municipalities": ((2385, 5), "municipality", ["year", "expenditures", "grants"]),
    "load_star98": ((303, 24), "county", ["NABOVE", "NBELOW", "total", "LOWINC"]),
    "load_scotland": ((32, 9), "district", ["YES", "COUTAX"]),
}


@pytest.mark.parametrize("name", list(LOADERS))
def test_loader(name):
    shape, key, cols = LOADERS[name]
    loader = getattr(nm.datasets, name)
    df = loader()
    assert df.shape == shape
    assert set(cols) <= set(df.columns)
    assert df[key].map(type).eq(str).all()
    assert loader.__doc__ and ("Source" in loader.__doc__ or "statsmodels" in loader.__doc__)


def test_municipalities_is_a_balanced_panel():
    df = nm.datasets.load_municipalities()
    assert df.groupby("municipality")["year"].nunique().eq(9).all()
    res = nm.fit_years(nm.NeedSpec("expenditures", ["grants"]), df, year="year", id="municipality")
    assert len(res.years) == 9 and res.stability().loc["grants", "pooled"] > 0


def test_maschools_special_education_need():
    df = nm.datasets.load_maschools()
    spec = nm.NeedSpec("sped_per_pupil", ["special", "lunch", "income"], method="ols")
    res = nm.fit(spec, df, id="district")
    assert res.nobs == 220 and res.params["special"] > 0
