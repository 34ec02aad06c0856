"""Uncertainty of the keys: the batched bootstrap equals statsmodels refits; intervals behave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from helpers import SAMPLE_INDICATORS

import needsmodel as nm
from needsmodel.allocation import key_uncertainty
from needsmodel.allocation.uncertainty import need_draws
from needsmodel.errors import InputError


@pytest.fixture(scope="module")
def run():
    return nm.run(nm.datasets.sample_config_path())


def test_batched_bootstrap_equals_statsmodels_refits(run):
    """Replicate b of the batched solve equals sm.WLS on the resampled rows of replicate b."""
    res = run.results
    draws, _, failed = need_draws(res, method="bootstrap", replicates=25, seed=7)
    assert failed == 0
    units = res.data
    n = len(units)
    # the same draws: 25 resamples of n row numbers from the same seed
    idx = np.random.default_rng(7).integers(0, n, size=(25, n))
    counts = np.stack([np.bincount(row, minlength=n) for row in idx])
    x = sm.add_constant(units[SAMPLE_INDICATORS])
    for b in (0, 11, 24):
        rows = np.repeat(np.arange(n), counts[b])
        sub = units.iloc[rows]
        fit = sm.WLS(
            sub["special_ed_cost"] / sub["pupils"], x.iloc[rows], weights=sub["pupils"]
        ).fit()
        want = (x @ fit.params).to_numpy() * units["pupils"].to_numpy()
        np.testing.assert_allclose(draws[b], want, rtol=1e-8)


def test_interval_table(run):
    ku = run.uncertainty
    t = ku.table
    assert ku.method == "bootstrap" and ku.replicates == 2000 and ku.level == 0.9
    assert list(t.columns) == [
        "unit",
        "share",
        "share_low",
        "share_high",
        "width_pct",
        "target",
        "target_low",
        "target_high",
        "allocation",
        "allocation_low",
        "allocation_high",
        "flagged",
    ]
    assert (t["share_low"] <= t["share"]).all() and (t["share"] <= t["share_high"]).all()
    np.testing.assert_allclose(
        t["width_pct"], 100 * (t["share_high"] - t["share_low"]) / t["share"]
    )
    assert t["flagged"].tolist() == (t["width_pct"] > 40).tolist()
    # floors and caps bound the allocation draws
    cur = run.allocation.table["current"].to_numpy()
    assert (t["allocation_low"] >= cur * 0.95 - 1e-6).all() and (
        t["allocation_high"] <= cur * 1.10 + 1e-6
    ).all()
    np.testing.assert_allclose(ku.share_draws.sum(axis=1), 1.0)


def test_parametric_and_bootstrap_agree_roughly(run):
    boot = key_uncertainty(run.results, run.allocation, method="bootstrap", replicates=4000, seed=1)
    para = key_uncertainty(
        run.results, run.allocation, method="parametric", replicates=4000, seed=1
    )
    wb = boot.table["share_high"] - boot.table["share_low"]
    wp = para.table["share_high"] - para.table["share_low"]
    ratio = (wp / wb).median()
    assert 0.7 < ratio < 1.4  # HC3 covariance vs resampling: same order of magnitude


def test_parametric_draws_centre_on_the_point_estimate(run):
    para = key_uncertainty(
        run.results, run.allocation, method="parametric", replicates=20_000, seed=3
    )
    np.testing.assert_allclose(
        para.share_draws.mean(axis=0), run.allocation.table["share"], rtol=0.01
    )


def test_same_seed_same_intervals(run):
    a = key_uncertainty(run.results, run.allocation, replicates=300, seed=5).table
    b = key_uncertainty(run.results, run.allocation, replicates=300, seed=5).table
    pd.testing.assert_frame_equal(a, b)


def test_person_level_bootstrap_resamples_within_units():
    run = nm.run(nm.datasets.sample_dir() / "special_education_pupils.toml")
    ku = key_uncertainty(run.results, run.allocation, method="bootstrap", replicates=20, seed=2)
    assert ku.replicates + ku.failed == 20
    assert (ku.table["share_low"] < ku.table["share_high"]).all()
    para = key_uncertainty(run.results, run.allocation, method="parametric", replicates=500, seed=2)
    assert (para.table["share_low"] < para.table["share"]).all()


def test_cells_have_no_parametric_intervals():
    pupils = nm.datasets.load_sample_pupils()
    res = nm.fit(
        nm.NeedSpec("special_ed_cost", ["parents_education"], method="cells", unit_key="district"),
        pupils,
    )
    alloc = nm.allocate(res.need, 1_000_000)
    with pytest.raises(
        InputError, match="parametric intervals are not available for method 'cells'"
    ):
        key_uncertainty(res, alloc, method="parametric", replicates=50)
    ku = key_uncertainty(res, alloc, method="bootstrap", replicates=20)
    assert len(ku.table) == 24


def test_batched_bootstrap_drops_singular_resamples_across_blocks():
    """Resamples that miss the one unit with an indicator are dropped; the others are exact."""
    rng = np.random.default_rng(4)
    n = 12
    units = pd.DataFrame(
        {
            "unit": [f"u{i}" for i in range(n)],
            "pupils": rng.integers(100, 500, n).astype(float),
            "share": rng.uniform(0.1, 0.4, n),
            "rare": [1.0] + [0.0] * (n - 1),  # only u0 has it: a resample without u0 is singular
        }
    )
    units["cost"] = units["pupils"] * (1000 + 3000 * units["share"] + 500 * units["rare"])
    units["cost"] *= rng.uniform(0.9, 1.1, n)
    res = nm.fit(nm.NeedSpec("cost", ["share", "rare"], exposure="pupils"), units, id="unit")
    replicates = 700  # more than one block of refits
    draws, _, failed = need_draws(res, method="bootstrap", replicates=replicates, seed=9)
    idx = np.random.default_rng(9).integers(0, n, size=(replicates, n))
    has_rare = (idx == 0).any(axis=1)
    assert failed == int((~has_rare).sum()) > 0
    assert len(draws) == replicates - failed
    kept = np.flatnonzero(has_rare)
    x = sm.add_constant(units[["share", "rare"]])
    for pos in (0, len(kept) // 2, len(kept) - 1):  # first, middle and last kept replicate
        rows = idx[kept[pos]]
        fit = sm.WLS(
            (units["cost"] / units["pupils"]).iloc[rows],
            x.iloc[rows],
            weights=units["pupils"].iloc[rows],
        ).fit()
        want = (x @ fit.params).to_numpy() * units["pupils"].to_numpy()
        np.testing.assert_allclose(draws[pos], want, rtol=1e-8)


def test_batched_bootstrap_says_so_when_every_resample_is_singular():
    n, replicates = 12, 3
    units = pd.DataFrame(
        {
            "unit": [f"u{i}" for i in range(n)],
            "pupils": np.linspace(100, 400, n),
            "share": np.linspace(0.1, 0.4, n) ** 1.5,
            "rare": [1.0] + [0.0] * (n - 1),
        }
    )
    units["cost"] = units["pupils"] * (1000 + 3000 * units["share"] + 500 * units["rare"])
    units.loc[1::2, "cost"] *= 1.05
    res = nm.fit(nm.NeedSpec("cost", ["share", "rare"], exposure="pupils"), units, id="unit")
    # a seed whose every resample misses u0, the only unit with the rare indicator
    seed = next(
        s
        for s in range(10_000)
        if not (np.random.default_rng(s).integers(0, n, size=(replicates, n)) == 0).any()
    )
    with pytest.raises(nm.errors.EstimationError, match="every bootstrap resample"):
        need_draws(res, method="bootstrap", replicates=replicates, seed=seed)
