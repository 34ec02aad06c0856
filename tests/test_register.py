"""Register scale: collapsed and chunked fits equal the full person-level fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import needsmodel as nm
from needsmodel.datasets.synthetic import INDICATORS, write_synthetic
from needsmodel.datasets.synthetic import main as synthetic_main
from needsmodel.errors import InputError
from needsmodel.estimate.design import Design
from needsmodel.register import collapse, fit_chunked, fit_collapsed

#: a 300,000-person register file and exact fits against statsmodels on all of them: kept out of `make test-fast`, run by `make test` and CI
pytestmark = pytest.mark.slow


CATEGORICAL = ["income_quartile", "grade", "siblings"]
PERSONS = 300_000


@pytest.fixture(scope="module")
def person_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("register") / "persons.parquet"
    write_synthetic(path, PERSONS, districts=40, seed=7, show_progress=False)
    df = pd.read_parquet(path)
    rng = np.random.default_rng(3)
    df["weight"] = rng.uniform(0.5, 2.0, len(df))  # survey-style person weights
    df["income"] = rng.uniform(100, 500, len(df))  # a continuous indicator
    df.to_parquet(path)
    return path, df


def _design(df, indicators=INDICATORS, categorical=CATEGORICAL):
    d = Design.learn(df, indicators, categorical=categorical)
    return d, d.frame(df)


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) / np.asarray(b) - 1)))


def _spec(target, method, cov, **kw):
    return nm.NeedSpec(
        target,
        INDICATORS,
        method=method,
        categorical=CATEGORICAL,
        unit_key="district",
        cov=cov,
        cluster="district" if cov == "cluster" else None,
        cv=2,
        **kw,
    )


@pytest.mark.parametrize("cov", ["HC0", "cluster", "nonrobust"])
def test_collapsed_logit_equals_full_logit(person_file, cov):
    path, df = person_file
    res = fit_collapsed(_spec("special_ed", "logit", cov), path)
    _, x = _design(df)
    kw = (
        {"cov_type": cov}
        if cov != "cluster"
        else {"cov_type": "cluster", "cov_kwds": {"groups": pd.factorize(df["district"])[0]}}
    )
    ref = sm.GLM(df["special_ed"], x, family=sm.families.Binomial()).fit(**kw)
    assert _rel(res.params, ref.params) < 1e-8
    assert _rel(res.bse, ref.bse) < 1e-8
    assert res.fit_stats["llf"] == pytest.approx(ref.llf, rel=1e-10)
    need = pd.Series(ref.fittedvalues.to_numpy()).groupby(df["district"].to_numpy()).sum()
    assert _rel(res.need.loc[need.index], need) < 1e-10
    assert res.fit_stats["cells"] < PERSONS / 10


@pytest.mark.parametrize("cov", ["HC0", "nonrobust"])
def test_collapsed_poisson_equals_full_poisson(person_file, cov):
    path, df = person_file
    res = fit_collapsed(_spec("special_ed", "poisson", cov), path)
    _, x = _design(df)
    ref = sm.GLM(df["special_ed"], x, family=sm.families.Poisson()).fit(cov_type=cov)
    assert _rel(res.params, ref.params) < 1e-8
    assert _rel(res.bse, ref.bse) < 1e-8
    assert res.fit_stats["llf"] == pytest.approx(ref.llf, rel=1e-10)


@pytest.mark.parametrize("cov", ["HC1", "nonrobust", "cluster"])
def test_collapsed_wls_with_person_weights_equals_full_wls(person_file, cov):
    path, df = person_file
    spec = _spec("special_ed_cost", "ols", cov)
    res = nm.register.fit_collapsed(spec, path, weights="weight")
    _, x = _design(df)
    kw = (
        {"cov_type": cov}
        if cov != "cluster"
        else {"cov_type": "cluster", "cov_kwds": {"groups": pd.factorize(df["district"])[0]}}
    )
    ref = sm.WLS(df["special_ed_cost"], x, weights=df["weight"]).fit(**kw)
    assert _rel(res.params, ref.params) < 1e-8
    assert _rel(res.bse, ref.bse) < 1e-8
    need = (
        pd.Series((x.to_numpy() @ ref.params.to_numpy()) * df["weight"].to_numpy())
        .groupby(df["district"].to_numpy())
        .sum()
    )
    assert _rel(res.need.loc[need.index], need) < 1e-10


@pytest.mark.parametrize("cov", ["HC3", "HC2"])
def test_collapsed_ols_leverage_covariances(person_file, cov):
    path, df = person_file
    res = fit_collapsed(_spec("special_ed_cost", "ols", cov), path)
    _, x = _design(df)
    ref = sm.OLS(df["special_ed_cost"], x).fit(cov_type=cov)
    assert _rel(res.bse, ref.bse) < 1e-8
    assert res.fit_stats["r2"] == pytest.approx(ref.rsquared, rel=1e-10)
    assert res.fit_stats["llf"] == pytest.approx(ref.llf, rel=1e-10)


@pytest.mark.parametrize("cov", ["nonrobust", "HC1", "HC3", "cluster"])
def test_chunked_equals_in_memory_ols_with_a_continuous_indicator(person_file, cov):
    path, df = person_file
    inds = ["parents_education", "single_parent", "income", "grade"]
    spec = nm.NeedSpec(
        "special_ed_cost",
        inds,
        method="ols",
        categorical=["grade"],
        unit_key="district",
        cov=cov,
        cluster="district" if cov == "cluster" else None,
    )
    res = fit_chunked(spec, path, chunk_rows=40_000, show_progress=False)
    _, x = _design(df, inds, ["grade"])
    kw = (
        {"cov_type": cov}
        if cov != "cluster"
        else {"cov_type": "cluster", "cov_kwds": {"groups": pd.factorize(df["district"])[0]}}
    )
    ref = sm.OLS(df["special_ed_cost"], x).fit(**kw)
    assert _rel(res.params, ref.params) < 1e-8
    assert _rel(res.bse, ref.bse) < 1e-8
    need = pd.Series(ref.fittedvalues.to_numpy()).groupby(df["district"].to_numpy()).sum()
    assert _rel(res.need.loc[need.index], need) < 1e-9


def test_collapsed_person_statistics_equal_the_person_level_ones(person_file):
    path, df = person_file
    sub = df[df["district"].isin(sorted(df["district"].unique())[:6])]
    small = path.with_name("small.parquet")
    sub.drop(columns=["weight", "income"]).to_parquet(small)
    spec = _spec("special_ed", "logit", "HC0")
    collapsed = fit_collapsed(spec, small)
    full = nm.fit(spec, sub.drop(columns=["weight", "income"]))
    for key in ("r2_person", "auc", "mean_predicted", "rmse_person"):
        assert collapsed.person_stats[key] == pytest.approx(full.person_stats[key], rel=1e-9), key
    a = collapsed.predictive_ratios.set_index(["group", "level"])
    b = full.predictive_ratios.set_index(["group", "level"])
    pd.testing.assert_series_equal(a["persons"].astype(float), b["persons"].astype(float))
    np.testing.assert_allclose(a["predicted"], b.loc[a.index, "predicted"], rtol=1e-9)


def test_csv_person_files_collapse_too(person_file, tmp_path):
    _, df = person_file
    csv = tmp_path / "persons.csv"
    df.head(50_000).to_csv(csv, index=False)
    res = nm.fit(_spec("special_ed", "logit", "HC0"), csv, engine="duckdb")
    _, x = _design(df.head(50_000))
    ref = sm.GLM(df.head(50_000)["special_ed"], x, family=sm.families.Binomial()).fit(
        cov_type="HC0"
    )
    assert _rel(res.params, ref.params) < 1e-8


def test_fit_on_a_path_chooses_the_engine(person_file):
    path, _ = person_file
    res = nm.fit(_spec("special_ed", "logit", "HC0"), path)
    assert res.extras.get("collapsed") and res.fit_stats["persons"] == PERSONS
    with pytest.raises(
        InputError, match="method 'twopart' needs the persons: use engine = 'memory'"
    ):
        nm.fit(_spec("special_ed_cost", "twopart", "HC0"), path, engine="duckdb")


def test_what_is_not_available_on_collapsed_data_says_why(person_file):
    path, _ = person_file
    with pytest.raises(InputError, match="collapsing is exact for ols, poisson, binomial"):
        fit_collapsed(_spec("special_ed_cost", "gamma", "HC0"), path)
    with pytest.raises(InputError, match="cov = 'HC3' needs each person's leverage"):
        fit_collapsed(_spec("special_ed_cost", "ols", "HC3"), path, weights="weight")
    res = fit_collapsed(_spec("special_ed", "logit", "HC0"), path)
    with pytest.raises(InputError, match="use method = 'parametric'"):
        nm.key_uncertainty(res, nm.allocate(res.need, 1_000_000), method="bootstrap", replicates=10)
    ku = nm.key_uncertainty(
        res, nm.allocate(res.need, 1_000_000), method="parametric", replicates=200
    )
    assert (ku.table["share_low"] <= ku.table["share_high"]).all()


def test_collapse_counts_everyone(person_file):
    path, df = person_file
    col = collapse(path, unit_key="district", target="special_ed_cost", indicators=list(INDICATORS))
    assert col.persons == PERSONS == int(col.cells["n"].sum()) == int(col.unit_cells["n"].sum())
    assert col.cells["swy"].sum() == pytest.approx(df["special_ed_cost"].sum())


def test_synthetic_generator_command(tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert synthetic_main(["--persons", "5000", "--out", str(out), "--districts", "7"]) == 0
    df = pd.read_csv(out)
    assert len(df) == 5000 and df["district"].nunique() == 7
    assert set(INDICATORS) <= set(df.columns)
    assert synthetic_main(["--persons", "10", "--out", str(tmp_path / "p.txt")]) == 2


def _pipeline_config(tmp_path, engine):
    sample = nm.datasets.sample_dir()
    cfg = tmp_path / f"{engine}.toml"
    cfg.write_text(
        f"""
