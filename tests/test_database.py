"""Person tables in a real PostgreSQL server: the collapse runs on the server.

The server is started by the tests from the OS packages (``tests/postgres.py``);
the same persons are written to Parquet, and every fit from the server must
equal the Parquet fit (and the in-memory fit) to 1e-9.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from postgres import postgres_server

import needsmodel as nm
from needsmodel.cli import main
from needsmodel.errors import ConfigError, DataError, InputError
from needsmodel.estimate.register import fit_collapsed

#: starts a PostgreSQL server: kept out of `make test-fast`, run by `make test` and CI
pytestmark = pytest.mark.slow


INDICATORS = [
    "parents_education",
    "parents_outside_labour_market",
    "single_parent",
    "background",
    "income_quartile",
]


@pytest.fixture(scope="module")
def server():
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="module")
def pupils() -> pd.DataFrame:
    frame = pd.read_parquet(nm.datasets.sample_dir() / "pupils.parquet")
    rng = np.random.default_rng(5)
    # a person weight and a count outcome for WLS and Poisson
    return frame.assign(
        weight=rng.uniform(0.5, 2.0, len(frame)).round(3),
        visits=rng.poisson(1.0 + frame["special_ed"].to_numpy()),
    )


@pytest.fixture(scope="module")
def loaded(server, pupils, tmp_path_factory):
    """The pupils in schema ``registers`` of the server and in a Parquet file."""
    engine = sa.create_engine(server)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA registers"))
        # mixed-case and reserved-word column names must survive the round trip
        pupils.rename(columns={"grade": "Grade"}).to_sql(
            "pupils", conn, schema="registers", index=False, chunksize=5000, method="multi"
        )
    engine.dispose()
    folder = tmp_path_factory.mktemp("db")
    path = folder / "pupils.parquet"
    pupils.rename(columns={"grade": "Grade"}).to_parquet(path)
    return server, path


def _spec(**kw) -> nm.NeedSpec:
    base = {
        "target": "special_ed",
        "indicators": INDICATORS,
        "method": "logit",
        "categorical": ["income_quartile"],
        "unit_key": "district",
        "cov": "HC0",
    }
    return nm.NeedSpec(**{**base, **kw})


@pytest.mark.parametrize(
    ("kw", "weights"),
    [
        ({}, None),
        ({"cov": "cluster", "cluster": "district"}, None),
        ({"method": "poisson", "target": "visits", "cov": "nonrobust"}, None),
        ({"method": "ols", "target": "special_ed_cost", "cov": "HC1"}, "weight"),
        (
            {"method": "ols", "target": "special_ed_cost", "indicators": [*INDICATORS, "Grade"]},
            None,
        ),
    ],
)
def test_fit_on_the_server_equals_the_parquet_fit(loaded, kw, weights):
    url, path = loaded
    spec = _spec(**kw)
    table = nm.DatabaseTable(url, "registers.pupils")
    on_server = fit_collapsed(spec, table, weights=weights)
    on_file = fit_collapsed(spec, path, weights=weights)
    pd.testing.assert_index_equal(on_server.need.index, on_file.need.index)
    np.testing.assert_allclose(on_server.need, on_file.need, rtol=1e-9)
    np.testing.assert_allclose(on_server.params, on_file.params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(on_server.bse, on_file.bse, rtol=1e-9)
    for key in ("llf", "cv_rmse", "persons", "cells"):
        if key in on_file.fit_stats:
            assert on_server.fit_stats[key] == pytest.approx(on_file.fit_stats[key], rel=1e-9)


def test_fit_reads_the_table_into_memory_when_the_method_needs_persons(loaded, pupils):
    url, _ = loaded
    spec = _spec(method="twopart", target="special_ed_cost")
    table = nm.DatabaseTable(url, "registers.pupils")
    res = nm.fit(spec, table)
    direct = nm.fit(spec, pupils.rename(columns={"grade": "Grade"}).astype({"district": str}))
    np.testing.assert_allclose(res.need.sort_index(), direct.need.sort_index(), rtol=1e-9)


def test_run_from_a_database_config_equals_the_parquet_run(loaded, tmp_path):
    url, path = loaded
    src = nm.datasets.sample_dir()
    for name in ("special_education_register.toml", "school_districts.csv", "dictionary.csv"):
        shutil.copy(src / name, tmp_path / name)
    shutil.copy(path, tmp_path / "pupils.parquet")
    text = (tmp_path / "special_education_register.toml").read_text(encoding="utf-8")
    file_cfg = tmp_path / "file.toml"
    file_cfg.write_text(text, encoding="utf-8")
    db_cfg = tmp_path / "db.toml"
    db_cfg.write_text(
        text.replace(
            'persons = "pupils.parquet"',
            f'database = "{url}"\npersons_table = "registers.pupils"',
        ),
        encoding="utf-8",
    )
    assert main(["validate", str(db_cfg)]) == 0
    assert main(["run", str(db_cfg), "--out", str(tmp_path / "db"), "-q"]) == 0
    assert main(["run", str(file_cfg), "--out", str(tmp_path / "file"), "-q"]) == 0
    a = pd.read_csv(tmp_path / "db" / "allocation_keys.csv").set_index("unit")
    b = pd.read_csv(tmp_path / "file" / "allocation_keys.csv").set_index("unit")
    assert len(a) == 24
    np.testing.assert_allclose(a["need"], b["need"], rtol=1e-9)
    assert (a["allocation"] == b["allocation"]).all()
    meta = pd.read_excel(tmp_path / "db" / "allocation_keys.xlsx", sheet_name="metadata")
    rows = dict(zip(meta.iloc[:, 0], meta.iloc[:, 1], strict=True))
    assert str(rows["persons from"]).endswith("table registers.pupils")


@pytest.mark.parametrize("password", ["hunter2", "pa/ss w'rd:x"])
def test_password_never_reaches_the_outputs(loaded, tmp_path, monkeypatch, password):
    url, _ = loaded
    src = nm.datasets.sample_dir()
    for name in ("special_education_register.toml", "school_districts.csv", "dictionary.csv"):
        shutil.copy(src / name, tmp_path / name)
    # trust authentication ignores the password, so the run succeeds and we can read its files
    with_password = url.replace("postgres@", f"postgres:{password}@")
    text = (tmp_path / "special_education_register.toml").read_text(encoding="utf-8")
    cfg = tmp_path / "db.toml"
    cfg.write_text(
        text.replace(
            'persons = "pupils.parquet"',
            f'database = {json.dumps(with_password)}\npersons_table = "registers.pupils"',
        ),
        encoding="utf-8",
    )
    assert main(["run", str(cfg), "--out", str(tmp_path / "out"), "-q"]) == 0
    for f in (tmp_path / "out").rglob("*"):
        if f.is_file() and f.suffix in (".csv", ".html", ".json", ".md", ".txt"):
            assert password not in f.read_text(encoding="utf-8", errors="replace"), f.name
    for sheet in pd.read_excel(tmp_path / "out" / "allocation_keys.xlsx", sheet_name=None).values():
        cells = sheet.astype(str)
        assert not cells.apply(lambda c: c.str.contains(password, regex=False)).any().any()
    # and the URL can come from the environment instead of the config
    monkeypatch.setenv("PUPILS_DB", url)
    cfg.write_text(
        text.replace(
            'persons = "pupils.parquet"',
            'database = "env:PUPILS_DB"\npersons_table = "registers.pupils"',
        ),
        encoding="utf-8",
    )
    assert main(["validate", str(cfg)]) == 0


@pytest.mark.parametrize(
    ("table", "kw", "message"),
    [
        ("registers.nope", {}, "table not found"),
        ("registers.pupils", {"target": "cost_typo"}, "'cost_typo'"),
    ],
)
def test_bad_table_or_column_names_the_database_table(loaded, table, kw, message):
    url, _ = loaded
    with pytest.raises(DataError, match=message) as err:
        fit_collapsed(_spec(**kw), nm.DatabaseTable(url, table))
    assert table in str(err.value) or "cost_typo" in str(err.value)


def test_missing_values_on_the_server_are_refused(loaded):
    url, _ = loaded
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE registers.holes AS SELECT * FROM registers.pupils"))
        conn.execute(sa.text("UPDATE registers.holes SET background = NULL WHERE pupil_id < 4"))
    engine.dispose()
    with pytest.raises(DataError, match=r"'background' has 3 missing value\(s\)"):
        fit_collapsed(_spec(), nm.DatabaseTable(url, "registers.holes"))


def test_outcomes_and_weights_that_are_not_finite_are_refused_on_the_server(loaded):
    # PostgreSQL's double precision holds NaN and infinities; an OLS on them would be NaN
    url, _ = loaded
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE registers.odd AS SELECT * FROM registers.pupils"))
        conn.execute(sa.text("ALTER TABLE registers.odd ALTER COLUMN weight TYPE double precision"))
        conn.execute(sa.text("UPDATE registers.odd SET weight = 'NaN' WHERE pupil_id < 3"))
        conn.execute(sa.text("UPDATE registers.odd SET weight = 'Infinity' WHERE pupil_id = 3"))
    engine.dispose()
    spec = _spec(method="ols", target="special_ed_cost", cov="HC1")
    table = nm.DatabaseTable(url, "registers.odd")
    with pytest.raises(DataError, match=r"'weight' has 3 value\(s\) .* not finite") as err:
        fit_collapsed(spec, table, weights="weight")
    assert err.value.column == "weight"


@pytest.mark.parametrize(
    "table", ["pupils; DROP TABLE registers.pupils", "a.b.c", "pupils--", "", "1pupils"]
)
def test_hostile_table_names_are_refused_before_any_query(table):
    with pytest.raises(InputError, match="table"):
        nm.DatabaseTable("postgresql+psycopg://x@/y", table)


def test_a_server_that_is_down_gives_one_readable_error_without_the_password(tmp_path):
    table = nm.DatabaseTable(
        f"postgresql+psycopg://postgres:hunter2@/postgres?host={tmp_path}&port=1", "pupils"
    )
    with pytest.raises(DataError, match="cannot connect") as err:
        fit_collapsed(_spec(), table)
    assert "hunter2" not in str(err.value)


def test_config_needs_both_database_and_table(tmp_path):
    src = nm.datasets.sample_dir()
    text = (src / "special_education_register.toml").read_text(encoding="utf-8")
    cases = {
        'database = "postgresql+psycopg://x@/y"': "persons_table",
        'persons_table = "pupils"': "database",
        'database = "postgresql+psycopg://x@/y"\npersons_table = "pupils"\n'
        'persons = "pupils.parquet"': "not both",
        'database = "env:NEEDSMODEL_NO_SUCH_VARIABLE"\npersons_table = "pupils"': "not set",
    }
    for i, (replacement, message) in enumerate(cases.items()):
        cfg = tmp_path / f"c{i}.toml"
        cfg.write_text(text.replace('persons = "pupils.parquet"', replacement), encoding="utf-8")
        for name in ("school_districts.csv", "dictionary.csv", "pupils.parquet"):
            shutil.copy(src / name, tmp_path / name)
        with pytest.raises(ConfigError, match=message):
            nm.load_config(cfg)


def test_passwords_are_hidden_wherever_a_url_is_shown():
    from needsmodel.collapse import redact_passwords

    t = nm.DatabaseTable("postgresql+psycopg://a:hunter2@db/x?password=hunter2&pwd=hunter2", "p")
    assert "hunter2" not in repr(t) and "hunter2" not in t.where
    assert "hunter2" not in redact_passwords(f"url = {t.url!r}")
