"""Reading and validating unit tables.

A *units table* has one row per unit (school district, care district, citizen
group): an id, the observed cost, the exposure (pupils, citizens) and the
indicators. :func:`read_table` reads CSV, Excel and Parquet files;
:func:`validate_units` checks a table against the columns a model uses and
returns a clean copy indexed by unit id, or raises a named
:class:`~needsmodel.errors.DataError` that gives the file, the column and the
first offending unit ids.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import reading as _reading
from .errors import (
    CollinearityError,
    DataError,
    DuplicateIdError,
    MissingColumnError,
    MissingValueError,
    NegativeValueError,
    NonNumericError,
    TooFewUnitsError,
    ZeroExposureError,
    format_ids,
)

__all__ = [
    "SUPPORTED_SUFFIXES",
    "check_collinearity",
    "read_table",
    "require_columns",
    "text_columns",
    "validate_persons",
    "validate_units",
]

SUPPORTED_SUFFIXES = _reading.SUPPORTED_SUFFIXES
read_table = _reading.read_table


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise :class:`MissingColumnError` naming the columns ``what`` needs but ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns))
        raise MissingColumnError(
            f"{what} needs column(s) {format_ids(missing)}; found {found}", column=missing[0]
        )


def text_columns(table: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The columns whose non-missing values are all text that is not a number.

    Such indicators are used as categories. A column that mixes numbers and
    text is *not* returned: it is a numeric column with bad values, reported by
    the validation.

    Examples
    --------
    >>> df = pd.DataFrame({"a": ["x", "y"], "b": ["1", "oops"], "c": [1, 2]})
    >>> text_columns(df, ["a", "b", "c"])
    ['a']
    """
    out = []
    for c in columns:
        if c not in table.columns:
            continue
        col = table[c]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        values = col.dropna()
        if len(values) and pd.to_numeric(values, errors="coerce").isna().all():
            out.append(c)
    return out


def _first(mask: pd.Series | np.ndarray, ids: pd.Index) -> list[object]:
    return list(ids[np.asarray(mask, dtype=bool)])


