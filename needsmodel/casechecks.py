"""Input checks shared by the course tools, as strict as the pipeline's.

The demography, benchmarking, funding, tariff, capacity, effect-tariff and
result-funding functions take tables and numbers from a course participant or
a finance officer. Every one of them checks its inputs with these functions
first, so that a missing value is never read as zero, a negative price or
count never goes through, an id never repeats, and no unit is called like the
``total`` row a function adds itself. Each raises an
:class:`~needsmodel.errors.InputError` (a :class:`~needsmodel.errors.DataError`
for table contents) naming the function's argument, the column and the rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .data import require_columns
from .errors import DataError, InputError, format_ids

__all__ = [
    "TOTAL_LABELS",
    "check_columns",
    "check_ids",
    "check_mapping",
    "check_not_empty",
    "check_number",
    "check_values",
    "check_whole",
]

#: Labels a function uses for its own total row; no unit or provider may carry them.
TOTAL_LABELS = frozenset({"total", "i alt", "sum", "alle"})


def _rows(bad: np.ndarray, index: pd.Index) -> list[object]:
    return list(index[np.asarray(bad, dtype=bool)])


def check_number(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """A finite number (in ``[low, high]``, or ``(low, high]`` with ``low_open``), else an error.

    Examples
    --------
    >>> check_number(0.5, "marginal_rate", low=0, high=1)
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError(f"{name} must be a number; got {value!r}", field=name)
    x = float(value)
    if math.isnan(x) or (math.isinf(x) and not allow_inf):
        raise InputError(f"{name} must be a finite number; got {value!r}", field=name)
    below = low is not None and (x < low or (low_open and x == low))
    if below or (high is not None and x > high):
        if low is not None and high is not None and not low_open:
            bound = f"between {low:g} and {high:g}"
        elif below:
            bound = f"above {low:g}" if low_open else f"at least {low:g}"
        else:
            bound = f"at most {high:g}"
        raise InputError(f"{name} must be {bound}; got {value!r}", field=name)
    return x


def check_whole(value: object, name: str, *, low: int = 0) -> int:
    """A whole number of at least ``low`` (``2.5`` years or ``-1`` draws are refused)."""
    x = check_number(value, name, low=low)
    if x != int(x):
        raise InputError(f"{name} must be a whole number; got {value!r}", field=name)
    return int(x)


def check_values(
    values: Any,
    name: str,
    *,
    nonnegative: bool = False,
    positive: bool = False,
    index: pd.Index | None = None,
) -> np.ndarray:
    """Numbers that are all present and finite (and not negative / positive), else an error
    naming ``name`` and the rows."""
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if index is not None and len(index) == len(series):
        series = series.set_axis(index)
    numeric = pd.to_numeric(series, errors="coerce")
    bad = numeric.isna() | ~np.isfinite(numeric.fillna(0.0).to_numpy(dtype=float))
    if bad.any():
        rows = _rows(bad.to_numpy(), series.index)
        raise DataError(
            f"{name} must hold finite numbers; missing, text or infinite for {format_ids(rows)}",
            column=name,
            ids=rows,
        )
    arr = numeric.to_numpy(dtype=float)
    if positive and (arr <= 0).any():
        rows = _rows(arr <= 0, series.index)
        raise DataError(
            f"{name} must be positive; not for {format_ids(rows)}", column=name, ids=rows
        )
    if nonnegative and (arr < 0).any():
        rows = _rows(arr < 0, series.index)
        raise DataError(
            f"{name} must not be negative; negative for {format_ids(rows)}", column=name, ids=rows
        )
    return arr


def check_columns(
    frame: pd.DataFrame,
    what: str,
    numeric: Sequence[str] = (),
    *,
    nonnegative: Iterable[str] = (),
    positive: Iterable[str] = (),
    required: Sequence[str] = (),
    id: str | None = None,
) -> None:
    """A table with its columns present, not empty, numeric columns finite (and signed as
    asked), and unique ids that are not a total label.

    Parameters
    ----------
    frame : DataFrame
        The table.
    what : str
        The function and argument, for messages (``"capacity_budget(categories)"``).
    numeric : sequence of str
        Columns that must hold finite numbers.
    nonnegative, positive : iterable of str
        Numeric columns that must not be negative / must be positive.
    required : sequence of str
        Further columns that must exist.
    id : str, optional
        Column of ids that must be unique and not ``total``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{what} must be a table (DataFrame); got {type(frame).__name__}")
    require_columns(frame, [*([id] if id else []), *required, *numeric], what)
    check_not_empty(frame, what)
    rows = frame[id].astype(str) if id else pd.Index([f"row {i + 1}" for i in range(len(frame))])
    index = pd.Index(rows)
    nonneg, pos = set(nonnegative), set(positive)
    for col in numeric:
        check_values(
            frame[col],
            f"{what} column '{col}'",
            nonnegative=col in nonneg,
            positive=col in pos,
            index=index,
        )
    if id:
        check_ids(frame[id], f"{what} column '{id}'")


def check_ids(ids: Any, name: str, *, unique: bool = True) -> None:
    """Ids present, unique (with ``unique``) and never a total label (``total``, ``I alt``)."""
    values = pd.Series(ids)
    if values.isna().any():
        raise DataError(f"{name} has missing ids", column=name)
    text = values.astype(str)
    reserved = sorted({t for t in text if t.strip().casefold() in TOTAL_LABELS})
    if reserved:
        raise DataError(
            f"{name} has the id(s) {format_ids(reserved)}, which the result uses for its own total "
            "row; rename them",
            column=name,
            ids=reserved,
        )
    if unique:
        dup = sorted(set(text[text.duplicated()]))
        if dup:
            raise DataError(f"{name} has duplicate ids {format_ids(dup)}", column=name, ids=dup)


def check_not_empty(frame: pd.DataFrame, what: str) -> None:
    """A table with at least one row."""
    if len(frame) == 0:
        raise DataError(f"{what} has no rows")


def check_mapping(
    values: Mapping[Any, object],
    name: str,
    *,
    nonnegative: bool = False,
    positive: bool = False,
) -> dict[Any, float]:
    """A mapping of finite numbers (not negative / positive as asked), else an error naming
    the key."""
    if not isinstance(values, Mapping) or not values:
        raise InputError(f"{name} must be a non-empty mapping of numbers; got {values!r}")
    out: dict[Any, float] = {}
    for k, v in values.items():
        out[k] = check_number(
            v, f"{name}[{k!r}]", low=0.0 if (nonnegative or positive) else None, low_open=positive
        )
    return out
