"""A data dictionary: what each column means, in Danish and English.

An optional file (CSV or Excel, ``[data] dictionary = "dictionary.csv"``)
with one row per column::

    column,label_da,label_en,unit,influenceable
    single_parent,Enlig forsørger,Single parent,share,no
    special_ed_referrals,Egne visitationer,Own referrals,persons,yes

- labels are used in the report;
- ``unit`` (``kr``, ``persons``, ``share``, ``%``, or free text) is checked:
  a ``share`` must lie between 0 and 1, a ``%`` between 0 and 100, ``persons``
  and ``kr`` must not be negative;
- ``influenceable`` marks indicators a unit can move itself; using one as a
  criterion emits an :class:`~needsmodel.errors.InfluenceableIndicatorWarning`.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError, format_ids
from .reading import ReadOptions, read_table

__all__ = ["DICTIONARY_COLUMNS", "DataDictionary", "read_dictionary"]

DICTIONARY_COLUMNS = (
    "column",
    "label_da",
    "label_en",
    "unit",
    "influenceable",
    "expected_sign",
    "description",
)
_SIGNS = {"+": 1, "positive": 1, "positiv": 1, "-": -1, "negative": -1, "negativ": -1, "": 0}
_TRUE = {"yes", "ja", "true", "1", "x", "y", "j"}
_FALSE = {"no", "nej", "false", "0", "", "n"}
_RANGES = {"share": (0.0, 1.0), "andel": (0.0, 1.0), "%": (0.0, 100.0), "pct": (0.0, 100.0)}
_NONNEGATIVE = {"persons", "personer", "count", "antal", "kr", "kr.", "dkk"}


@dataclass(frozen=True)
class DataDictionary:
    """Labels, units and influenceability of columns.

    Attributes
    ----------
    entries : DataFrame
        Indexed by column name; columns ``label_da``, ``label_en``, ``unit``,
        ``influenceable`` (bool), ``description``.
    path : Path or None
        The file it was read from.
    """

    entries: pd.DataFrame
    path: Path | None = None

    def label(self, column: str, lang: str = "en") -> str:
        """The column's label in ``lang`` (the column name when not in the dictionary).

        A dummy term ``column[level]`` gets the column's label with the level.
        """
        base, level = column, ""
        if column.endswith("]") and "[" in column:
            base, _, rest = column.partition("[")
            level = f" [{rest[:-1]}]"
        if base not in self.entries.index:
            return column
        text = str(self.entries.at[base, f"label_{'da' if lang == 'da' else 'en'}"] or "").strip()
        return (text or base) + level

    def expected_sign(self, column: str) -> int:
        """+1 or -1 when the dictionary says which way a criterion should pull, else 0."""
        if "expected_sign" not in self.entries.columns or column not in self.entries.index:
            return 0
        value = self.entries["expected_sign"].get(column, 0)
        return int(value) if isinstance(value, int | float | np.integer) else 0

    def unit(self, column: str) -> str | None:
        """The column's unit, if given."""
        if column not in self.entries.index:
            return None
        u = str(self.entries.at[column, "unit"] or "").strip()
        return u or None

    @property
    def influenceable(self) -> tuple[str, ...]:
        """Columns marked as influenceable by the unit."""
        return tuple(self.entries.index[self.entries["influenceable"]])

    def check(self, table: pd.DataFrame, columns: Sequence[str], path: Path | None = None) -> None:
        """Check used columns against their units; raise :class:`DataError` on a violation.

        Parameters
        ----------
        table : DataFrame
            Validated table (numeric columns as floats), indexed by unit id.
        columns : sequence of str
            Columns to check (those the model uses).
        path : Path, optional
            The data file, for messages.
        """
        for c in columns:
            unit = (self.unit(c) or "").lower()
            if c not in table.columns or not pd.api.types.is_numeric_dtype(table[c]):
                continue
            values = table[c]
            if unit in _RANGES:
                lo, hi = _RANGES[unit]
                bad = (values < lo) | (values > hi)
                if bad.any():
                    ids = list(values.index[bad])
                    raise DataError(
                        f"column '{c}' is a {unit} in the data dictionary, so it must lie between "
                        f"{lo:g} and {hi:g}; unit(s) {format_ids(ids)} have "
                        f"{', '.join(f'{v:g}' for v in values[bad].head(3))}"
                        + (
                            " (percentages where shares were expected?)"
                            if unit in ("share", "andel")
                            else ""
                        ),
                        path=path,
                        column=c,
                        ids=ids,
                    )
            elif unit in _NONNEGATIVE:
                bad = values < 0
                if bad.any():
                    ids = list(values.index[bad])
                    raise DataError(
                        f"column '{c}' counts {unit} in the data dictionary and must not be "
                        f"negative; negative for unit(s) {format_ids(ids)}",
                        path=path,
                        column=c,
                        ids=ids,
                    )