def _missing_columns(df: pd.DataFrame, wanted: Sequence[str], path: Path | None) -> None:
    missing = [c for c in dict.fromkeys(wanted) if c not in df.columns]
    if not missing:
        return
    c = missing[0]
    # a column the model already uses in another role (the current budget, an indicator) is
    # never offered in place of a missing one
    free = [str(x) for x in df.columns if x not in set(wanted)]
    close = difflib.get_close_matches(c, free, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    shown = ", ".join(f"'{m}'" for m in missing)
    raise MissingColumnError(
        f"column{'s' if len(missing) > 1 else ''} {shown} not found{hint} "
        f"(columns in file: {', '.join(map(str, df.columns))})",
        path=path,
        column=c,
    )


def validate_units(
    table: pd.DataFrame,
    *,
    id: str,
    numeric: Sequence[str],
    nonnegative: Sequence[str] = (),
    exposure: str | None = None,
    indicators: Sequence[str] = (),
    n_params: int | None = None,
    extra: Sequence[str] = (),
    path: Path | str | None = None,
    case_sensitive_ids: bool = False,
    zero_exposure: bool = False,
) -> pd.DataFrame:
    """Check a units table and return a clean copy indexed by unit id.

    The checks run in this order and the first failure raises: columns
    present; ids present and unique; no missing values in used columns;
    numeric columns numeric; cost and exposure not negative; exposure total
    (and each unit's exposure) positive; at least ``n_params + 2`` units;
    indicators not perfectly collinear.

    Parameters
    ----------
    table : DataFrame
        The table as read.
    id : str
        Id column.
    numeric : sequence of str
        Columns that must be numbers (cost, exposure, indicators, current).
    nonnegative : sequence of str
        Columns that must not be negative (cost, exposure).
    exposure : str, optional
        Exposure column; must sum to more than zero and be positive per unit.
    indicators : sequence of str
        Regressors, checked for perfect collinearity with an intercept.
    n_params : int, optional
        Number of model parameters; at least ``n_params + 2`` units are needed.
    extra : sequence of str
        Other used columns (kept, not checked for numbers), e.g. a cluster.
    path : Path or str, optional
        File the table came from, for messages.
    case_sensitive_ids : bool
        Accept ids that differ only in case (``d01`` and ``D01``) as different
        units; by default they are refused as probable duplicates.
    zero_exposure : bool
        Allow units with zero exposure (a model applied, not estimated: nothing
        is divided by a unit's exposure); the total must still be positive.

    Returns
    -------
    DataFrame
        Index: unit id (named as the id column); the used columns, numeric ones
        as float.
    """
    p = Path(path) if path is not None else None
    used = list(dict.fromkeys([*numeric, *extra]))
    _missing_columns(table, [id, *used], p)
    dup_cols = sorted({c for c in table.columns if list(table.columns).count(c) > 1} & {id, *used})
    if dup_cols:
        raise DataError(
            f"column '{dup_cols[0]}' appears more than once in the header",
            path=p,
            column=dup_cols[0],
        )

    ids = table[id]
    rows = pd.Index([f"row {i + 2}" for i in range(len(table))])
    if ids.isna().any() or (ids.astype(str).str.len() == 0).any():
        bad = ids.isna() | (ids.astype(str).str.len() == 0)
        raise MissingValueError(
            f"id column '{id}' is empty in {int(bad.sum())} row(s): "
            f"{format_ids(_first(bad, rows))}",
            path=p,
            column=id,
            ids=_first(bad, rows),
        )
    ids = ids.astype(str)
    dup = ids.duplicated(keep=False)
    if dup.any():
        first = list(dict.fromkeys(ids[dup]))
        raise DuplicateIdError(
            f"id column '{id}' has duplicate values: {format_ids(first)} (ids are compared after "
            "Unicode normalisation and without invisible characters)",
            path=p,
            column=id,
            ids=first,
        )
    if not case_sensitive_ids:
        folded = ids.str.casefold()
        same = folded.duplicated(keep=False)
        if same.any():
            first = list(dict.fromkeys(ids[same]))
            raise DuplicateIdError(
                f"id column '{id}' has ids that differ only in upper and lower case: "
                f"{format_ids(first)}; correct them, or set [data] case_sensitive_ids = true if "
                "they are different units",
                path=p,
                column=id,
                ids=first,
            )
    if len(table) == 0:
        raise TooFewUnitsError("the table has no rows", path=p)

    index = pd.Index(ids.to_numpy(), name=id)
    out = pd.DataFrame(index=index)
    for c in used:
        col = table[c].set_axis(index)
        if col.isna().any():
            raise MissingValueError(
                f"column '{c}' has {int(col.isna().sum())} missing value(s), for unit(s) "
                f"{format_ids(_first(col.isna(), index))}",
                path=p,
                column=c,
                ids=_first(col.isna(), index),
            )
        if c in numeric:
            col = _to_numeric(col, c, p)
        out[c] = col

    for c in nonnegative:
        neg = out[c] < 0
        if neg.any():
            raise NegativeValueError(
                f"column '{c}' must not be negative; negative for unit(s) "
                f"{format_ids(_first(neg, index))}",
                path=p,
                column=c,
                ids=_first(neg, index),
            )
    if exposure is not None:
        if out[exposure].sum() <= 0:
            raise ZeroExposureError(
                f"exposure column '{exposure}' sums to zero; expected positive exposure",
                path=p,
                column=exposure,
            )
        zero = out[exposure] <= 0
        if zero.any() and not zero_exposure:
            raise ZeroExposureError(
                f"exposure column '{exposure}' is zero for unit(s) "
                f"{format_ids(_first(zero, index))}; a per-capita model needs positive exposure",
                path=p,
                column=exposure,
                ids=_first(zero, index),
            )
    if n_params is not None and len(out) < n_params + 2:
        raise TooFewUnitsError(
            f"{len(out)} units is too few for a model with {n_params} parameters; "
            f"need at least {n_params + 2}",
            path=p,
        )
    if indicators:
        check_collinearity(out, list(indicators), path=p)
    return out


#: Largest magnitude accepted in a numeric column: beyond it sums in kroner lose whole kroner.
MAX_MAGNITUDE = 1e15


def _to_numeric(col: pd.Series, name: str, path: Path | None) -> pd.Series:
    if pd.api.types.is_bool_dtype(col):
        return col.astype(float)
    kind = col.dtype
    if (
        pd.api.types.is_datetime64_any_dtype(kind)
        or pd.api.types.is_timedelta64_dtype(kind)
        or isinstance(kind, pd.PeriodDtype)
        or any(isinstance(v, dt.date | dt.time | dt.timedelta) for v in col.head(50))
    ):
        raise NonNumericError(
            f"column '{name}' holds dates or times ({kind}); a model column must be a number "
            "(e.g. an age in years or a count)",
            path=path,
            column=name,
        )
    if pd.api.types.is_numeric_dtype(col):
        values = col.astype(float)
    else:
        values = pd.to_numeric(col, errors="coerce")
        bad = values.isna()
        if bad.any():
            examples = ", ".join(repr(v) for v in col[bad].head(3))
            raise NonNumericError(
                f"column '{name}' must be numeric; unit(s) {format_ids(_first(bad, col.index))} "
                f"have {examples}",
                path=path,
                column=name,
                ids=_first(bad, col.index),
            )
        values = values.astype(float)
    inf = ~np.isfinite(values.to_numpy())
    if inf.any():
        raise NonNumericError(
            f"column '{name}' has infinite values for unit(s) {format_ids(_first(inf, col.index))}",
            path=path,
            column=name,
            ids=_first(inf, col.index),
        )
    huge = np.abs(values.to_numpy()) > MAX_MAGNITUDE
    if huge.any():
        raise NonNumericError(
            f"column '{name}' has values beyond ±{MAX_MAGNITUDE:.0e} for unit(s) "
            f"{format_ids(_first(huge, col.index))} (largest {np.abs(values).max():.3g}); such "
            "numbers cannot be added up to the krone: check the column, or rescale it (e.g. to "
            "thousands of kroner)",
            path=path,
            column=name,
            ids=_first(huge, col.index),
        )
    return values


def check_collinearity(
    table: pd.DataFrame,
    indicators: list[str],
    *,
    intercept: bool = True,
    path: Path | str | None = None,
    tol: float = 1e-9,
) -> None:
    """Raise :class:`CollinearityError` if indicators are perfectly collinear.

    The design matrix (intercept plus indicators, each column scaled to unit
    length) is decomposed by QR and its triangular factor by SVD; every right
    singular vector with a singular value below ``tol`` times the largest is an
    exact linear dependence, and the indicators with a non-negligible weight in
    it are named.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [0.1, 0.2, 0.3, 0.5], "b": [0.9, 0.8, 0.7, 0.5]})
    >>> check_collinearity(df, ["a", "b"])
    Traceback (most recent call last):
    ...
    needsmodel.errors.CollinearityError: indicators 'a' and 'b' are perfectly collinear ...
    """
    x = table[indicators].to_numpy(dtype=float)
    names = list(indicators)
    if intercept:
        x = np.column_stack([np.ones(len(table)), x])
        names = ["(intercept)", *names]
    norms = np.linalg.norm(x, axis=0)
    zero = [names[i] for i in np.flatnonzero(norms == 0)]
    if zero:
        raise CollinearityError(
            f"indicator '{zero[0]}' is zero for every unit, so its effect cannot be estimated",
            indicators=zero,
            path=path,
            column=zero[0],
        )
    xs = x / norms
    if xs.shape[0] < xs.shape[1]:
        return  # too few units; reported by the unit-count check
    # The singular values of X equal those of R in X = QR (k x k, cheap for many rows).
    r = np.linalg.qr(xs, mode="r")
    _, s, vt = np.linalg.svd(r)
    small = np.flatnonzero(s <= tol * s[0])
    if small.size == 0:
        return
    v = vt[small[0]]
    involved = [names[i] for i in np.flatnonzero(np.abs(v) > 1e-6 * np.abs(v).max())]
    shown = [n for n in involved if n != "(intercept)"]
    if len(shown) == 1:
        msg = f"indicator '{shown[0]}' is constant (collinear with the intercept)"
    else:
        quoted = [f"'{n}'" for n in shown]
        joined = ", ".join(quoted[:-1]) + f" and {quoted[-1]}"
        with_int = " together with the intercept" if "(intercept)" in involved else ""
        msg = (
            f"indicators {joined} are perfectly collinear{with_int}; "
            "drop one of them or combine them"
        )
    raise CollinearityError(msg, indicators=shown, path=path, column=shown[0])


def validate_persons(
    table: pd.DataFrame,
    *,
    unit_key: str,
    numeric: Sequence[str],
    nonnegative: Sequence[str] = (),
    categorical: Sequence[str] = (),
    path: Path | str | None = None,
) -> pd.DataFrame:
    """Check a person-level table and return the used columns.

    Parameters
    ----------
    table : DataFrame
        One row per person.
    unit_key : str
        Column holding each person's unit id (read as text, stripped).
    numeric : sequence of str
        Columns that must be numbers (target, numeric indicators).
    nonnegative : sequence of str
        Columns that must not be negative (the target).
    categorical : sequence of str
        Columns used as categories (kept as they are).
    path : Path or str, optional
        File the table came from, for messages.

    Returns
    -------
    DataFrame
        The used columns, numeric ones as float, ``unit_key`` as text; the
        original row order and a fresh 0..n-1 index.
    """
    p = Path(path) if path is not None else None
    used = list(dict.fromkeys([unit_key, *numeric, *categorical]))
    _missing_columns(table, used, p)
    if len(table) == 0:
        raise TooFewUnitsError("the person table has no rows", path=p)
    rows = pd.Index([f"row {i + 2}" for i in range(len(table))])
    out = pd.DataFrame(index=pd.RangeIndex(len(table)))
    for c in used:
        col = table[c].reset_index(drop=True)
        if col.isna().any():
            bad = col.isna().to_numpy()
            raise MissingValueError(
                f"column '{c}' has {int(bad.sum())} missing value(s), in "
                f"{format_ids(_first(bad, rows))}",
                path=p,
                column=c,
                ids=_first(bad, rows),
            )
        if c == unit_key:
            col = col.astype(str).str.strip()
        elif c in numeric:
            col = _to_numeric(col.set_axis(rows), c, p).reset_index(drop=True)
        out[c] = col
    for c in nonnegative:
        neg = (out[c] < 0).to_numpy()
        if neg.any():
            raise NegativeValueError(
                f"column '{c}' must not be negative; negative in {format_ids(_first(neg, rows))}",
                path=p,
                column=c,
                ids=_first(neg, rows),
            )
    return out
