"""Exported files: names, columns, formats, metadata and atomic writing."""

from __future__ import annotations

import base64
import hashlib
import re

import openpyxl
import pandas as pd
import pytest
from helpers import write_config

import needsmodel as nm
from needsmodel.errors import OutputError


@pytest.fixture
def result(workdir):
    return nm.run(write_config(workdir))


def test_files_and_csv_columns(result, workdir):
    files = result.write()
    assert [f.relative_to(workdir / "out").as_posix() for f in files] == [
        "allocation_keys.csv",
        "coefficients.csv",
        "model_fit.csv",
        "coefficients_cov.csv",
        "pools.csv",
        "composition.csv",
        "winners_losers.csv",
        "criteria_weights.csv",
        "criteria_by_unit.csv",
        "allocation_keys.xlsx",
        "report.html",
        *[
            f"plots/{n}.png"
            for n in [
                "coefficients",
                "observed_vs_predicted",
                "need_index",
                "allocation",
                "residuals_vs_fitted",
                "qq",
                "influence",
                "winners_losers",
                "criteria_weights",
            ]
        ],
    ]
    keys = pd.read_csv(workdir / "out" / "allocation_keys.csv", dtype={"unit": str})
    assert list(keys.columns)[:9] == [
        "unit",
        "exposure",
        "need",
        "index",
        "share",
        "allocation",
        "current",
        "change",
        "change_pct",
    ]
    assert list(keys.columns)[9:] == [
        "target",
        "base_amount",
        "per_capita_amount",
        "needs_amount",
        "transition",
        "current_adjusted",
        "change_adjusted",
        "reason",
    ]
    assert keys["allocation"].sum() == 130_000_000
    coefs = pd.read_csv(workdir / "out" / "coefficients.csv")
    assert list(coefs.columns) == [
        "term",
        "estimate",
        "std_error",
        "t",
        "p_value",
        "ci_low",
        "ci_high",
    ]
    assert coefs["term"].tolist()[0] == "Intercept"
    assert not list((workdir / "out").glob(".staging-*"))


def test_workbook_sheets_and_metadata(result, workdir):
    result.write()
    wb = openpyxl.load_workbook(workdir / "out" / "allocation_keys.xlsx")
    assert wb.sheetnames == [
        "budget per unit",
        "keys",
        "coefficients",
        "model fit",
        "pools",
        "budget composition",
        "winners losers",
        "criteria weights",
        "criteria by unit",
        "metadata",
    ]
    keys = wb["keys"]
    header = [c.value for c in keys[1]]
    assert header[:6] == ["Unit", "Exposure", "Need (kr)", "Need index", "Share", "Allocation (kr)"]
    rows = list(keys.iter_rows(min_row=2))
    assert rows[-1][0].value == "Total" and rows[-1][5].value == "=SUM(F2:F25)"
    total = sum(row[5].value for row in rows[:-1])
    assert total == 130_000_000
    meta = {row[0].value: row[1].value for row in wb["metadata"].iter_rows(min_row=2)}
    digest = hashlib.sha256((workdir / "school_districts.csv").read_bytes()).hexdigest()
    assert meta["SHA-256 of school_districts.csv"] == digest
    assert meta["path of school_districts.csv"] == "school_districts.csv"  # relative to the config
    assert meta["needsmodel version"] == nm.__version__
    assert "run at (UTC)" in meta
    assert meta["config line 1"] == "[data]"


def test_danish_csv_format(workdir):
    result = nm.run(write_config(workdir, output={"csv_format": "da"}))
    result.write()
    raw = (workdir / "out" / "allocation_keys.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    first = raw.decode("utf-8-sig").splitlines()[1]
    assert first.count(";") == 16 and "," in first  # decimal comma
    back = pd.read_csv(
        workdir / "out" / "allocation_keys.csv", sep=";", decimal=",", encoding="utf-8-sig"
    )
    assert back["allocation"].sum() == 130_000_000
    en = nm.run(write_config(workdir)).allocation.table
    pd.testing.assert_series_equal(back["share"], en["share"].round(10), check_names=False)


def test_refuses_to_overwrite_an_input(workdir):
    result = nm.run(write_config(workdir))
    (workdir / "allocation_keys.csv").write_text("precious input")
    inputs = dict(result.inputs)
    inputs[str(workdir / "allocation_keys.csv")] = "x"
    import dataclasses

    clash = dataclasses.replace(result, inputs=inputs)
    with pytest.raises(OutputError, match="would overwrite an input file"):
        clash.write(workdir)
    assert (workdir / "allocation_keys.csv").read_text() == "precious input"


def test_error_while_writing_leaves_previous_outputs(result, workdir, monkeypatch):
    result.write()
    before = {p.name: p.read_bytes() for p in (workdir / "out").rglob("*") if p.is_file()}

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("needsmodel.export._write_workbook", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        result.write()
    after = {p.name: p.read_bytes() for p in (workdir / "out").rglob("*") if p.is_file()}
    assert after == before


def test_csv_outputs_are_identical_between_runs(workdir):
    cfg = write_config(workdir)
    nm.run(cfg).write(workdir / "a")
    nm.run(cfg).write(workdir / "b")
    for name in ("allocation_keys.csv", "coefficients.csv", "model_fit.csv"):
        assert (workdir / "a" / name).read_bytes() == (workdir / "b" / name).read_bytes(), name


def test_report_embeds_the_bytes_of_the_png_files(result, workdir):
    # each figure is rendered once: the report's images are the files' bytes
    result.write()
    out = workdir / "out"
    html = (out / "report.html").read_text(encoding="utf-8")
    embedded = {
        base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    }
    files = {p.read_bytes() for p in (out / "plots").glob("*.png")}
    assert len(files) >= 7
    assert embedded == files
    for data in files:
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
