"""Cell (citizen-group) models: cell means, the saturated dummy regression, small cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import needsmodel as nm

CELLS = ["parents_education", "single_parent", "income_quartile"]


@pytest.fixture(scope="module")
def pupils():
    return nm.datasets.load_sample_pupils()


def _fit(pupils, **kw):
    spec = nm.NeedSpec("special_ed_cost", CELLS, method="cells", unit_key="district", **kw)
    return nm.fit(spec, pupils)


def test_cell_means_equal_the_saturated_dummy_regression(pupils):
    res = _fit(pupils, min_cell_size=1)
    sat = smf.ols(
        "special_ed_cost ~ C(parents_education) * C(single_parent) * C(income_quartile)", pupils
    ).fit()
    np.testing.assert_allclose(res.fitted, sat.fittedvalues, rtol=1e-9)
    assert res.fit_stats["small_cells"] == 0
    assert len(res.params) == res.fit_stats["cells"] == pupils.groupby(CELLS).ngroups


def test_cell_table_and_standard_errors(pupils):
    res = _fit(pupils, min_cell_size=1)
    cells = res.cells
    assert list(cells.columns[:4]) == ["cell", *CELLS]
    g = pupils.groupby(CELLS)["special_ed_cost"]
    row = cells.iloc[0]
    key = (row["parents_education"], int(row["single_parent"]), int(row["income_quartile"]))
    assert row["persons"] == g.size().loc[key]
    assert row["mean"] == pytest.approx(g.mean().loc[key])
    assert row["std_error"] == pytest.approx(g.std().loc[key] / np.sqrt(g.size().loc[key]))


def test_small_cells_are_merged_into_their_parent(pupils):
    res = _fit(pupils, min_cell_size=30)
    cells = res.cells
    small = cells[cells["small"]]
    assert len(small) == res.fit_stats["small_cells"] > 0
    assert small["rule"].str.startswith("merged into ").all()
    r = small.iloc[0]
    parent = pupils[
        (pupils["parents_education"] == r["parents_education"])
        & (pupils["single_parent"] == int(r["single_parent"]))
    ]
    assert r["estimate"] == pytest.approx(parent["special_ed_cost"].mean())
    big = cells[~cells["small"]]
    np.testing.assert_allclose(big["estimate"], big["mean"])


def test_shrinkage_pulls_small_cells_more(pupils):
    res = _fit(pupils, min_cell_size=30, small_cells="shrink")
    c = res.cells
    pull = (c["estimate"] - c["mean"]).abs() / c["mean"].clip(lower=1)
    assert c["rule"].str.startswith("shrunk").all()
    small, big = c[c["persons"] < 30], c[c["persons"] >= 300]
    assert pull[small.index].mean() > pull[big.index].mean()
    r = c.iloc[0]
    parent = pupils[
        (pupils["parents_education"] == r["parents_education"])
        & (pupils["single_parent"] == int(r["single_parent"]))
    ]
    z = r["persons"] / (r["persons"] + 30)
    assert r["estimate"] == pytest.approx(
        z * r["mean"] + (1 - z) * parent["special_ed_cost"].mean()
    )


def test_unseen_combination_falls_back_to_parent(pupils):
    res = _fit(pupils, min_cell_size=1)
    new = pd.DataFrame(
        {"parents_education": ["basic"], "single_parent": [1], "income_quartile": [9]}
    )
    want = pupils[(pupils["parents_education"] == "basic") & (pupils["single_parent"] == 1)][
        "special_ed_cost"
    ].mean()
    assert res.predict(new).iloc[0] == pytest.approx(want)


def test_need_sums_cell_predictions_to_units(pupils):
    res = _fit(pupils, min_cell_size=1)
    assert res.need.sum() == pytest.approx(pupils["special_ed_cost"].sum(), rel=1e-9)
    assert res.tidy().index[0].startswith("parents_education=basic, single_parent=0")
