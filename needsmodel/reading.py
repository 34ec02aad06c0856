"""Reading unit and person tables from the files finance teams actually have.

CSV exports from Danish systems (``;`` separators, decimal commas, ``1.234.567``
thousands, Latin-1 or UTF-8 with BOM, æøå), Excel workbooks (a named sheet,
header rows further down, merged header cells, numbers stored as text, totals
rows) and Parquet files. What can be detected is detected; what can be read in
two ways is refused with the file, column and rows; every choice can be fixed in
``[data]`` (``sep``, ``decimal``, ``thousands``, ``encoding``, ``sheet``,
``header_row``, ``drop_totals``).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import (
    AmbiguousNumberError,
    DataError,
    DuplicateColumnError,
    FileFormatError,
    HiddenRowsWarning,
    MissingFileError,
    TotalsRowError,
    format_ids,
)
from .numbers import Convention, looks_numeric, parse_column

__all__ = [
    "MAX_LABEL_LENGTH",
    "SUPPORTED_SUFFIXES",
    "TOTALS_WORDS",
    "ReadOptions",
    "check_text",
    "clean_text",
    "is_totals_label",
    "read_table",
]

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq")

#: Labels that mark a totals row (compared case-insensitively, without a trailing colon).
TOTALS_WORDS = (
    "i alt",
    "ialt",
    "total",
    "totalt",
    "sum",
    "samlet",
    "i alt for kommunen",
    "grand total",
)

_HEADER_SEARCH = 20


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file; ``None`` means detect.

    Attributes
    ----------
    sep : str, optional
        CSV field separator (detected among ``; , tab |``).
    decimal : str, optional
        Decimal mark, ``","`` or ``"."`` (proved by the data, else refused).
    thousands : str, optional
        Thousands separator (default: the other mark; spaces are always
        accepted).
    encoding : str, optional
        Text encoding (UTF-8 with or without BOM, else Windows-1252).
    sheet : str or int, optional
        Excel sheet name or 0-based position (default: the first).
    header_row : int, optional
        1-based row holding the column names (default: the first row, or the
        first of the top 20 rows holding the id column).
    drop_totals : bool
        Drop rows labelled as totals ("I alt", "Total", ...) instead of refusing
        the file.
    """

    sep: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    encoding: str | None = None
    sheet: str | int | None = None
    header_row: int | None = None
    drop_totals: bool = False

    @property
    def convention(self) -> Convention | None:
        """The number convention given, if any."""
        if self.decimal is None:
            return None
        return Convention.of(self.decimal, self.thousands)


