"""Reading and validating unit tables: every bad input has its own error."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import SAMPLE_INDICATORS

import needsmodel as nm
from needsmodel import errors

COLS = dict(
    id="district",
    numeric=["special_ed_cost", "pupils", *SAMPLE_INDICATORS],
    nonnegative=["special_ed_cost", "pupils"],
    exposure="pupils",
    indicators=SAMPLE_INDICATORS,
    n_params=4,
)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_reads_every_format_to_the_same_table(sample_units, tmp_path, suffix):
    path = tmp_path / f"units{suffix}"
    if suffix == ".csv":
        sample_units.to_csv(path, index=False)
    elif suffix == ".xlsx":
        sample_units.to_excel(path, index=False)
    else:
        sample_units.to_parquet(path, index=False)
    got = nm.validate_units(nm.read_table(path, id="district"), **COLS, path=path)
    want = nm.validate_units(sample_units, **COLS)
    pd.testing.assert_frame_equal(got, want)
    assert got.index.tolist()[:3] == ["D01", "D02", "D03"]


def test_ids_keep_leading_zeros_and_lose_spaces(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("id,cost\n 0101 ,5\n0102,6\n", encoding="utf-8")
    df = nm.read_table(path, id="id")
    assert df["id"].tolist() == ["0101", "0102"]


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(errors.MissingFileError, match=re.escape(f"{path}: file not found")):
        nm.read_table(path)


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "units.json"
    path.write_text("{}")
    with pytest.raises(errors.FileFormatError, match=re.escape("unsupported file type '.json'")):
        nm.read_table(path)


def test_missing_column_named_with_suggestion(sample_units):
    df = sample_units.rename(columns={"single_parent": "single_parents"})
    with pytest.raises(
        errors.MissingColumnError,
        match=re.escape("column 'single_parent' not found; did you mean 'single_parents'?"),
    ) as e:
        nm.validate_units(df, **COLS, path="units.csv")
    assert e.value.column == "single_parent"
    assert str(e.value).startswith("units.csv: ")


def test_missing_id_column(sample_units):
    with pytest.raises(errors.MissingColumnError, match=re.escape("column 'district' not found")):
        nm.validate_units(sample_units.drop(columns="district"), **COLS)


def test_duplicate_ids_named(sample_units):
    df = sample_units.copy()
    df.loc[3, "district"] = "D01"
    with pytest.raises(
        errors.DuplicateIdError, match=re.escape("id column 'district' has duplicate values: 'D01'")
    ) as e:
        nm.validate_units(df, **COLS)
    assert e.value.ids == ["D01"]


def test_empty_id(sample_units):
    df = sample_units.copy()
    df["district"] = df["district"].astype(object)
    df.loc[2, "district"] = None
    with pytest.raises(
        errors.MissingValueError,
        match=re.escape("id column 'district' is empty in 1 row(s): 'row 4'"),
    ):
        nm.validate_units(df, **COLS)


def test_missing_values_named_with_units(sample_units):
    df = sample_units.copy()
    df.loc[[4, 7], "single_parent"] = np.nan
    with pytest.raises(
        errors.MissingValueError,
        match=re.escape("column 'single_parent' has 2 missing value(s), for unit(s) 'D05', 'D08'"),
    ) as e:
        nm.validate_units(df, **COLS)
    assert e.value.ids == ["D05", "D08"]


def test_non_numeric_values_named(sample_units):
    df = sample_units.copy()
    df["pupils"] = df["pupils"].astype(object)
    df.loc[1, "pupils"] = "289 elever"
    with pytest.raises(
        errors.NonNumericError,
        match=re.escape("column 'pupils' must be numeric; unit(s) 'D02' have '289 elever'"),
    ):
        nm.validate_units(df, **COLS)


def test_negative_cost(sample_units):
    df = sample_units.copy()
    df.loc[0, "special_ed_cost"] = -5
    with pytest.raises(
        errors.NegativeValueError,
        match=re.escape(
            "column 'special_ed_cost' must not be negative; negative for unit(s) 'D01'"
        ),
    ):
        nm.validate_units(df, **COLS)


def test_negative_exposure(sample_units):
    df = sample_units.copy()
    df.loc[5, "pupils"] = -1
    with pytest.raises(
        errors.NegativeValueError, match=re.escape("column 'pupils' must not be negative")
    ):
        nm.validate_units(df, **COLS)


def test_zero_total_exposure(sample_units):
    df = sample_units.copy()
    df["pupils"] = 0
    with pytest.raises(
        errors.ZeroExposureError, match=re.escape("exposure column 'pupils' sums to zero")
    ):
        nm.validate_units(df, **COLS)


def test_zero_exposure_for_one_unit(sample_units):
    df = sample_units.copy()
    df.loc[9, "pupils"] = 0
    with pytest.raises(
        errors.ZeroExposureError,
        match=re.escape("exposure column 'pupils' is zero for unit(s) 'D10'"),
    ):
        nm.validate_units(df, **COLS)


def test_too_few_units(sample_units):
    with pytest.raises(
        errors.TooFewUnitsError,
        match=re.escape("5 units is too few for a model with 4 parameters; need at least 6"),
    ):
        nm.validate_units(sample_units.head(5), **COLS)


def test_collinear_indicators_are_named(sample_units):
    df = sample_units.copy()
    df["two_parents"] = 1.0 - df["single_parent"]
    cols = {
        **COLS,
        "numeric": [*COLS["numeric"], "two_parents"],
        "indicators": [*SAMPLE_INDICATORS, "two_parents"],
    }
    with pytest.raises(
        errors.CollinearityError,
        match=re.escape(
            "indicators 'single_parent' and 'two_parents' are perfectly collinear together with the intercept"
        ),
    ) as e:
        nm.validate_units(df, **cols)
    assert e.value.indicators == ["single_parent", "two_parents"]


def test_collinear_sum_of_indicators(sample_units):
    df = sample_units.copy()
    df["both"] = df["single_parent"] + 2 * df["parents_low_education"]
    cols = {
        **COLS,
        "numeric": [*COLS["numeric"], "both"],
        "indicators": [*SAMPLE_INDICATORS, "both"],
    }
    with pytest.raises(errors.CollinearityError) as e:
        nm.validate_units(df, **cols)
    assert e.value.indicators == ["parents_low_education", "single_parent", "both"]


def test_constant_indicator(sample_units):
    df = sample_units.assign(parents_low_education=0.2)
    with pytest.raises(
        errors.CollinearityError,
        match=re.escape(
            "indicator 'parents_low_education' is constant (collinear with the intercept)"
        ),
    ):
        nm.validate_units(df, **COLS)


def test_clean_table_is_indexed_by_id_and_float(sample_units):
    out = nm.validate_units(sample_units, **COLS)
    assert out.index.name == "district"
    assert list(out.columns) == COLS["numeric"]
    assert all(dt == np.float64 for dt in out.dtypes)


def test_excel_sheet_by_name(sample_units, tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(xw, sheet_name="cover", index=False)
        sample_units.to_excel(xw, sheet_name="districts", index=False)
    df = nm.read_table(path, id="district", sheet="districts")
    assert len(df) == 24


def test_unreadable_parquet(tmp_path: Path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(errors.FileFormatError, match="cannot read as parquet"):
        nm.read_table(path)
