"""One display protocol for every result: text in a terminal, tables in JupyterLab.

Every public result object has a short ``__repr__`` (what it is, in one line), and
``summary()`` returning a :class:`Summary` (as statsmodels' ``Summary``): a title,
a header of key facts and tables, shown as text by ``str()`` and as HTML by
JupyterLab (``_repr_html_``). :class:`DisplayMixin` gives a class all three from
its ``summary()``. Numbers are shown with fixed decimals and thousands
separators, never in e-notation (``20,740`` beside ``3,038``, not ``2.074e+04``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .i18n import label

__all__ = [
    "DisplayMixin",
    "FitStats",
    "Summary",
    "decimals_for",
    "format_frame",
    "format_number",
]

#: Columns shown as p-values (four decimals, "<0.0001").
_P_COLUMNS = frozenset({"p_value", "p", "pvalue", "Pr(>|t|)", "joint_p"})


def decimals_for(values: Iterable[Any]) -> int:
    """Decimals that show a column's typical magnitude with about four significant digits.

    Examples
    --------
    >>> decimals_for([20740.2, 3038.9]), decimals_for([0.7381, 0.012]), decimals_for([1.2e-5])
    (0, 4, 6)
    """
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    arr = np.abs(arr[np.isfinite(arr) & (arr != 0)])
    if arr.size == 0:
        return 0
    m = float(np.median(arr))
    if m >= 1000:
        return 0
    if m >= 100:
        return 1
    if m >= 10:
        return 2
    if m >= 1:
        return 3
    return int(min(6, max(4, 3 - math.floor(math.log10(m)))))


def format_number(value: Any, decimals: int = 0, *, p_value: bool = False) -> str:
    """One number with thousands separators and fixed decimals, never e-notation.

    Examples
    --------
    >>> format_number(20740.2), format_number(0.00004, 4, p_value=True), format_number(-3.5, 2)
    ('20,740', '<0.0001', '-3.50')
    """
    if value is None or isinstance(value, str):
        return "" if value is None else value
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "–"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if p_value:
        return "<0.0001" if v < 0.0001 else f"{v:.4f}"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    return f"{v:,.{decimals}f}"


def format_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as text, each numeric column with its own fixed decimals."""
    out = pd.DataFrame(index=frame.index)
    for c in frame.columns:
        col = frame[c]
        if pd.api.types.is_bool_dtype(col):
            out[c] = col.map(lambda v: "yes" if v else "")
        elif pd.api.types.is_integer_dtype(col):
            out[c] = col.map(lambda v: format_number(int(v)))
        elif pd.api.types.is_float_dtype(col):
            p = str(c) in _P_COLUMNS
            d = decimals_for(col.to_numpy()) if not p else 4
            out[c] = col.map(lambda v, d=d, p=p: format_number(float(v), d, p_value=p))
        else:
            out[c] = col.map(
                lambda v: (
                    format_number(v, decimals_for([v]))
                    if isinstance(v, int | float | np.number) and not isinstance(v, bool)
                    else ("" if v is None else str(v))
                )
            )
    return out


@dataclass
class Summary:
    """A titled summary: key facts and tables; text in a terminal, HTML in Jupyter.

    Attributes
    ----------
    title : str
        The heading.
    header : list of (str, str)
        Key facts, label and value.
    tables : list of (str, DataFrame)
        Captioned tables (formatted with :func:`format_frame`).
    notes : list of str
        Lines under the tables.
    """

    title: str
    header: list[tuple[str, str]] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_text(self) -> str:
        """The summary as plain text."""
        lines = [self.title, "=" * max(60, len(self.title))]
        if self.header:
            width = max(len(k) for k, _ in self.header)
            lines += [f"{k:<{width}}  {v}" for k, v in self.header]
        for caption, frame in self.tables:
            lines.append("-" * 60)
            if caption:
                lines.append(caption)
            lines.append(format_frame(frame).to_string())
        if self.notes:
            lines.append("-" * 60)
            lines += self.notes
        return "\n".join(lines)

    def as_html(self) -> str:
        """The summary as an HTML fragment (tables right-aligned, text escaped)."""
        parts = [f"<div class='needsmodel-summary'><strong>{html.escape(self.title)}</strong>"]
        if self.header:
            rows = "".join(
                f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
                for k, v in self.header
            )
            parts.append(f"<table>{rows}</table>")
        for caption, frame in self.tables:
            if caption:
                parts.append(f"<p><em>{html.escape(caption)}</em></p>")
            parts.append(format_frame(frame).to_html(border=0, escape=True))
        if self.notes:
            parts.append("".join(f"<p>{html.escape(n)}</p>" for n in self.notes))
        parts.append("</div>")
        return "".join(parts)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def __contains__(self, text: str) -> bool:
        """``"WLS" in res.summary()``, as when ``summary()`` returned a string."""
        return text in self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


class DisplayMixin:
    """``__str__`` and ``_repr_html_`` from ``summary()``, and a one-line ``__repr__``."""

    def summary(self) -> Summary:  # pragma: no cover - every class defines it
        raise NotImplementedError

    def _describe(self) -> str:
        """What the object is, for ``__repr__`` (one line)."""
        return self.summary().title

    def __str__(self) -> str:
        return self.summary().as_text()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._describe()}>"

    def _repr_html_(self) -> str:
        return self.summary().as_html()


class FitStats(dict[str, Any]):
    """Fit statistics: a dict (``fit_stats["r2"]``) that shows itself as a labelled table."""

    def table(self, lang: str = "en") -> pd.DataFrame:
        """``statistic, value`` with the statistics' labels."""
        return pd.DataFrame(
            {"statistic": [label(k, lang) for k in self], "value": list(self.values())},
            index=pd.Index(list(self), name="key"),
        )

    def _repr_html_(self) -> str:
        return self._summary().as_html()

    def __repr__(self) -> str:
        return self._summary().as_text()

    def _summary(self) -> Summary:
        rows = [
            (label, _value(v))
            for label, v in zip(self.table()["statistic"], self.values(), strict=True)
        ]
        return Summary("Fit statistics", rows)


def _value(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return format_number(v, decimals_for([v]))
    if isinstance(v, int | np.integer) and not isinstance(v, bool):
        return format_number(int(v))
    return str(v)


def header_rows(items: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> list[tuple[str, str]]:
    """Label-value pairs with numbers formatted for a :class:`Summary` header."""
    pairs = items.items() if isinstance(items, Mapping) else items
    return [(str(k), _value(v)) for k, v in pairs]