def _utf16(raw: bytes) -> str | None:
    """The codec of UTF-16 text (Excel's "Unicode text"), with or without a BOM, else None."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    head = raw[:4000]
    if len(head) >= 4 and head.count(b"\x00") > len(head) // 4:
        even, odd = head[0::2].count(b"\x00"), head[1::2].count(b"\x00")
        if odd > 3 * even:
            return "utf-16-le"
        if even > 3 * odd:
            return "utf-16-be"
    return None


def _decode(raw: bytes, encoding: str | None, path: Path) -> str:
    if encoding is None and (codec := _utf16(raw)) is not None:
        try:
            return raw.decode(codec)
        except UnicodeDecodeError as e:
            raise FileFormatError(
                f"looks like UTF-16 text but cannot be decoded as such (byte {e.start}); "
                "save it as CSV UTF-8",
                path=path,
            ) from e
    if encoding is not None:
        try:
            return raw.decode(encoding)
        except LookupError as e:
            raise FileFormatError(f"unknown encoding {encoding!r}", path=path) from e
        except UnicodeDecodeError as e:
            raise FileFormatError(
                f"cannot be decoded as {encoding}: byte {e.start} ({raw[e.start : e.start + 1]!r}) "
                "does not fit; set [data] encoding to the file's encoding",
                path=path,
            ) from e
    if raw.count(b"\x00") > len(raw) // 100:
        raise FileFormatError(
            "holds NUL bytes: not a text file (a binary file, or a text encoding other than "
            "UTF-8, UTF-16 or Windows-1252); set [data] encoding or save it as CSV UTF-8",
            path=path,
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Danish Windows exports: æ ø å as single bytes
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def _sniff(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t|").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in ";,\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _grid_csv(path: Path, opts: ReadOptions) -> pd.DataFrame:
    raw = path.read_bytes()
    if not raw.strip(b"\xef\xbb\xbf\xff\xfe\x00 \r\n\t"):
        raise FileFormatError("the file is empty", path=path)
    text = _decode(raw, opts.encoding, path)
    sep = opts.sep or ("\t" if path.suffix.lower() == ".tsv" else _sniff(text))
    try:
        grid = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=True,
            engine="python" if len(sep) > 1 else "c",
        )
    except (pd.errors.ParserError, ValueError) as e:
        raise FileFormatError(f"cannot read as CSV with separator {sep!r}: {e}", path=path) from e
    return grid


def _find_sheet(path: Path, id: str) -> str | None:
    """The first sheet whose top rows hold the id column, if any."""
    with pd.ExcelFile(path, engine="openpyxl") as book:
        for name in book.sheet_names:
            top = pd.read_excel(
                book, sheet_name=name, header=None, dtype=object, nrows=_HEADER_SEARCH
            )
            if any(isinstance(v, str) and v.strip() == id for v in top.to_numpy().ravel()):
                return str(name)
    return None


@dataclass(frozen=True)
class _ExcelNotes:
    hidden: list[int]  # 0-based grid rows that are hidden
    errors: dict[tuple[int, int], str]  # (grid row, grid column) -> "#DIV/0!"


def _excel_notes(path: Path, sheet: str | int) -> _ExcelNotes:
    """Hidden rows and error cells (``#DIV/0!``, ``#N/A``) of a sheet (pandas hides both)."""
    if path.stat().st_size > 20_000_000:
        return _ExcelNotes([], {})
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception:  # already read by pandas; notes are a bonus
        return _ExcelNotes([], {})
    try:
        ws = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet]
        top = ws.min_row
        hidden = sorted(r - top for r, d in ws.row_dimensions.items() if d.hidden and r >= top)
        errors = {
            (c.row - top, c.column - ws.min_column): str(c.value)
            for row in ws.iter_rows()
            for c in row
            if c.data_type == "e"
        }
    finally:
        book.close()
    return _ExcelNotes(hidden, errors)


def _grid_excel(path: Path, opts: ReadOptions) -> pd.DataFrame:
    sheet = opts.sheet if opts.sheet is not None else 0
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as e:  # openpyxl raises several types for a broken file
        raise FileFormatError(f"cannot read as Excel: {type(e).__name__}: {e}", path=path) from e
    with book:
        names = book.sheet_names
        if isinstance(sheet, str) and sheet not in names:
            raise FileFormatError(
                f"no sheet named {sheet!r}; sheets: {', '.join(map(repr, names))}", path=path
            )
        if isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise FileFormatError(
                f"no sheet number {sheet}; the workbook has {len(names)}", path=path
            )
        grid = pd.read_excel(
            book, sheet_name=sheet, header=None, dtype=object, keep_default_na=False, na_values=[""]
        )
    if grid.empty:
        raise FileFormatError(f"sheet {sheet!r} is empty", path=path)
    return grid


_EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!")


def _excel_checks(
    path: Path,
    opts: ReadOptions,
    df: pd.DataFrame,
    names: list[str],
    header: int,
    id: str | None,
    columns: Sequence[str],
) -> None:
    """Refuse Excel error values in used columns; warn about hidden rows."""
    notes = _excel_notes(path, opts.sheet if opts.sheet is not None else 0)
    used = {*columns, *([id] if id else [])}
    for (r, c), value in sorted(notes.errors.items()):
        if r > header and c < len(names) and names[c] in used:
            raise DataError(
                f"column '{names[c]}' holds the Excel error {value} in row {r + 1}: a formula "
                "failed in the workbook; correct it there (a failed formula is not a missing "
                "value)",
                path=path,
                column=names[c],
                ids=[f"row {r + 1}"],
            )
    hidden = [r for r in notes.hidden if r > header and r - header - 1 < len(df)]
    if hidden:
        rows = [f"row {r + 1}" for r in hidden]
        ids = []
        if id is not None and id in df.columns:
            ids = [str(df[id].iloc[r - header - 1]) for r in hidden]
        which = f" (ids {format_ids(ids)})" if ids else ""
        warnings.warn(
            f"{path.name}: {len(hidden)} hidden row{'s' if len(hidden) > 1 else ''} "
            f"{format_ids(rows)}{which} are read as units like any other; unhide them in the "
            "workbook to see what is allocated",
            HiddenRowsWarning,
            stacklevel=4,
        )


