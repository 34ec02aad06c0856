"""Every CSV read back as a Danish or English user reads it: the same numbers in both formats."""

from __future__ import annotations

import csv
import re
import shutil
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import needsmodel as nm
from needsmodel.cli import main
from needsmodel.export import csv_number, write_csv

_POINT_NUMBER = re.compile(r"^-?\d+\.\d+$")


def _run(folder: Path, csv_format: str) -> Path:
    src = nm.datasets.sample_dir()
    for name in ("school_districts.csv", "dictionary.csv", "pupil_forecast.csv"):
        shutil.copy(src / name, folder / name)
    text = (src / "school_districts_budget.toml").read_text(encoding="utf-8")
    text = text.replace('lang = "da"', f'lang = "da"\ncsv_format = "{csv_format}"')
    text += '\n[uncertainty]\nmethod = "parametric"\nreplicates = 50\n'
    cfg = folder / "budget.toml"
    cfg.write_text(text, encoding="utf-8")
    out = folder / "out"
    assert main(["run", str(cfg), "--out", str(out), "-q"]) == 0
    return out


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    en = _run(tmp_path_factory.mktemp("en"), "en")
    da = _run(tmp_path_factory.mktemp("da"), "da")
    return en, da


def _rows(path: Path, sep: str) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_danish_csv_equals_english_twin_cell_by_cell(twins):
    en, da = twins
    files = sorted(p.name for p in en.glob("*.csv"))
    assert "budget_years.csv" in files and "model_fit.csv" in files and len(files) >= 10
    for name in files:
        e, d = _rows(en / name, ","), _rows(da / name, ";")
        assert len(e) == len(d), name
        for re_, rd in zip(e, d, strict=True):
            assert len(re_) == len(rd), name
            for a, b in zip(re_, rd, strict=True):
                # no Danish cell holds a number with a decimal point (read as thousands)
                assert not _POINT_NUMBER.match(b), (name, b)
                if _POINT_NUMBER.match(a) or re.match(r"^-?\d+$", a):
                    assert b == a.replace(".", ","), (name, a, b)
                # English numbers have no comma: a comma would split the column
                assert not re.match(r"^-?\d+,\d+$", a), (name, a)


def test_danish_csv_read_with_danish_conventions(twins):
    en, da = twins
    for name in ("budget_years.csv", "allocation_keys.csv", "transition_path.csv"):
        e = pd.read_csv(en / name)
        d = pd.read_csv(da / name, sep=";", decimal=",", encoding="utf-8-sig")
        assert list(e.columns) == list(d.columns)
        for c in e.columns:
            if pd.api.types.is_numeric_dtype(e[c]):
                assert pd.api.types.is_numeric_dtype(d[c]), (name, c)
                np.testing.assert_allclose(d[c].to_numpy(float), e[c].to_numpy(float))
    years = pd.read_csv(da / "budget_years.csv", sep=";", decimal=",", encoding="utf-8-sig")
    # the current-price amounts are kroner, not 1,000 times more
    ratio = years["amount_current_prices"] / years["amount"]
    assert ratio.between(0.9, 1.1).all()


def test_mixed_object_columns_use_the_format_mark(tmp_path):
    frame = pd.DataFrame(
        {
            "statistic": ["nobs", "r2", "note", "big", "tiny", "dec"],
            "value": [24, 0.7378, "HC3", 9671933.0, 1.5e-7, Decimal("9671933.000")],
        },
        dtype=object,
    )
    write_csv(frame, tmp_path / "da.csv", "da")
    rows = _rows(tmp_path / "da.csv", ";")
    assert [r[1] for r in rows[1:]] == ["24", "0,7378", "HC3", "9671933", "0,00000015", "9671933"]


def test_csv_number_keeps_text_and_missing():
    assert csv_number("D01", ",") == "D01"
    assert csv_number(float("nan"), ",") == ""
    assert csv_number(True, ",") is True
    assert csv_number(np.float32(2.5), ",") == "2,5"
