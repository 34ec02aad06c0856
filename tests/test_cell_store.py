"""The cell store's sums against pandas on the same persons, and its memory behaviour.

Reference: pandas ``groupby`` sums over the person table itself (an
independent computation of the same per-fold, per-cell and per-unit sums).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from needsmodel.collapse import CellStore
from needsmodel.datasets.synthetic import INDICATORS, synthetic_persons
from needsmodel.errors import InputError

K = 4


@pytest.fixture(scope="module")
def persons(tmp_path_factory):
    df = next(synthetic_persons(20_000, districts=12, seed=5, chunk=20_000))
    df["w"] = np.random.default_rng(2).uniform(0.5, 2.0, len(df))
    folder = tmp_path_factory.mktemp("store")
    df.to_parquet(folder / "persons.parquet")
    df.to_csv(folder / "persons.csv", index=False)
    return folder, df


def _open(source, weights=None, **kw):
    return CellStore(
        source,
        unit_key="district",
        target="special_ed",
        indicators=list(INDICATORS),
        weights=weights,
        **kw,
    )


def _reference(df: pd.DataFrame, store: CellStore, fold: np.ndarray, weights: str | None):
    """Per fold × cell and per unit sums of the persons, computed by pandas."""
    cells = store.cells[list(INDICATORS)].astype(str)
    code = {tuple(r): i for i, r in enumerate(cells.itertuples(index=False))}
    cell = np.array([code[tuple(r)] for r in df[list(INDICATORS)].astype(str).itertuples(False)])
    unit = pd.Index(store.units).get_indexer(df["district"].astype(str))
    w = df[weights].to_numpy(float) if weights else np.ones(len(df))
    y = df["special_ed"].to_numpy(float)
    return cell, unit, w, y, fold[unit]


@pytest.mark.parametrize("kind", ["parquet", "csv", "frame"])
@pytest.mark.parametrize("weights", [None, "w"])
def test_fold_and_unit_sums_equal_pandas(persons, kind, weights):
    folder, df = persons
    source = {"parquet": folder / "persons.parquet", "csv": folder / "persons.csv"}.get(kind, df)
    with _open(source, weights) as store:
        n_units, n_cells = len(store.units), len(store.cells)
        fold = np.arange(n_units) % K
        fold[3] = -1  # a unit outside the cross-validation
        cell, unit, w, y, f = _reference(df, store, fold, weights)
        by_fold = store.fold_cell_sums(fold, K)
        inside = f >= 0
        for name, values in {
            "n": np.ones(len(df)),
            "sw": w,
            "swy": w * y,
            "swyy": w * y * y,
        }.items():
            want = np.zeros((K, n_cells))
            np.add.at(want, (f[inside], cell[inside]), values[inside])
            np.testing.assert_allclose(by_fold[name], want, rtol=1e-12, atol=1e-9, err_msg=name)
        per_cell = np.random.default_rng(1).uniform(0.0, 1.0, n_cells)
        per_fold = np.random.default_rng(2).uniform(0.0, 1.0, (K, n_cells))
        totals = store.unit_totals(per_cell, per_fold)
        want_a = np.bincount(unit, w * per_cell[cell], minlength=n_units)
        mf = np.where(inside, per_fold[np.maximum(f, 0), cell], 0.0)
        want_b = np.bincount(unit, w * mf, minlength=n_units)
        np.testing.assert_allclose(totals[:, 0], want_a, rtol=1e-12)
        np.testing.assert_allclose(totals[:, 1], want_b, rtol=1e-12, atol=1e-12)
        assert totals[3, 1] == 0.0 and totals[3, 0] > 0  # need, but no out-of-fold need
        sums = store.unit_sums()
        np.testing.assert_allclose(sums["n"], np.bincount(unit, minlength=n_units))
        np.testing.assert_allclose(sums["swy"], np.bincount(unit, w * y, minlength=n_units))
        # the folds can be set again: the second call replaces the first
        again = store.fold_cell_sums(np.zeros(n_units, dtype=int), 1)
        np.testing.assert_allclose(again["n"][0], store.cells["n"].to_numpy(float))


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_a_file_store_keeps_no_table_of_persons(persons, suffix):
    folder, _ = persons
    with _open(folder / f"persons.{suffix}") as store:
        store.fold_cell_sums(np.arange(len(store.units)) % K, K)
        store.unit_totals(np.ones(len(store.cells)), np.ones((K, len(store.cells))))
        tables = dict(
            store.con.execute("SELECT table_name, estimated_size FROM duckdb_tables()").fetchall()
        )
        kinds = dict(
            store.con.execute("SELECT view_name, temporary FROM duckdb_views()").fetchall()
        )
    # the cells, the units and the cell means per fold; the rows to sum are a view, of
    # the persons in the Parquet file, or of the unit × cell sums of the parsed CSV file
    # (which replace the parsed persons)
    small = {"cellids", "unitids", "means"}
    assert set(tables) == (small if suffix == "parquet" else {*small, "ucs"})
    assert tables["unitids"] == 12 and tables["cellids"] == len(store.cells)
    assert tables["means"] == (K + 1) * len(store.cells)
    assert tables.get("ucs", 0) <= 12 * len(store.cells)
    assert "ucc" in kinds


def test_a_pass_that_runs_out_of_memory_steps_the_limit_up(persons):
    folder, _ = persons
    with _open(folder / "persons.parquet") as store:
        fold = np.arange(len(store.units)) % K
        want = store.fold_cell_sums(fold, K)
        next_limit = store._limits[0]
        store.con.execute("SET memory_limit = '256KB'")  # too small for the next pass
        got = store.fold_cell_sums(fold, K)
        assert store.memory_limit == next_limit
        limit = store.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        assert limit != "256.0 KiB"
    for name in want:
        np.testing.assert_array_equal(got[name], want[name])


def test_a_pass_beyond_the_callers_own_limit_names_memory_limit(persons):
    folder, _ = persons
    with _open(folder / "persons.parquet", memory_limit="64MB") as store:
        store.con.execute("SET memory_limit = '256KB'")
        with pytest.raises(InputError, match="more memory than the memory limit of 64MB") as err:
            store.fold_cell_sums(np.arange(len(store.units)) % K, K)
    assert err.value.field == "memory_limit"


def test_wrong_shapes_are_refused(persons):
    folder, _ = persons
    with _open(folder / "persons.parquet") as store:
        with pytest.raises(ValueError, match="one fold per unit"):
            store.fold_cell_sums(np.zeros(3, dtype=int), 1)
        store.fold_cell_sums(np.zeros(len(store.units), dtype=int), 1)
        with pytest.raises(ValueError, match="folds × cells"):
            store.unit_totals(np.ones(len(store.cells)), np.ones((2, len(store.cells))))


def _view(store: CellStore) -> str:
    return store.con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'ucc'").fetchall()[
        0
    ][0]


def test_persons_find_their_cell_by_one_hash_of_text_and_integer_indicators(persons):
    folder, df = persons
    with _open(folder / "persons.parquet") as store:
        assert "hash(" in _view(store)
        got = store.fold_cell_sums(np.zeros(len(store.units), dtype=int), 1)
    assert got["n"].sum() == len(df)


def test_floating_point_indicators_join_on_their_values_where_minus_zero_is_zero(tmp_path):
    # floating point is joined on the values themselves: -0.0 and 0.0 are one cell
    rng = np.random.default_rng(4)
    n = 3_000
    df = pd.DataFrame(
        {
            "district": rng.choice(["a", "b", "c"], n),
            "flag": rng.choice([0.0, -0.0, 1.0], n),
            "band": rng.choice([1.5, 2.5], n),
            "y": rng.integers(0, 2, n),
        }
    )
    path = tmp_path / "floats.parquet"
    df.to_parquet(path)
    with CellStore(path, unit_key="district", target="y", indicators=["flag", "band"]) as store:
        assert "hash(" not in _view(store)
        assert len(store.cells) == 4
        got = store.fold_cell_sums(np.zeros(len(store.units), dtype=int), 1)
        totals = store.unit_totals(np.ones(4), np.ones((1, 4)))
    assert got["n"].sum() == n and got["swy"].sum() == df["y"].sum()
    np.testing.assert_allclose(totals[:, 0], df.groupby("district").size().to_numpy())


def _csv(tmp_path, rows: list[str], header: str = "district,x,w,y") -> str:
    path = tmp_path / "odd.csv"
    path.write_text(header + "\n" + "\n".join(rows * 40) + "\n")
    return str(path)


@pytest.mark.parametrize(
    ("rows", "weights", "column"),
    [
        # a floating-point indicator with NaN: a category no design can hold
        (["a,nan,1,1", "b,1.0,1,0", "a,0.0,1,1", "b,0.0,1,1"], None, "x"),
        # outcomes read as text by the CSV reader, numbers once cast: inf and nan
        (["a,1,1,inf", "b,1,1,0", "a,0,1,1", "b,0,1,nan"], None, "y"),
        (["a,1,1,1", "b,1,-inf,0", "a,0,1,1", "b,0,2,1"], "w", "w"),
    ],
)
def test_values_that_are_not_finite_numbers_are_refused_by_name(tmp_path, rows, weights, column):
    path = _csv(tmp_path, rows)
    with pytest.raises(InputError, match=rf"column '{column}' has \d+ value\(s\) .* not finite"):
        CellStore(path, unit_key="district", target="y", indicators=["x"], weights=weights)


def test_a_text_outcome_is_refused_with_the_value_and_column(tmp_path):
    path = _csv(tmp_path, ["a,1,1,abc", "b,1,1,0", "a,0,1,1"])
    with pytest.raises(InputError, match=r"must hold numbers .*'abc'.* column y"):
        CellStore(path, unit_key="district", target="y", indicators=["x"])


def test_a_text_indicator_named_nan_is_just_a_category(tmp_path):
    path = _csv(tmp_path, ["a,nan,1,1", "b,yes,1,0", "a,no,1,1", "b,no,1,1"], "district,x,w,y")
    # 'nan' among words is text: the column is VARCHAR and 'nan' one of its labels
    with CellStore(path, unit_key="district", target="y", indicators=["x"]) as store:
        assert sorted(store.cells["x"]) == ["nan", "no", "yes"]
        assert store.cells["n"].sum() == 160


def test_nan_in_a_floating_point_outcome_of_a_parquet_file_is_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    y = [0.5, 1.0, float("nan"), 2.0] * 25  # NaN as a value, not as a missing one
    table = pa.table(
        {
            "district": pa.array(["a", "b"] * 50),
            "x": pa.array([0, 1, 1, 0] * 25),
            "y": pa.array(y, type=pa.float64(), from_pandas=False),
        }
    )
    path = tmp_path / "nan.parquet"
    pq.write_table(table, path)
    assert table.column("y").null_count == 0
    with pytest.raises(InputError, match=r"column 'y' has 25 value\(s\) .* not finite"):
        CellStore(path, unit_key="district", target="y", indicators=["x"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"income": float("inf")}, r"column 'income' has 1 value\(s\) .* not finite"),
        ({"income": None}, r"column 'income' has 1 missing value"),
        ({"y": -1.0}, r"column 'y' must not be negative; 1 person"),
    ],
)
def test_chunked_fits_check_the_persons_as_the_other_paths_do(tmp_path, change, message):
    # continuous indicators go through chunked sums, which read the file in batches
    import pyarrow as pa
    import pyarrow.parquet as pq

    import needsmodel as nm
    from needsmodel.register import fit_chunked

    rng = np.random.default_rng(8)
    n = 600
    columns = {
        "district": rng.choice(list("abcdef"), n).tolist(),
        "g": rng.integers(0, 2, n).tolist(),
        "income": rng.uniform(1.0, 2.0, n).tolist(),
        "y": rng.uniform(0.0, 5.0, n).tolist(),
    }
    for column, value in change.items():
        columns[column][17] = value
    path = tmp_path / "persons.parquet"
    pq.write_table(pa.table(columns), path)
    spec = nm.NeedSpec("y", ["g", "income"], method="ols", unit_key="district", cov="HC1")
    with pytest.raises(InputError, match=message):
        fit_chunked(spec, path)


@pytest.mark.parametrize(
    ("method", "engine", "why"),
    [("ols", "memory", "engine 'memory' fits the persons"), ("gamma", "auto", "method 'gamma'")],
)
def test_person_weights_are_refused_where_they_would_be_left_out(persons, method, engine, why):
    import needsmodel as nm
    from needsmodel.estimate.fit import choose_engine, fit_file

    folder, _ = persons
    spec = nm.NeedSpec("special_ed_cost", ["grade"], method=method, unit_key="district")
    with pytest.raises(InputError, match=rf"person weights \('w'\) .* {why}"):
        fit_file(spec, folder / "persons.csv", engine=engine, weights="w")
    # a small CSV is fitted in memory, unless it has weights
    ols = nm.NeedSpec("special_ed_cost", ["grade"], method="ols", unit_key="district")
    assert choose_engine(ols, folder / "persons.csv") == "memory"
    assert choose_engine(ols, folder / "persons.csv", weights="w") == "duckdb"


def test_unit_ids_with_surrounding_spaces_match_as_in_memory(persons, tmp_path):
    # the in-memory path strips the ids; the collapse trims them the same way
    import needsmodel as nm
    from needsmodel.estimate.fit import fit_file

    _, df = persons
    padded = df.assign(district=" " + df["district"].astype(str) + "  ")
    path = tmp_path / "padded.csv"
    padded.to_csv(path, index=False)
    spec = nm.NeedSpec("special_ed", ["grade", "sex"], method="logit", unit_key="district", cv=2)
    a = fit_file(spec, path, engine="memory").need
    b = fit_file(spec, path, engine="duckdb").need
    assert list(b.index) == sorted(df["district"].astype(str).unique())
    assert b.reindex(a.index).to_numpy() == pytest.approx(a.to_numpy(), rel=1e-9)