def _header_row(grid: pd.DataFrame, id: str | None, opts: ReadOptions, path: Path) -> int:
    if opts.header_row is not None:
        if not 1 <= opts.header_row <= len(grid):
            raise FileFormatError(
                f"header_row {opts.header_row} is outside the {len(grid)} rows of the file",
                path=path,
            )
        return opts.header_row - 1
    if id is None:
        return 0
    for i in range(min(_HEADER_SEARCH, len(grid))):
        cells = [str(v).strip() for v in grid.iloc[i].tolist() if isinstance(v, str)]
        if id in cells:
            return i
    return 0


def _names(row: Sequence[object], path: Path) -> list[str]:
    names: list[str] = []
    for i, v in enumerate(row):
        if v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip():
            names.append(f"column {i + 1}")
        else:
            names.append(str(v).strip())
    seen: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        seen.setdefault(n, []).append(i + 1)
    dup = {n: pos for n, pos in seen.items() if len(pos) > 1}
    if dup:
        n, pos = next(iter(dup.items()))
        raise DuplicateColumnError(
            f"column '{n}' appears {len(pos)} times in the header (columns "
            f"{', '.join(map(str, pos))}); column names must be unique",
            path=path,
            column=n,
        )
    return names


_TOTALS_EXACT = "(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in TOTALS_WORDS) + ")"
_TOTALS_PATTERN = (
    rf"(?:{_TOTALS_EXACT}[:.\s]*"  # "I alt", "Total:"
    r"|(?:i\s*alt|total|totalt|sum|grand\s+total)\b[\s:,.\-–]+\S.*"  # "I alt 2027", "Total, alle"
    r"|.*\S[\s,\-–]+(?:i\s*alt|total|totalt)[:.\s]*)"  # "Kommunen i alt", "Skoler total"
)


def is_totals_label(text: str) -> bool:
    """Whether ``text`` labels a totals row ("I alt", "Total:", "Sum", ...).

    Examples
    --------
    >>> is_totals_label(" I  alt: "), is_totals_label("Ådalen")
    (True, False)
    >>> [is_totals_label(t) for t in ("Kommunen i alt", "I alt 2027", "Total, alle distrikter")]
    [True, True, True]
    >>> [is_totals_label(t) for t in ("Totalskolen", "Summerhill", "Alt for børn")]
    [False, False, False]
    """
    return re.fullmatch(_TOTALS_PATTERN, text.strip().lower()) is not None


def _totals_mask(col: pd.Series) -> np.ndarray:
    """Rows whose text in ``col`` is a totals label."""
    text = col.astype("string").str.strip().str.lower()
    return text.str.fullmatch(_TOTALS_PATTERN).fillna(False).to_numpy(dtype=bool)


def _text_columns(frame: pd.DataFrame, limit: int = 3) -> list[str]:
    out = []
    for c in frame.columns:
        if any(isinstance(v, str) for v in frame[c].to_numpy(dtype=object)):
            out.append(c)
            if len(out) == limit:
                break
    return out


def _totals(
    frame: pd.DataFrame, id: str | None, opts: ReadOptions, path: Path, first: int
) -> pd.DataFrame:
    check = ([id] if id and id in frame.columns else []) + [
        c for c in _text_columns(frame.head(200), 2) if c != id
    ]
    mask = np.zeros(len(frame), dtype=bool)
    where: dict[int, str] = {}
    for c in check:
        hits = _totals_mask(frame[c])
        for i in np.flatnonzero(hits & ~mask):
            where[int(i)] = f"{frame[c].iloc[i]!r} in column '{c}'"
        mask |= hits
    if not mask.any():
        return frame
    if opts.drop_totals:
        return frame.loc[~mask].reset_index(drop=True)
    row = int(np.flatnonzero(mask)[0])
    raise TotalsRowError(
        f"row {row + first} looks like a totals row ({where[row]}); a total is not a unit. "
        "Remove it or set drop_totals = true in [data]",
        path=path,
        ids=[f"row {row + first}"],
    )


