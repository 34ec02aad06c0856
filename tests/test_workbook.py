"""The demo workbook is finance-grade on every sheet, in the report's language."""

from __future__ import annotations

import re
import shutil

import openpyxl
import pytest

import needsmodel as nm
from needsmodel.cli import main

#: English that leaked into the Danish workbook before (and must not come back).
ENGLISH_LEAKS = [
    "nobs", "r2", "cv_scheme", "by estimated need", "run at (UTC)", "needs", "per_capita",
    "base", "Intercept", "leave-one-out", "Total", "socioeconomic", "per_exposure",
    "config line", "sha256", "Unit", "Allocation (kr)", "pace of change",
]  # fmt: skip
#: Danish that must not appear in the English workbook.
DANISH_LEAKS = ["I alt", "Tildeling", "Enhed", "Konstantled", "kr.", "Behovspulje", "ingen"]


@pytest.fixture(scope="module", params=["da", "en"])
def workbook(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"wb_{request.param}")
    src = nm.datasets.sample_dir()
    for name in ("school_districts.toml", "school_districts.csv", "dictionary.csv"):
        shutil.copy(src / name, folder / name)
    cfg = folder / "school_districts.toml"
    cfg.write_text(cfg.read_text().replace('lang = "da"', f'lang = "{request.param}"'))
    assert main(["run", str(cfg), "--out", str(folder / "out"), "-q"]) == 0
    return request.param, openpyxl.load_workbook(folder / "out" / "allocation_keys.xlsx")


def _data_cells(ws):
    for row in ws.iter_rows(min_row=2):
        yield from row


def test_every_sheet_is_formatted(workbook):
    _, wb = workbook
    for ws in wb.worksheets:
        general = [
            c.coordinate
            for c in _data_cells(ws)
            if isinstance(c.value, float) and c.number_format == "General"
        ]
        assert general == [], (ws.title, general[:5])
        assert all(c.font.bold for c in ws[1]), ws.title
        assert ws.freeze_panes in ("A2", "B2"), ws.title
        assert ws.auto_filter.ref, ws.title
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1


def test_budget_sheet_totals_and_names(workbook):
    lang, wb = workbook
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    alloc_col = header.index("Tildeling (kr.)" if lang == "da" else "Allocation (kr)") + 1
    last = ws.max_row
    assert ws.cell(last, 1).value == ("I alt" if lang == "da" else "Total")
    letter = openpyxl.utils.get_column_letter(alloc_col)
    assert ws.cell(last, alloc_col).value == f"=SUM({letter}2:{letter}{last - 1})"
    values = [ws.cell(r, alloc_col).value for r in range(2, last)]
    assert sum(values) == 130_000_000
    names = [ws.cell(r, 2).value for r in range(2, last)]
    assert "Ådalen" in names and "Rosenhøj" in names
    assert ("kr. pr. elev/borger" if lang == "da" else "kr per pupil/citizen") in header
    # an unused pool is no column: the sample has no base amounts
    assert ("Grundbeløb (kr.)" if lang == "da" else "Base amount (kr)") not in header


def test_percentages_are_real_percentages(workbook):
    lang, wb = workbook
    ws = wb.worksheets[1]
    header = [c.value for c in ws[1]]
    col = header.index("Ændring (%)" if lang == "da" else "Change (%)") + 1
    cells = [ws.cell(r, col) for r in range(2, 26)]
    assert all(c.number_format.endswith("%") for c in cells)
    assert max(abs(c.value) for c in cells) <= 0.1 + 1e-9  # 10 % is 0.10, not 10


def test_no_word_of_the_other_language(workbook):
    lang, wb = workbook
    text = [
        str(c.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and not ws.title.startswith("metadata")
    ]
    text += [ws.title for ws in wb.worksheets]
    leaks = ENGLISH_LEAKS if lang == "da" else DANISH_LEAKS
    for word in leaks:
        pattern = re.compile(rf"(?<![\w]){re.escape(word)}(?![\w])")
        hits = [t for t in text if pattern.search(t)]
        assert hits == [], (word, hits[:3])


def test_compare_writes_a_scenario_workbook_in_the_config_language(tmp_path):
    src = nm.datasets.sample_dir()
    for name in ("school_districts.toml", "school_districts.csv", "dictionary.csv"):
        shutil.copy(src / name, tmp_path / name)
    base = (tmp_path / "school_districts.toml").read_text()
    (tmp_path / "a.toml").write_text(base)
    (tmp_path / "b.toml").write_text(base.replace("max_loss_pct = 5", "max_loss_pct = 2"))
    out = tmp_path / "cmp"
    args = ["compare", str(tmp_path / "a.toml"), str(tmp_path / "b.toml"), "--names", "A", "B"]
    assert main([*args, "--out", str(out), "-q"]) == 0
    wb = openpyxl.load_workbook(out / "scenarios.xlsx")
    ws = wb["scenarier"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Enhed", "Nuværende budget (kr.)", "A: Andel"]
    assert "B − A (kr.)" in header
    assert ws.cell(ws.max_row, 1).value == "I alt"
    text = (out / "scenarios.csv").read_text()
    assert not re.search(r"\.\d{11,}", text)  # no 17-digit floats