[data]
units = "{(sample / "school_districts.csv").as_posix()}"
id = "district"
persons = "{(sample / "pupils.csv").as_posix()}"
unit_key = "district"
engine = "{engine}"

[model]
target = "special_ed"
indicators = ["parents_education", "single_parent", "background", "income_quartile"]
categorical = ["income_quartile"]
method = "logit"
cov = "HC0"

[allocation]
budget = 100_000_000
current = "budget_current"
""",
        encoding="utf-8",
    )
    return cfg


def test_pipeline_with_the_duckdb_engine_equals_the_in_memory_run(tmp_path):
    memory = nm.run(_pipeline_config(tmp_path, "memory"))
    duck = nm.run(_pipeline_config(tmp_path, "duckdb"))
    assert duck.results.extras.get("collapsed")
    assert not memory.results.extras.get("collapsed")
    assert _rel(duck.results.params, memory.results.params) < 1e-8
    assert _rel(duck.results.bse, memory.results.bse) < 1e-8
    pd.testing.assert_series_equal(duck.results.need, memory.results.need, rtol=1e-10)
    pd.testing.assert_series_equal(
        duck.allocation.table["allocation"], memory.allocation.table["allocation"]
    )
    assert duck.allocation.table["allocation"].sum() == 100_000_000


def test_a_category_found_in_one_district_only_cross_validates_like_the_person_fit(
    person_file, tmp_path
):
    # a rare background found in one district, with no referrals: in the fold
    # that holds that district out, the category is absent from the training
    # cells; the collapsed refits must give the same out-of-fold need as the
    # person-level refits (statsmodels) instead of failing
    _, df = person_file
    sub = df[df["district"].isin(sorted(df["district"].unique())[:8])].drop(
        columns=["weight", "income"]
    )
    sub = sub.copy()
    first = sub["district"] == sub["district"].iloc[0]
    rare = first & (np.arange(len(sub)) % 7 == 0)
    sub.loc[rare, "background"] = "rare"
    sub.loc[rare, "special_ed"] = 0
    path = tmp_path / "rare.parquet"
    sub.to_parquet(path)
    spec = nm.NeedSpec(
        "special_ed",
        INDICATORS,
        method="logit",
        categorical=CATEGORICAL,
        unit_key="district",
        cov="nonrobust",
        cv=4,
    )
    collapsed = fit_collapsed(spec, path)
    full = nm.fit(spec, sub)
    np.testing.assert_allclose(
        collapsed.cv.predictions.to_numpy(), full.cv.predictions.to_numpy(), rtol=1e-6
    )
    assert collapsed.fit_stats["cv_rmse"] == pytest.approx(full.fit_stats["cv_rmse"], rel=1e-6)


def test_key_intervals_of_a_collapsed_fit_equal_the_person_level_ones(person_file, tmp_path):
    """The unit × cell table is not kept after the fit; the intervals collapse it again."""
    path, df = person_file
    spec = _spec("special_ed", "logit", "HC0")
    res = fit_collapsed(spec, path)
    assert list(res.data.columns) == ["persons", "weight", "outcome"]
    assert res.data["persons"].sum() == PERSONS
    alloc = nm.allocate(res.need, 1_000_000)
    on_cells = nm.key_uncertainty(res, alloc, method="parametric", replicates=100, seed=4)
    persons = nm.fit(spec, df)
    on_persons = nm.key_uncertainty(
        persons, nm.allocate(persons.need, 1_000_000), method="parametric", replicates=100, seed=4
    )
    pd.testing.assert_frame_equal(
        on_cells.table.set_index("unit")[["share_low", "share_high"]],
        on_persons.table.set_index("unit")[["share_low", "share_high"]],
        rtol=1e-7,
    )
    # the file changing between the fit and the intervals is noticed, never mixed in
    copy = tmp_path / "copy.parquet"
    df.to_parquet(copy)
    res2 = fit_collapsed(spec, copy)
    df[df["district"] != df["district"].iloc[0]].to_parquet(copy)
    with pytest.raises(nm.errors.DataError, match="changed since the model was fitted"):
        nm.key_uncertainty(res2, alloc, method="parametric", replicates=10)


def test_cell_store_memory_stays_bounded_by_its_limit(person_file):
    from needsmodel.collapse import CellStore

    path, _ = person_file
    kw = {"unit_key": "district", "target": "special_ed", "indicators": INDICATORS}
    with pytest.raises(InputError, match="more memory than the memory limit of 4MB allows"):
        CellStore(path, **kw, memory_limit="4MB")
    with CellStore(path, **kw, memory_limit="64MB") as store:
        spill = store._spill
        limit = store.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        assert "61" in limit or "64" in limit
        assert store.unit_sums()["n"].sum() == PERSONS
        full = store.unit_cells()
        assert int(full["n"].sum()) == PERSONS
    import os

    assert not os.path.exists(spill)  # the spill folder is deleted with the store


@pytest.mark.parametrize("limit", ["1GB'; DROP TABLE uc; --", "lots", "-5MB", ""])
def test_hostile_memory_limits_are_refused(person_file, limit):
    path, _ = person_file
    with pytest.raises(InputError, match="memory_limit must be a size"):
        fit_collapsed(_spec("special_ed", "logit", "HC0"), path, memory_limit=limit or " ")


def test_config_memory_limit_is_checked_and_used(tmp_path):
    import shutil

    src = nm.datasets.sample_dir()
    for name in ("special_education_register.toml", "school_districts.csv", "dictionary.csv"):
        shutil.copy(src / name, tmp_path / name)
    shutil.copy(src / "pupils.parquet", tmp_path / "pupils.parquet")
    text = (tmp_path / "special_education_register.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        text.replace('unit_key = "district"', 'unit_key = "district"\nmemory_limit = "1GB\' --"'),
        encoding="utf-8",
    )
    with pytest.raises(nm.errors.ConfigError, match=r"\[data.memory_limit\] memory_limit must be"):
        nm.load_config(bad)
    good = tmp_path / "good.toml"
    good.write_text(
        text.replace('unit_key = "district"', 'unit_key = "district"\nmemory_limit = "64MB"'),
        encoding="utf-8",
    )
    assert nm.run(good).results.fit_stats["persons"] == 10393


def test_chunked_cross_validation_equals_the_in_memory_one(person_file):
    """Grouped k-fold by unit from per-unit sufficient statistics, checked against the persons."""
    path, df = person_file
    inds = ["parents_education", "single_parent", "income", "grade"]
    spec = nm.NeedSpec(
        "special_ed_cost", inds, method="ols", categorical=["grade"], unit_key="district", cv=5
    )
    res = fit_chunked(spec, path, chunk_rows=40_000, show_progress=False)
    mem = nm.fit(spec, df[["district", "special_ed_cost", *inds]])
    assert res.cv is not None and res.cv.scheme == mem.cv.scheme
    np.testing.assert_allclose(
        res.cv.predictions, mem.cv.predictions.loc[res.cv.predictions.index], rtol=1e-8
    )
    assert res.fit_stats["cv_rmse"] == pytest.approx(mem.fit_stats["cv_rmse"], rel=1e-8)
    assert res.person_stats["cv_rmse_person"] == pytest.approx(
        mem.person_stats["cv_rmse_person"], rel=1e-8
    )
    assert res.data["persons"].sum() == PERSONS
