"""Reading numbers written as text, in Danish or English conventions, without guessing.

A Danish export writes one million two hundred thousand and a half as
``1.200.000,5``; an English one as ``1,200,000.5``. ``1.234`` alone is a
thousand and something in one and one point something in the other. This
module reads each value, notes which convention it proves (a value with
grouped thousands and a decimal part, a decimal part that is not three digits,
...), and applies the convention the column, or failing that the file, proves.
Values that could be read either way are refused with the column and rows,
never guessed.

Accepted decorations: surrounding spaces, non-breaking and thin spaces as
thousands separators, a leading ``+``/``-`` or the Unicode minus, a ``kr``,
``kr.`` or ``DKK`` unit (dropped) and a ``%`` sign (the value is divided by
100, so ``12,5 %`` reads as 0.125).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

__all__ = [
    "AMBIGUOUS",
    "DECIMALS",
    "Convention",
    "ParsedColumn",
    "looks_numeric",
    "parse_column",
    "parse_number",
]

DECIMALS = (".", ",")
AMBIGUOUS = "ambiguous"

_UNIT = re.compile(r"^(?:dkk|kr\.?)\s*|\s*(?:dkk|kr\.?)$", re.IGNORECASE)
_SPACES = re.compile(r"[\u00a0\u202f\u2009 ]")
_INT = re.compile(r"^\d+$")
_GROUPED = re.compile(r"^[1-9]\d{0,2}(?:([.,' ])\d{3})(?:\1\d{3})*$")
_SCIENTIFIC = re.compile(r"\d+(?:\.\d*)?[eE][+-]?\d+")


@dataclass(frozen=True)
class Convention:
    """A decimal mark and a thousands separator."""

    decimal: str
    thousands: str | None

    @classmethod
    def of(cls, decimal: str, thousands: str | None = None) -> Convention:
        """The convention with ``decimal``; the thousands separator defaults to the other mark."""
        if decimal not in DECIMALS:
            raise ValueError(f"decimal must be '.' or ','; got {decimal!r}")
        if thousands is None:
            thousands = "," if decimal == "." else "."
        return cls(decimal, thousands)


@dataclass(frozen=True)
class _Value:
    """What one text value says: its number per convention and the convention it proves."""

    proves: str | None  # "." or "," (the decimal mark), AMBIGUOUS, or None (no evidence)
    as_point: float | None  # read with decimal "."
    as_comma: float | None  # read with decimal ","


def _read(core: str, decimal: str, thousands: str | None) -> float | None:
    """``core`` (digits and marks only) read with one convention, or None if it does not fit."""
    if _INT.match(core):
        return float(core)
    if decimal in core:
        whole, _, frac = core.rpartition(decimal)
        if not frac.isdigit() or decimal in whole:
            return None
    else:
        whole, frac = core, ""
    if whole == "":
        whole = "0"
    if not _INT.match(whole):
        grouped = _GROUPED.match(whole)
        if thousands is None or grouped is None or grouped.group(1) != thousands:
            return None
        whole = whole.replace(thousands, "")
    return float(f"{whole}.{frac}" if frac else whole)


def parse_number(text: str) -> tuple[_Value, float]:
    """Analyse one value: what it proves and its numbers under both conventions.

    Returns the analysis and the divisor (1, or 100 for a ``%`` sign, and
    negative for a minus) to apply. Raises ``ValueError`` if the text is not a
    number in either convention.

    Examples
    --------
    >>> v, f = parse_number("1.234.567,5 kr.")
    >>> v.proves, v.as_comma, f
    (',', 1234567.5, 1.0)
    >>> parse_number("1.234")[0].proves
    'ambiguous'
    """
    s = text.strip().replace("\u2212", "-")
    s = _UNIT.sub("", s).strip()
    factor = 1.0
    if s.endswith("%"):
        s = s[:-1].strip()
        factor = 100.0  # a divisor: 12,5 % is 12.5 / 100
    if s[:1] in ("+", "-"):
        if s[0] == "-":
            factor = -factor
        s = s[1:].strip()
    if _SCIENTIFIC.fullmatch(s):
        x = float(s)
        return _Value("." if "." in s else None, x, x if "." not in s else None), factor
    s = _SPACES.sub(" ", s)
    if " " in s:  # a space can only group thousands
        m = re.fullmatch(r"(\d{1,3}(?: \d{3})+)([.,]\d+)?", s)
        if not m:
            raise ValueError(text)
        s = m.group(1).replace(" ", "") + (m.group(2) or "")
    if not re.fullmatch(r"[\d.,]*\d[\d.,]*", s):
        raise ValueError(text)
    point = _read(s, ".", ",")
    comma = _read(s, ",", ".")
    if point is None and comma is None:
        raise ValueError(text)
    if point is not None and comma is not None:
        proves = AMBIGUOUS if point != comma else None
    else:
        proves = "." if point is not None else ","
    return _Value(proves, point, comma), factor


@dataclass(frozen=True)
class ParsedColumn:
    """The outcome of reading a text column as numbers.

    Attributes
    ----------
    values : Series or None
        The numbers (NaN where missing), or None if the column is not numeric.
    decimal : str or None
        The decimal mark the column proved (``"."`` / ``","``), None if none.
    ambiguous : list of int
        Positions of values that read differently under the two conventions.
    conflict : tuple or None
        Positions proving ``"."`` and ``","`` when both occur.
    bad : list of int
        Positions of values that are not numbers at all.
    """

    values: pd.Series | None
    decimal: str | None
    ambiguous: list[int]
    conflict: tuple[list[int], list[int]] | None
    bad: list[int]


_MACHINE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DOT_AMBIGUOUS = re.compile(r"[+-]?\d{1,3}\.\d{3}")


def _fast(col: pd.Series, convention: Convention | None) -> tuple[pd.Series, str | None] | None:
    """Machine-written columns (plain integers, or decimals with a point that some value
    proves): read at C speed, with the decimal mark they prove. None when the slow,
    value-by-value reading is needed."""
    text = col.astype("string").str.strip()
    present = text.notna() & (text != "")
    values = text[present]
    if len(values) == 0:
        return pd.Series(np.nan, index=col.index), None
    if not values.str.fullmatch(_MACHINE.pattern).all():
        return None
    dotted = values.str.contains(".", regex=False)
    proves = None
    if dotted.any():
        if convention is not None and convention.decimal != ".":
            return None
        proven = dotted & ~values.str.fullmatch(_DOT_AMBIGUOUS.pattern)
        if convention is None and not proven.any():
            return None
        proves = "." if proven.any() else None
    out = pd.Series(np.nan, index=col.index)
    out[present] = pd.to_numeric(values, errors="coerce").astype(float)
    return out, proves


def _vectorized(col: pd.Series, convention: Convention) -> pd.Series | None:
    """Plain values in one known convention (``1.234.567,5``), read at C speed, or None."""
    text = col.astype("string").str.strip()
    present = text.notna() & (text != "")
    values = text[present]
    t, d = re.escape(convention.thousands or ""), re.escape(convention.decimal)
    grouped = rf"[1-9]\d{{0,2}}(?:{t}\d{{3}})+|" if convention.thousands else ""
    pattern = rf"[+-]?(?:{grouped}\d+)(?:{d}\d+)?|[+-]?{d}\d+"
    if not values.str.fullmatch(pattern).all():
        return None
    if convention.thousands:
        values = values.str.replace(convention.thousands, "", regex=False)
    values = values.str.replace(convention.decimal, ".", regex=False)
    out = pd.Series(np.nan, index=col.index)
    out[present] = pd.to_numeric(values, errors="coerce").astype(float)
    return out


def _sample_proof(col: pd.Series, size: int = 2000) -> str | None:
    """The decimal mark a sample of the column proves, if exactly one."""
    proofs = set()
    for v in col.dropna().astype(str).head(size):
        if not v.strip():
            continue
        try:
            proves = parse_number(v)[0].proves
        except ValueError:
            return None
        if proves in DECIMALS:
            proofs.add(proves)
    return proofs.pop() if len(proofs) == 1 else None


def parse_column(col: pd.Series, convention: Convention | None = None) -> ParsedColumn:
    """Read a column of text (or mixed text and numbers) as numbers.

    Parameters
    ----------
    col : Series
        The values; numbers are kept as they are, text is parsed, empty text
        and missing values become NaN.
    convention : Convention, optional
        A known convention (from the config or the rest of the file); without
        it the column must prove its own, or have no ambiguous value.

    Returns
    -------
    ParsedColumn
        ``values`` is None when some value is not a number in any convention
        (``bad`` lists them) or when ambiguity remains (``ambiguous``) or the
        column proves both conventions (``conflict``).
    """
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return ParsedColumn(col.astype(float), None, [], None, [])
    raw = col.to_numpy(dtype=object)
    if all(isinstance(v, str) or v is None or (isinstance(v, float) and np.isnan(v)) for v in raw):
        fast = _fast(col, convention)
        if fast is not None:
            values, proves = fast
            return ParsedColumn(
                values, proves or (convention.decimal if convention else None), [], None, []
            )
        known = convention
        if known is None:
            proof = _sample_proof(col)
            known = Convention.of(proof) if proof else None
        if known is not None:
            quick = _vectorized(col, known)
            if quick is not None:
                return ParsedColumn(quick, known.decimal, [], None, [])
    n = len(col)
    analysed: list[tuple[_Value, float] | None] = []
    bad: list[int] = []
    numeric = np.full(n, np.nan)
    for i, v in enumerate(raw):
        if (
            v is None
            or (isinstance(v, float) and np.isnan(v))
            or (isinstance(v, str) and not v.strip())
        ):
            analysed.append(None)
            continue
        if isinstance(v, bool | int | float | np.integer | np.floating):
            analysed.append(None)
            numeric[i] = float(v)
            continue
        try:
            analysed.append(parse_number(str(v)))
        except ValueError:
            analysed.append(None)
            bad.append(i)
    if bad:
        return ParsedColumn(None, None, [], None, bad)
    point = [i for i, a in enumerate(analysed) if a is not None and a[0].proves == "."]
    comma = [i for i, a in enumerate(analysed) if a is not None and a[0].proves == ","]
    ambiguous = [i for i, a in enumerate(analysed) if a is not None and a[0].proves == AMBIGUOUS]
    if convention is not None:
        decimal = convention.decimal
        wrong = comma if decimal == "." else point
        if wrong:
            return ParsedColumn(None, decimal, [], None, wrong)
    elif point and comma:
        return ParsedColumn(None, None, ambiguous, (point, comma), [])
    else:
        decimal = "." if point else "," if comma else ""
        if not decimal and ambiguous:
            return ParsedColumn(None, None, ambiguous, None, [])
    for i, a in enumerate(analysed):
        if a is None:
            continue
        value, factor = a
        x = value.as_comma if decimal == "," else value.as_point
        if x is None:
            x = value.as_point if value.as_point is not None else value.as_comma
        assert x is not None
        # percentages divided in decimal so that "38,42 %" is exactly 0.3842
        numeric[i] = x / factor if abs(factor) == 1 else float(Decimal(repr(x)) / Decimal(factor))
    return ParsedColumn(pd.Series(numeric, index=col.index), decimal or None, [], None, [])


def looks_numeric(col: pd.Series, share: float = 0.8) -> bool:
    """Whether most non-empty values of a text column parse as numbers in some convention."""
    values = [v for v in col.to_numpy(dtype=object) if isinstance(v, str) and v.strip()]
    if not values:
        return False
    ok = 0
    for v in values:
        try:
            parse_number(v)
            ok += 1
        except ValueError:
            pass
    return ok >= share * len(values)
