"""Design matrices: numeric and categorical indicators, learned once, re-applied.

A :class:`Design` is learned from the estimation data (which levels each
categorical indicator has, which is the reference) and then applied to any
table with the same columns, e.g. next year's data, giving the same columns in
the same order. Categorical indicators become treatment (dummy) columns named
``column[level]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, format_ids

__all__ = ["Design", "level_key"]


def level_key(value: str) -> tuple[int, float, str]:
    """Sort key for category levels: numbers numerically, then text."""
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def _as_text(col: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(col) and (col.dropna() == col.dropna().round()).all():
        col = col.astype("Int64")
    return col.astype(str)


@dataclass(frozen=True)
class Design:
    """How indicator columns become the columns of a design matrix.

    Attributes
    ----------
    indicators : tuple of str
        Indicator columns in order.
    levels : dict
        For each categorical indicator, its non-reference levels (as text) in
        column order.
    reference : dict
        For each categorical indicator, its reference level (as text).
    intercept : bool
        Whether a leading ``Intercept`` column is added.
    """

    indicators: tuple[str, ...]
    levels: Mapping[str, tuple[str, ...]]
    reference: Mapping[str, str]
    intercept: bool = True

    @classmethod
    def learn(
        cls,
        frame: pd.DataFrame,
        indicators: Sequence[str],
        categorical: Sequence[str] = (),
        reference: Mapping[str, object] | None = None,
        *,
        intercept: bool = True,
    ) -> Design:
        """Learn the design from the estimation data.

        Parameters
        ----------
        frame : DataFrame
            Estimation data.
        indicators : sequence of str
            Indicator columns.
        categorical : sequence of str
            Columns to treat as categorical even if numeric (e.g. an income
            quartile 1-4). Text columns are always categorical.
        reference : mapping, optional
            Reference level per categorical column (default: the first level in
            sorted order).
        intercept : bool
            Add an intercept column.
        """
        reference = dict(reference or {})
        levels: dict[str, tuple[str, ...]] = {}
        refs: dict[str, str] = {}
        for c in indicators:
            col = frame[c]
            if c in categorical or not (
                pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
            ):
                # the text of the distinct values only: a register's cells repeat them
                values = sorted(set(_as_text(pd.Series(col.dropna().unique()))), key=level_key)
                ref = str(reference[c]) if c in reference else (values[0] if values else "")
                if c in reference and ref not in values:
                    raise DataError(
                        f"reference level {reference[c]!r} of '{c}' does not occur; "
                        f"levels are {', '.join(map(repr, values))}",
                        column=c,
                    )
                if len(values) < 2:
                    raise DataError(
                        f"categorical indicator '{c}' has a single level {values!r}; "
                        "its effect cannot be estimated",
                        column=c,
                    )
                levels[c] = tuple(v for v in values if v != ref)
                refs[c] = ref
        unknown = sorted(set(reference) - set(levels))
        if unknown:
            raise DataError(
                f"reference levels given for '{unknown[0]}', which is not a categorical indicator",
                column=unknown[0],
            )
        return cls(tuple(indicators), levels, refs, intercept)

    @property
    def categorical(self) -> tuple[str, ...]:
        """The categorical indicators."""
        return tuple(self.levels)

    @property
    def numeric(self) -> tuple[str, ...]:
        """The numeric indicators."""
        return tuple(c for c in self.indicators if c not in self.levels)

    @property
    def terms(self) -> list[str]:
        """Column names of the design matrix."""
        out = ["Intercept"] if self.intercept else []
        for c in self.indicators:
            if c in self.levels:
                out += [f"{c}[{lv}]" for lv in self.levels[c]]
            else:
                out.append(c)
        return out

    def term_indicator(self) -> dict[str, str]:
        """Map each term to the indicator it comes from (``Intercept`` to itself)."""
        out = {"Intercept": "Intercept"} if self.intercept else {}
        for c in self.indicators:
            for lv in self.levels.get(c, ()):
                out[f"{c}[{lv}]"] = c
            if c not in self.levels:
                out[c] = c
        return out

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The design matrix of ``frame`` as floats (rows × :attr:`terms`)."""
        n = len(frame)
        cols: list[np.ndarray] = [np.ones(n)] if self.intercept else []
        for c in self.indicators:
            if c in self.levels:
                text = _as_text(frame[c]).to_numpy()
                known = {*self.levels[c], self.reference[c]}
                bad = ~np.isin(text, list(known))
                if bad.any():
                    raise DataError(
                        f"categorical indicator '{c}' has level(s) "
                        f"{format_ids(sorted(set(text[bad])))} not seen when the model was "
                        f"estimated (known: {', '.join(sorted(known, key=level_key))})",
                        column=c,
                    )
                cols += [(text == lv).astype(float) for lv in self.levels[c]]
            else:
                cols.append(frame[c].to_numpy(dtype=float))
        return np.column_stack(cols) if cols else np.zeros((n, 0))

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The design matrix as a DataFrame indexed like ``frame``."""
        return pd.DataFrame(self.matrix(frame), index=frame.index, columns=self.terms)

    def cell_labels(self, frame: pd.DataFrame) -> pd.Series:
        """A label per row combining the categorical indicators' levels."""
        parts = [c + "=" + _as_text(frame[c]) for c in self.categorical]
        if not parts:
            return pd.Series("all", index=frame.index)
        out = parts[0]
        for p in parts[1:]:
            out = out + ", " + p
        return out

    def describe(self) -> str:
        """One line per categorical indicator: its reference and other levels."""
        return "; ".join(
            f"{c}: reference {self.reference[c]!r}, levels {', '.join(self.levels[c])}"
            for c in self.categorical
        )


_TERM = re.compile(r"^(?P<col>.+)\[(?P<level>[^\]]*)\]$")