def _totals_by_value(
    frame: pd.DataFrame, id: str | None, opts: ReadOptions, path: Path, first: int
) -> pd.DataFrame:
    """Drop or refuse rows whose values equal the sum of all other rows in two or more columns."""
    n = len(frame)
    if id is None or not 3 <= n <= 100_000:
        return frame
    numeric = [
        c
        for c in frame.columns
        if c != id
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]
    if len(numeric) < 2:
        return frame
    hits = np.zeros(n, dtype=int)
    for c in numeric:
        x = frame[c].to_numpy(dtype=float)
        if np.isnan(x).any() or not np.any(x):
            continue
        other = x.sum() - x
        tol = np.maximum(1e-6 * np.abs(other), np.minimum(0.5 * n, 1e-3 * np.abs(other)))
        hits += (np.abs(x - other) <= tol) & (np.abs(other) > 0)
    mask = hits >= 2
    if not mask.any():
        return frame
    if opts.drop_totals:
        return frame.loc[~mask].reset_index(drop=True)
    row = int(np.flatnonzero(mask)[0])
    label = frame[id].iloc[row] if id in frame.columns else ""
    raise TotalsRowError(
        f"row {row + first} ({label!r}) looks like a totals row: in {int(hits[row])} columns its "
        "values equal the sum of all other rows. A total is not a unit. Remove it or set "
        "drop_totals = true in [data]",
        path=path,
        ids=[f"row {row + first}"],
    )


def _parse_numbers(
    frame: pd.DataFrame,
    columns: Sequence[str],
    opts: ReadOptions,
    path: Path,
    first: int,
    text: Sequence[str] = (),
) -> pd.DataFrame:
    """Turn text columns into numbers where they are numbers, with one convention per file.

    ``text`` names columns that stay text whatever they look like (the id).
    """
    used = set(columns)
    candidates = [
        c for c in frame.columns
        if c not in text
        and not pd.api.types.is_numeric_dtype(frame[c])
        and (c in used or looks_numeric(frame[c]))
    ]  # fmt: skip
    convention = opts.convention
    results = {c: parse_column(frame[c], convention) for c in candidates}
    if convention is None:
        proved = {c: r.decimal for c, r in results.items() if r.values is not None and r.decimal}
        marks = set(proved.values())
        if len(marks) > 1:
            dots = [c for c, m in proved.items() if m == "."]
            commas = [c for c, m in proved.items() if m == ","]
            raise AmbiguousNumberError(
                f"columns {format_ids(dots)} use a decimal point and {format_ids(commas)} a "
                "decimal comma; set [data] decimal to the file's convention",
                path=path,
                column=commas[0],
            )
        if marks:
            convention = Convention.of(marks.pop(), opts.thousands)
            results = {
                c: (r if r.values is not None else parse_column(frame[c], convention))
                for c, r in results.items()
            }
    out = frame.copy()
    for c, r in results.items():
        if r.values is not None:
            out[c] = r.values
            continue
        if c not in used:
            continue  # not needed: leave the text as it is
        if opts.convention is not None and r.bad:
            rows = [f"row {i + first}" for i in r.bad]
            shown = ", ".join(repr(frame[c].iloc[i]) for i in r.bad[:3])
            raise AmbiguousNumberError(
                f"column '{c}' has values that are not numbers with the declared decimal = "
                f"{opts.convention.decimal!r} ({shown} in {format_ids(rows)}); correct the file "
                "or the [data] decimal setting",
                path=path,
                column=c,
                ids=rows,
            )
        if r.ambiguous and not r.bad:
            rows = [f"row {i + first}" for i in r.ambiguous]
            shown = ", ".join(repr(frame[c].iloc[i]) for i in r.ambiguous[:3])
            raise AmbiguousNumberError(
                f"column '{c}' has numbers that read differently with a decimal point and a "
                f'decimal comma ({shown} in {format_ids(rows)}); set [data] decimal = "," or '
                'decimal = "."',
                path=path,
                column=c,
                ids=rows,
            )
        if r.conflict is not None:
            p_rows = [f"row {i + first}" for i in r.conflict[0]]
            c_rows = [f"row {i + first}" for i in r.conflict[1]]
            raise AmbiguousNumberError(
                f"column '{c}' mixes a decimal point ({format_ids(p_rows)}) and a decimal comma "
                f"({format_ids(c_rows)}); correct the file or set [data] decimal",
                path=path,
                column=c,
                ids=p_rows + c_rows,
            )
        # values that are not numbers: left as text, reported by the validation
    return out


