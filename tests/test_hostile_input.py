"""Hostile input files: each reads to the right numbers or fails with its own message and exit code 2."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import needsmodel as nm
from needsmodel import errors
from needsmodel.cli import main
from needsmodel.reading import ReadOptions, is_totals_label, read_table

CORPUS = Path(__file__).parent / "data" / "hostile"
COLS = [
    "pupils",
    "parents_low_education",
    "parents_outside_labour_market",
    "single_parent",
    "special_ed_cost",
    "budget_current",
]


@pytest.fixture(scope="module")
def sample():
    return nm.datasets.load_sample().set_index("district")


def _same_as_sample(df: pd.DataFrame, sample: pd.DataFrame, n: int = 24) -> None:
    df = df.set_index("district")
    assert df.index.tolist() == sample.index.tolist()[:n]
    for c in COLS:
        if c in df.columns:
            np.testing.assert_allclose(
                df[c].to_numpy(dtype=float),
                sample[c].to_numpy(dtype=float)[:n],
                rtol=1e-12,
                err_msg=c,
            )
    if "name" in df.columns:
        assert df["name"].tolist() == sample["name"].tolist()[:n]  # æ ø å intact


READS = {
    "danish_excel_export.csv": ReadOptions(),  # cp1252, ';', decimal comma, thousands dots, CRLF
    "utf8_bom.csv": ReadOptions(),
    "latin1_semicolon.csv": ReadOptions(),
    "percent_and_kroner.csv": ReadOptions(),  # '38,42 %' -> 0.3842, '5.238.700 kr.' -> 5238700
    "trailing_spaces_ids.csv": ReadOptions(),
    "numbers_as_text.xlsx": ReadOptions(),
    "merged_header.xlsx": ReadOptions(sheet="Data"),  # header found under the merged title row
    "windows_crlf.csv": ReadOptions(),
    "totals_row.csv": ReadOptions(drop_totals=True),
}


@pytest.mark.parametrize("name", list(READS))
def test_reads_correctly(name, sample):
    df = read_table(CORPUS / name, id="district", columns=COLS, options=READS[name])
    _same_as_sample(df, sample)


def test_explicit_header_row(sample):
    df = read_table(
        CORPUS / "merged_header.xlsx",
        id="district",
        columns=COLS,
        options=ReadOptions(sheet="Data", header_row=2),
    )
    _same_as_sample(df, sample)


def test_ambiguous_numbers_read_with_an_explicit_decimal():
    df = read_table(
        CORPUS / "ambiguous_thousands.csv",
        id="district",
        columns=["special_ed_cost"],
        options=ReadOptions(decimal=","),
    )
    assert df["special_ed_cost"].iloc[:3].tolist() == [1000.0, 2037.0, 3074.0]
    df = read_table(
        CORPUS / "ambiguous_thousands.csv",
        id="district",
        columns=["special_ed_cost"],
        options=ReadOptions(decimal="."),
    )
    assert df["special_ed_cost"].iloc[:3].tolist() == [1.0, 2.037, 3.074]


FAILS = {
    "ambiguous_thousands.csv": (
        errors.AmbiguousNumberError,
        "column 'special_ed_cost' has numbers that read differently with a decimal point and a decimal comma ('1.000', '2.037', '3.074' in 'row 2', 'row 3', 'row 4'",
    ),
    "conflicting_decimals.csv": (
        errors.AmbiguousNumberError,
        "columns 'parents_low_education' use a decimal point and 'special_ed_cost' a decimal comma",
    ),
    "totals_row.csv": (
        errors.TotalsRowError,
        "row 26 looks like a totals row ('I alt' in column 'district')",
    ),
    "merged_header.xlsx": (
        errors.FileFormatError,
        "the first sheet has no column 'district', but sheet 'Data' has; set [data] sheet = \"Data\"",
    ),
    "empty.csv": (errors.FileFormatError, "the file is empty"),
    "duplicate_columns.csv": (
        errors.DuplicateColumnError,
        "column 'pupils' appears 2 times in the header (columns 3, 4)",
    ),
}


@pytest.mark.parametrize("name", list(FAILS))
def test_read_fails_with_its_own_message(name):
    cls, message = FAILS[name]
    with pytest.raises(cls, match=re.escape(message)):
        read_table(CORPUS / name, id="district", columns=COLS)


def _config(tmp_path: Path, units: Path, **data: object) -> Path:
    extra = "".join(
        f"{k} = {v!r}\n".replace("'", '"')
        if not isinstance(v, bool)
        else f"{k} = {str(v).lower()}\n"
        for k, v in data.items()
    )
    text = (
        f'[data]\nunits = "{units}"\nid = "district"\n{extra}'
        '[model]\ntarget = "special_ed_cost"\nexposure = "pupils"\n'
        'indicators = ["parents_low_education", "parents_outside_labour_market", "single_parent"]\n'
        '[allocation]\nbudget = 130_000_000\ncurrent = "budget_current"\nround_to = 1000\n'
        f'[output]\ndir = "{tmp_path / "out"}"\n'
    )
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


CLI_FAILS = {
    **FAILS,
    "header_only.csv": (errors.TooFewUnitsError, "the table has no rows"),
    "all_missing_column.csv": (
        errors.MissingValueError,
        "column 'single_parent' has 24 missing value(s)",
    ),
}


@pytest.mark.parametrize("name", list(CLI_FAILS))
def test_cli_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, name):
    cfg = _config(tmp_path, CORPUS / name)
    assert main(["validate", str(cfg)]) == 2  # validate and run agree on every hostile file
    first = capsys.readouterr().err.splitlines()[:1]
    assert main(["run", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[:1] == first
    assert err.startswith(f"needsmodel: error: {CORPUS / name}") and err.count("\n") == 1
    assert CLI_FAILS[name][1] in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "name", ["danish_excel_export.csv", "numbers_as_text.xlsx", "percent_and_kroner.csv"]
)
def test_cli_runs_on_danish_files_and_gives_the_sample_allocation(tmp_path, name):
    reference = nm.run(_config(tmp_path, nm.datasets.sample_dir() / "school_districts.csv"))
    result = nm.run(_config(tmp_path, CORPUS / name))
    assert (
        result.allocation.table["allocation"].tolist()
        == reference.allocation.table["allocation"].tolist()
    )


def test_drop_totals_from_the_config(tmp_path):
    result = nm.run(_config(tmp_path, CORPUS / "totals_row.csv", drop_totals=True))
    assert len(result.units) == 24


def test_ten_megabyte_file(tmp_path, sample):
    """A 10 MB Danish export reads completely and correctly."""
    base = sample.reset_index()
    reps = 1800
    big = pd.concat(
        [base.assign(district=base["district"] + f"-{k}") for k in range(reps)], ignore_index=True
    )
    path = tmp_path / "big.csv"
    lines = ["district;pupils;parents_low_education;special_ed_cost"]
    lines += [
        f"{d};{p};{_danish(s, 4)};{_danish(c, 0)}"
        for d, p, s, c in zip(
            big["district"],
            big["pupils"],
            big["parents_low_education"],
            big["special_ed_cost"],
            strict=True,
        )
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    assert path.stat().st_size > 1e6
    while path.stat().st_size < 10e6:  # grow to 10 MB with more copies
        extra = [ln.replace(";", f"-{path.stat().st_size};", 1) for ln in lines[1:]]
        with open(path, "a", encoding="utf-8") as f:
            f.write("\n" + "\n".join(extra))
    t0 = time.perf_counter()
    df = read_table(
        path, id="district", columns=["pupils", "parents_low_education", "special_ed_cost"]
    )
    assert time.perf_counter() - t0 < 120  # generous: correctness is the point
    rows = path.read_text(encoding="utf-8").count("\n")  # lines after the header
    assert len(df) == rows
    first = df.iloc[:24]
    np.testing.assert_allclose(first["special_ed_cost"], sample["special_ed_cost"])
    np.testing.assert_allclose(first["parents_low_education"], sample["parents_low_education"])


# ---------------------------------------------------------------- property tests

ids = (
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøåÆØÅ0123456789 -", min_size=1, max_size=12)
    .map(str.strip)
    .filter(
        lambda s: s and not is_totals_label(s)
    )  # a unit called "Total" is a totals row by design
)
amounts = st.integers(min_value=0, max_value=10**9)
shares = st.integers(min_value=0, max_value=10_000).map(lambda v: v / 10_000)


@st.composite
def unit_tables(draw):
    n = draw(st.integers(2, 30))
    unit_ids = draw(st.lists(ids, min_size=n, max_size=n, unique=True))
    return pd.DataFrame(
        {
            "unit": unit_ids,
            "amount": draw(st.lists(amounts, min_size=n, max_size=n)),
            "share": draw(st.lists(shares, min_size=n, max_size=n)),
            "price": draw(
                st.lists(st.integers(0, 10**7).map(lambda v: v / 100), min_size=n, max_size=n)
            ),
        }
    )


def _danish(v: float, decimals: int) -> str:
    return f"{v:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(df=unit_tables())
def test_danish_csv_round_trip(tmp_path, df):
    lines = ["unit;amount;share;price"]
    for r in df.itertuples(index=False):
        lines.append(f"{r.unit};{_danish(r.amount, 0)};{_danish(r.share, 4)};{_danish(r.price, 2)}")
    path = tmp_path / "units.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))
    try:
        back = read_table(path, id="unit", columns=["amount", "share", "price"])
    except errors.AmbiguousNumberError:
        # only when no value proves the convention; then a stated decimal reads it
        back = read_table(
            path, id="unit", columns=["amount", "share", "price"], options=ReadOptions(decimal=",")
        )
    assert back["unit"].tolist() == df["unit"].tolist()
    np.testing.assert_allclose(back["amount"], df["amount"], rtol=0, atol=0)
    np.testing.assert_allclose(back["share"], df["share"], rtol=1e-12)
    np.testing.assert_allclose(back["price"], df["price"], rtol=1e-12)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(df=unit_tables(), as_text=st.booleans())
def test_xlsx_round_trip(tmp_path, df, as_text):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["unit", "amount", "share", "price"])
    for r in df.itertuples(index=False):
        if as_text:  # numbers stored as Danish text
            ws.append([r.unit, _danish(r.amount, 0), _danish(r.share, 4), _danish(r.price, 2)])
        else:
            ws.append([r.unit, r.amount, r.share, r.price])
    path = tmp_path / "units.xlsx"
    wb.save(path)
    opts = ReadOptions(decimal=",") if as_text else ReadOptions()
    back = read_table(path, id="unit", columns=["amount", "share", "price"], options=opts)
    assert back["unit"].tolist() == df["unit"].tolist()
    np.testing.assert_allclose(back["amount"], df["amount"], rtol=0, atol=0)
    np.testing.assert_allclose(back["share"], df["share"], rtol=1e-12)
    np.testing.assert_allclose(back["price"], df["price"], rtol=1e-12)


def test_corpus_is_what_the_generator_makes(tmp_path):
    """The committed corpus can be regenerated (text files byte for byte)."""
    script = CORPUS / "make_corpus.py"
    copy = tmp_path / "hostile"
    copy.mkdir()
    shutil.copy(script, copy / "make_corpus.py")
    # run the generator against a copy that points at the real sample
    code = (
        (copy / "make_corpus.py")
        .read_text(encoding="utf-8")
        .replace(
            'HERE.parents[2] / "data" / "sample" / "school_districts.csv"',
            repr(str(nm.datasets.sample_dir() / "school_districts.csv")),
        )
    )
    (copy / "make_corpus.py").write_text(code, encoding="utf-8")
    namespace: dict = {"__name__": "corpus", "__file__": str(copy / "make_corpus.py")}
    exec(compile(code, str(copy / "make_corpus.py"), "exec"), namespace)
    namespace["main"]()
    for f in CORPUS.glob("*.csv"):
        assert (copy / f.name).read_bytes() == f.read_bytes(), f.name
