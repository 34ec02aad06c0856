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