#: Characters that do not show: stripped from ids so that "D01" and "D01\u200b" are one unit.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)

#: Longest id or label accepted (a longer one is a broken file, not a name).
MAX_LABEL_LENGTH = 200


def clean_text(text: str) -> str:
    """Unicode NFC, invisible characters removed, surrounding spaces stripped.

    Examples
    --------
    >>> clean_text(" A\u030adalen\u200b ") == "Ådalen"
    True
    """
    return unicodedata.normalize("NFC", text).translate(_INVISIBLE).strip()


def check_text(values: pd.Series, column: str, path: Path | None, first: int = 2) -> None:
    """Refuse control characters and overlong text in an id or label column.

    Raises
    ------
    DataError
        Naming the column, the rows and the character found.
    """
    text = values.dropna().astype(str)
    if text.empty:
        return
    control = text.str.contains(r"[\x00-\x1f\x7f-\x9f]", regex=True)
    if control.any():
        pos = [int(i) for i in np.flatnonzero(control.to_numpy())]
        rows = [f"row {int(text.index[i]) + first}" for i in pos]
        sample = repr(text.iloc[pos[0]])[:60]
        raise DataError(
            f"column '{column}' holds control characters (e.g. {sample}) in {format_ids(rows)}; "
            "ids and names must be plain text",
            path=path,
            column=column,
            ids=rows,
        )
    long = text.str.len() > MAX_LABEL_LENGTH
    if long.any():
        pos = [int(i) for i in np.flatnonzero(long.to_numpy())]
        rows = [f"row {int(text.index[i]) + first}" for i in pos]
        raise DataError(
            f"column '{column}' has values longer than {MAX_LABEL_LENGTH} characters in "
            f"{format_ids(rows)} ({int(text.str.len().max()):,} characters); ids and names must "
            "be short",
            path=path,
            column=column,
            ids=rows,
        )


def _id_text(ids: pd.Series) -> pd.Series:
    """Ids as clean text (:func:`clean_text`); whole numbers from Excel lose their ``.0``."""
    values = ids.to_numpy(dtype=object)
    out = np.empty(len(values), dtype=object)
    cache: dict[str, str] = {}
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out[i] = None
        elif isinstance(v, str):
            c = cache.get(v)
            if c is None:
                c = cache[v] = clean_text(v)
            out[i] = c
        elif isinstance(v, float) and v.is_integer():
            out[i] = str(int(v))
        else:
            out[i] = str(v).strip()
    return pd.Series(out, index=ids.index, dtype=object)


