"""Progress bars: shown for long steps when enabled, silent otherwise."""

from __future__ import annotations

import duckdb
import pytest

import needsmodel as nm
from needsmodel import progress
from needsmodel.allocation import key_uncertainty


@pytest.fixture
def cells_fit():
    pupils = nm.datasets.load_sample_pupils()
    res = nm.fit(
        nm.NeedSpec("special_ed_cost", ["parents_education"], method="cells", unit_key="district"),
        pupils,
    )
    return res, nm.allocate(res.need, 1_000_000)


def test_bootstrap_refits_draw_a_bar_when_enabled(cells_fit, monkeypatch, capsys):
    monkeypatch.setenv("NEEDSMODEL_PROGRESS", "1")
    monkeypatch.setattr(progress, "DELAY", 0.0)
    res, alloc = cells_fit
    key_uncertainty(res, alloc, method="bootstrap", replicates=5)
    err = capsys.readouterr().err
    assert "bootstrap" in err
    assert "5/5" in err


def test_no_bar_when_disabled(cells_fit, monkeypatch, capsys):
    monkeypatch.setenv("NEEDSMODEL_PROGRESS", "0")
    monkeypatch.setattr(progress, "DELAY", 0.0)
    res, alloc = cells_fit
    key_uncertainty(res, alloc, method="bootstrap", replicates=5)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("flag", "expected"), [("1", "true"), ("0", "false")])
def test_duckdb_bar_follows_the_same_switch(monkeypatch, flag, expected):
    monkeypatch.setenv("NEEDSMODEL_PROGRESS", flag)
    con = duckdb.connect()
    progress.configure_duckdb(con)
    value = con.execute(
        "SELECT value FROM duckdb_settings() WHERE name = 'enable_progress_bar'"
    ).fetchone()
    assert value == (expected,)