def _flag(value: object, row: int, path: Path) -> bool:
    text = (
        ""
        if value is None or (isinstance(value, float) and pd.isna(value))
        else str(value).strip().lower()
    )
    if isinstance(value, float) and not pd.isna(value):
        text = str(int(value)) if value.is_integer() else text
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise DataError(
        f"row {row}: influenceable must be yes/no (ja/nej, true/false, 1/0); got {value!r}",
        path=path,
        column="influenceable",
    )


def read_dictionary(path: Path | str, options: ReadOptions | None = None) -> DataDictionary:
    """Read a data dictionary file (CSV or Excel).

    Raises
    ------
    DataError
        For a missing ``column`` column, an unknown column (with a suggestion),
        a column listed twice, or an influenceable value that is not yes/no.

    Examples
    --------
    >>> import needsmodel as nm
    >>> d = read_dictionary(nm.datasets.sample_dir() / "dictionary.csv")
    >>> d.label("single_parent", "da")
    'Enlig forsørger'
    """
    p = Path(path)
    opts = options or ReadOptions()
    table = read_table(p, id="column", options=ReadOptions(encoding=opts.encoding, sep=opts.sep))
    unknown = [c for c in table.columns if c not in DICTIONARY_COLUMNS]
    if "column" not in table.columns:
        raise DataError(
            f"a data dictionary needs a 'column' column; found {', '.join(table.columns)}",
            path=p,
            column="column",
        )
    if unknown:
        hint = difflib.get_close_matches(unknown[0], DICTIONARY_COLUMNS, n=1)
        raise DataError(
            f"unknown column '{unknown[0]}' in the data dictionary"
            + (f"; did you mean '{hint[0]}'?" if hint else "")
            + f" (allowed: {', '.join(DICTIONARY_COLUMNS)})",
            path=p,
            column=unknown[0],
        )
    names = table["column"].astype(str).str.strip()
    dup = names[names.duplicated()].tolist()
    if dup:
        raise DataError(
            f"column {dup[0]!r} is listed twice in the data dictionary", path=p, column="column"
        )
    entries = pd.DataFrame(index=pd.Index(names, name="column"))
    for c in ("label_da", "label_en", "unit", "description"):
        entries[c] = table[c].fillna("").astype(str).to_numpy() if c in table.columns else ""
    flags = (
        table["influenceable"]
        if "influenceable" in table.columns
        else pd.Series([None] * len(table))
    )
    entries["influenceable"] = [_flag(v, i + 2, p) for i, v in enumerate(flags)]
    signs = (
        table["expected_sign"].fillna("").astype(str).str.strip().str.lower()
        if "expected_sign" in table.columns
        else pd.Series([""] * len(table))
    )
    bad = [(i + 2, v) for i, v in enumerate(signs) if v not in _SIGNS]
    if bad:
        raise DataError(
            f"expected_sign must be '+' or '-' (or empty); row {bad[0][0]} has {bad[0][1]!r}",
            path=p,
            column="expected_sign",
            ids=[f"row {bad[0][0]}"],
        )
    entries["expected_sign"] = [_SIGNS[v] for v in signs]
    return DataDictionary(entries=entries, path=p)