def read_table(
    path: Path | str,
    *,
    id: str | None = None,
    sheet: str | int | None = None,
    columns: Sequence[str] = (),
    options: ReadOptions | None = None,
    usecols: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read a table from CSV, Excel (xlsx) or Parquet, safely.

    Parameters
    ----------
    path : Path or str
        The file; its suffix selects the reader.
    id : str, optional
        Id column: read as text (``"0101"`` keeps its leading zero) and
        stripped; also used to find the header row.
    sheet : str or int, optional
        Excel sheet (overrides ``options.sheet``).
    columns : sequence of str
        Columns that must be numbers; ambiguous numbers in them are refused.
        Other number-like columns are converted when unambiguous.
    options : ReadOptions, optional
        Separator, decimal mark, encoding, header row, totals (default: detect).
    usecols : sequence of str, optional
        Read only these columns of a Parquet file (large person files).

    Returns
    -------
    DataFrame
        Column names stripped; numbers as floats; the id column as text.

    Raises
    ------
    MissingFileError
        If the file does not exist.
    FileFormatError
        If the file is empty, of an unknown type or cannot be parsed.
    DuplicateColumnError, AmbiguousNumberError, TotalsRowError
        For a repeated column name, numbers that could be read two ways, and a
        totals row.

    Examples
    --------
    >>> import needsmodel as nm
    >>> df = read_table(nm.datasets.sample_dir() / "school_districts.csv", id="district")
    >>> df.shape
    (24, 11)
    """
    opts = options or ReadOptions()
    if sheet is not None:
        opts = ReadOptions(**{**opts.__dict__, "sheet": sheet})
    p = Path(path)
    if not p.exists():
        raise MissingFileError("file not found", path=p)
    if not p.is_file():
        what = "is a folder" if p.is_dir() else "is not a regular file (a device or a pipe)"
        raise MissingFileError(f"{what}, expected a data file", path=p)
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileFormatError(
            f"unsupported file type '{p.suffix}'; expected one of {', '.join(SUPPORTED_SUFFIXES)}",
            path=p,
        )
    if suffix in (".parquet", ".pq"):
        try:
            df = pd.read_parquet(p, columns=list(usecols) if usecols is not None else None)
        except Exception as e:  # pyarrow raises its own types
            raise FileFormatError(f"cannot read as parquet: {type(e).__name__}: {e}", path=p) from e
        _names(list(df.columns), p)
        df.columns = [str(c).strip() for c in df.columns]
        first = 2
        text_used = [
            c
            for c in columns
            if c in df.columns and c != id and not pd.api.types.is_numeric_dtype(df[c])
        ]
        if text_used:  # numbers stored as text ("0,1"): the same reader as CSV and Excel
            df = _parse_numbers(
                df, text_used, opts, p, first, [c for c in df.columns if c not in text_used]
            )
        if id is not None and id in df.columns and len(df) <= 100_000:
            df = _totals(df, id, opts, p, first)
            df = _totals_by_value(df, id, opts, p, first)
    else:
        grid = _grid_csv(p, opts) if suffix in (".csv", ".txt", ".tsv") else _grid_excel(p, opts)
        h = _header_row(grid, id, opts, p)
        if (
            id is not None
            and suffix in (".xlsx", ".xlsm")
            and opts.sheet is None
            and id not in {str(v).strip() for v in grid.iloc[h].tolist()}
        ):
            other = _find_sheet(p, id)
            if other is not None:
                raise FileFormatError(
                    f"the first sheet has no column '{id}', but sheet '{other}' has; set "
                    f'[data] sheet = "{other}"',
                    path=p,
                    column=id,
                )
        names = _names(grid.iloc[h].tolist(), p)
        df = grid.iloc[h + 1 :].reset_index(drop=True)
        df.columns = names
        first = h + 2  # file row of the first data row (1-based)
        if suffix in (".xlsx", ".xlsm"):
            _excel_checks(p, opts, df, names, h, id, columns)
        blank = pd.DataFrame(
            {
                c: (df[c].isna() | df[c].astype("string").str.strip().eq("").fillna(True))
                for c in df.columns
            }
        )
        df = df.loc[~blank.all(axis=1).to_numpy()].reset_index(drop=True)
        df = _totals(df, id, opts, p, first)
        keep_text = [id] if id is not None else []
        df = _parse_numbers(
            df,
            [c for c in columns if c in df.columns and c not in keep_text],
            opts,
            p,
            first,
            keep_text,
        )
        df = _totals_by_value(df, id, opts, p, first)
    bad_names = [c for c in df.columns if re.search(r"[\x00-\x1f\x7f-\x9f]", str(c))]
    if bad_names:
        raise DataError(
            f"column name {str(bad_names[0])!r} holds control characters; column names must be "
            "plain text",
            path=p,
            column=str(bad_names[0]),
        )
    if id is not None and id in df.columns:
        df[id] = _id_text(df[id])
        check_text(df[id], id, p, first)
    if df.empty and len(df.columns) == 0:
        raise DataError("no columns found", path=p)
    return df
