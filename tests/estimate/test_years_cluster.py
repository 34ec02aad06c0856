"""Several years of the same districts: standard errors clustered by district."""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

import needsmodel as nm


def test_the_panel_config_clusters_by_district_as_statsmodels_does():
    run = nm.run(nm.datasets.sample_dir() / "school_districts_panel.toml")
    res = run.years.pooled
    assert res.spec.resolved_cov == "cluster"
    panel = pd.read_csv(nm.datasets.sample_dir() / "school_districts_panel.csv")
    inds = ["parents_low_education", "parents_outside_labour_market", "single_parent"]
    x = panel[inds].copy()
    for y in (2023, 2024, 2025):
        x[f"year[{y}]"] = (panel["year"] == y).astype(float)
    x = sm.add_constant(x).rename(columns={"const": "Intercept"})
    y = panel["special_ed_cost"] / panel["pupils"]
    groups = pd.factorize(panel["district"])[0]
    ref = sm.WLS(y, x, weights=panel["pupils"]).fit(cov_type="cluster", cov_kwds={"groups": groups})
    np.testing.assert_allclose(res.params[ref.params.index], ref.params, rtol=1e-10)
    np.testing.assert_allclose(res.bse[ref.bse.index], ref.bse, rtol=1e-8)
    # one row per district in a single year: HC3 there
    assert {r.spec.resolved_cov for r in run.years.by_year.values()} == {"HC3"}


def test_pooled_need_by_unit_and_year_even_with_the_separator_in_an_id():
    panel = pd.read_csv(nm.datasets.sample_dir() / "school_districts_panel.csv")
    panel["district"] = panel["district"].str.replace("D0", "D|0", regex=False)  # "D|01"
    spec = nm.NeedSpec(
        "special_ed_cost",
        ["parents_low_education", "single_parent"],
        exposure="pupils",
        cov="HC3",
    )
    years = nm.fit_years(spec, panel, year="year", id="district")
    by = years.need_by_unit_year
    assert by.index.names == ["unit", "year"]
    assert len(by) == len(panel)
    assert ("D|01", "2024") in by.index
    one = years.need_for(2024)
    assert one.index.name == "district" and "D|01" in one.index
    np.testing.assert_allclose(one.loc["D|01"], by.loc[("D|01", "2024")])
    assert float(one.sum()) == float(by.xs("2024", level="year").sum())
