"""Hostile inputs that once ended silently wrong, in a traceback or in a hang.

Each case is a CLI run that must end with exit code 2, one readable line naming
the config key or the column (and rows or ids), and nothing written, in under
ten seconds.
"""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from helpers import write_config

import needsmodel as nm
from needsmodel.cli import main


def _cli(capsys, *args: str) -> tuple[int, str, float]:
    start = time.perf_counter()
    code = main([*args])
    seconds = time.perf_counter() - start
    return code, capsys.readouterr().err, seconds


def _refused(capsys, cfg: Path, *needles: str) -> str:
    # validate accepts exactly what run accepts: the same exit code and the same first line
    vcode, verr, _ = _cli(capsys, "validate", str(cfg))
    code, err, seconds = _cli(capsys, "run", str(cfg), "-q")
    assert (vcode, verr.splitlines()[:1]) == (code, err.splitlines()[:1]), (verr, err)
    assert code == 2, err
    assert err.startswith("needsmodel: error: ") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, (needle, err)
    assert seconds < 10
    assert not (cfg.parent / "out").exists()
    return err


def _table(workdir: Path) -> pd.DataFrame:
    return pd.read_csv(workdir / "school_districts.csv", dtype={"district": str})


def _save(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


# ----------------------------------------------------------------- silently wrong before


def test_a_declared_decimal_comma_is_binding(workdir, capsys):
    text = (workdir / "school_districts.csv").read_text(encoding="utf-8")
    df = pd.read_csv(workdir / "school_districts.csv", dtype=str)
    df["pupils"] = ["1.393" if i == 0 else v for i, v in enumerate(df["pupils"])]
    df.loc[5, "pupils"] = "433.5"  # proves a decimal point, against the declared comma
    for c in ("parents_low_education", "parents_outside_labour_market", "single_parent"):
        df[c] = df[c].str.replace(".", ",", regex=False)
    df.to_csv(workdir / "units.csv", sep=";", index=False)
    assert text  # the original stays
    cfg = write_config(workdir, units="units.csv", data={"decimal": ","})
    _refused(capsys, cfg, "column 'pupils'", "'433.5'", "row 7", "decimal = ','")


@pytest.mark.parametrize(
    "label", ["Kommunen i alt", "I alt 2027", "Total, alle distrikter", "Sum 2027", "Skoler total"]
)
def test_totals_rows_with_ordinary_danish_labels_are_refused(workdir, capsys, label):
    df = _table(workdir)
    total = df.select_dtypes("number").sum()
    row = {**total.to_dict(), "district": label, "name": label}
    cfg = write_config(
        workdir, units=_save(pd.concat([df, pd.DataFrame([row])]), workdir / "u.csv").name
    )
    _refused(capsys, cfg, "row 26", "totals row", "drop_totals")


def test_a_totals_row_is_recognised_by_its_values(workdir, capsys):
    df = _table(workdir)
    row = {**df.select_dtypes("number").sum().to_dict(), "district": "K99", "name": "Kommunen"}
    cfg = write_config(
        workdir, units=_save(pd.concat([df, pd.DataFrame([row])]), workdir / "u.csv").name
    )
    _refused(capsys, cfg, "row 26 ('K99')", "equal the sum of all other rows")
    cfg = write_config(workdir, units="u.csv", data={"drop_totals": True})
    assert len(nm.run(cfg).allocation.table) == 24


def test_a_unit_is_not_mistaken_for_a_total(workdir):
    df = _table(workdir)
    df.loc[0, "name"] = "Totalskolen"
    df.loc[1, "name"] = "Summerhill"
    cfg = write_config(workdir, units=_save(df, workdir / "u.csv").name, data={"label": "name"})
    assert len(nm.run(cfg).allocation.table) == 24


def test_parquet_numbers_stored_as_danish_text_are_read_as_numbers(workdir):
    df = _table(workdir)
    base = nm.run(write_config(workdir)).results.need
    text = df.copy()
    for c in ("parents_low_education", "single_parent", "budget_current"):
        text[c] = [
            f"{v:.4f}".replace(".", ",") if c != "budget_current" else f"{v:,.0f}".replace(",", ".")
            for v in df[c]
        ]
    text.to_parquet(workdir / "u.parquet")
    result = nm.run(write_config(workdir, units="u.parquet"))
    assert list(result.results.params.index) == list(
        nm.run(write_config(workdir)).results.params.index
    )
    pd.testing.assert_series_equal(result.results.need, base, rtol=1e-12)


def test_a_datetime_indicator_is_refused(workdir, capsys):
    df = _table(workdir)
    df["single_parent"] = pd.date_range("2020-01-01", periods=len(df), freq="D")
    df.to_parquet(workdir / "u.parquet")
    cfg = write_config(workdir, units="u.parquet")
    _refused(capsys, cfg, "column 'single_parent' holds dates or times")


@pytest.mark.parametrize(
    ("first", "second", "shown"),
    [
        ("Ådalen", unicodedata.normalize("NFD", "Ådalen"), "'Ådalen'"),
        ("D01", "D01\u200b", "'D01'"),
        ("D01", "d01", "differ only in upper and lower case"),
    ],
)
def test_ids_that_look_the_same_are_one_id(workdir, capsys, first, second, shown):
    df = _table(workdir)
    df.loc[0, "district"] = first
    df.loc[1, "district"] = second
    cfg = write_config(workdir, units=_save(df, workdir / "u.csv").name)
    _refused(capsys, cfg, "column 'district'", shown)


def test_case_sensitive_ids_can_be_allowed(workdir):
    df = _table(workdir)
    df.loc[1, "district"] = "d01"
    cfg = write_config(
        workdir, units=_save(df, workdir / "u.csv").name, data={"case_sensitive_ids": True}
    )
    assert {"D01", "d01"} <= set(nm.run(cfg).allocation.table["unit"])


def test_hidden_excel_rows_are_reported(workdir, capsys):
    df = _table(workdir)
    df.to_excel(workdir / "u.xlsx", index=False)
    book = openpyxl.load_workbook(workdir / "u.xlsx")
    book.active.row_dimensions[5].hidden = True
    book.save(workdir / "u.xlsx")
    cfg = write_config(workdir, units="u.xlsx")
    code, err, _ = _cli(capsys, "run", str(cfg), "-q")
    assert code == 0
    assert "1 hidden row 'row 5' (ids 'D04') are read as units" in err


def test_an_excel_error_value_is_not_a_missing_value(workdir, capsys):
    df = _table(workdir)
    df.to_excel(workdir / "u.xlsx", index=False)
    book = openpyxl.load_workbook(workdir / "u.xlsx")
    book.active["F4"] = "#DIV/0!"  # single_parent of D03, as Excel caches a failed formula
    book.save(workdir / "u.xlsx")
    cfg = write_config(workdir, units="u.xlsx")
    _refused(capsys, cfg, "column 'single_parent'", "Excel error #DIV/0!", "row 4")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le"])
def test_utf16_text_from_excel_is_read(workdir, codec):
    text = (workdir / "school_districts.csv").read_text(encoding="utf-8").replace(",", "\t")
    (workdir / "u.txt").write_bytes(text.encode(codec))
    result = nm.run(write_config(workdir, units="u.txt"))
    pd.testing.assert_series_equal(result.results.need, nm.run(write_config(workdir)).results.need)


# ----------------------------------------------------------------- crashes and hangs before


@pytest.mark.parametrize(
    ("section", "key", "value", "needle"),
    [
        ("allocation", "budget", "9223372036854775808", "2^53"),
        ("allocation", "budget", "1e300", "2^53"),
        ("allocation", "budget", "inf", "expected a whole number"),
        ("allocation", "budget", "nan", "expected a whole number"),
        ("allocation", "phase_in_years", "1_000_000_000", "between 1 and 50"),
        ("allocation", "phase_in_years", "100_000", "between 1 and 50"),
        ("allocation", "base_per_unit", "nan", "expected a finite number"),
        ("allocation", "max_loss_pct", "inf", "expected a finite number"),
        ("uncertainty", "seed", "-1", "from 0 to 2^63"),
        ("uncertainty", "replicates", "1_000_000_000", "between 10 and 100,000"),
    ],
)
def test_absurd_numbers_in_the_config_name_the_key(workdir, capsys, section, key, value, needle):
    cfg = write_config(
        workdir, uncertainty={"method": "bootstrap"} if section == "uncertainty" else {}
    )
    text = cfg.read_text()
    line = f"{key} = {value}"
    text = (
        text.replace(f"[{section}]\n", f"[{section}]\n{line}\n")
        if f"[{section}]" in text
        else text + f"\n[{section}]\n{line}\n"
    )
    text = "\n".join(
        ln for ln in text.splitlines() if not (ln.startswith(f"{key} =") and ln != line)
    )
    cfg.write_text(text)
    _refused(capsys, cfg, f"[{section}.{key}]", needle)


@pytest.mark.parametrize(
    ("column", "value"),
    [("pupils", 1e300), ("special_ed_cost", 1e200), ("single_parent", 1e300)],
)
def test_extreme_values_name_the_column(workdir, capsys, column, value):
    df = _table(workdir)
    df[column] = df[column].astype(float)
    df.loc[2, column] = value
    cfg = write_config(workdir, units=_save(df, workdir / "u.csv").name)
    _refused(capsys, cfg, f"column '{column}'", "'D03'", "beyond ±1e+15")


@pytest.mark.parametrize("bad", ["D0\x071", "D01\x00", "\x1b[31mD01"])
def test_control_characters_in_ids_are_refused_at_reading(workdir, capsys, bad):
    df = _table(workdir)
    df.loc[0, "district"] = bad
    cfg = write_config(workdir, units=_save(df, workdir / "u.csv").name)
    _refused(capsys, cfg, "column 'district' holds control characters", "row 2")


def test_an_enormous_label_is_refused_quickly(workdir, capsys):
    df = _table(workdir)
    df.loc[3, "name"] = "x" * 200_000
    cfg = write_config(workdir, units=_save(df, workdir / "u.csv").name, data={"label": "name"})
    _refused(capsys, cfg, "column 'name'", "longer than 200 characters", "row 5")


def test_a_device_is_not_a_data_file(workdir, capsys):
    cfg = write_config(workdir, units="/dev/zero")
    _refused(capsys, cfg, "/dev/zero", "not a regular file")


def test_the_id_column_as_an_indicator_names_the_key(workdir, capsys):
    cfg = write_config(workdir, model={"indicators": ["parents_low_education", "district"]})
    _refused(capsys, cfg, "[model.indicators]", "the id column 'district'")


def test_budget_limit_in_python_too():
    with pytest.raises(nm.errors.AllocationError, match="2\\^53"):
        nm.AllocationPolicy(2**60)
    with pytest.raises(nm.errors.AllocationError, match="finite"):
        nm.AllocationPolicy(1_000_000, base_per_unit=float("nan"))
    need = pd.Series([1.0, 2.0], index=["a", "b"])
    alloc = nm.allocate(need, nm.AllocationPolicy(2**53 - 1))
    assert int(alloc.table["allocation"].sum()) == 2**53 - 1
    assert np.issubdtype(alloc.table["allocation"].dtype, np.integer)
