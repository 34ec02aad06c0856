"""The Excel workbook a finance team hands on: formatted, in the report's language.

Every sheet has bold headers, an autofilter, frozen panes, widths that fit and
number formats (kroner with thousands separators and no decimals, real
percentages, indices with three decimals); it prints landscape, one page wide.
The first sheet is the budget per unit a politician reads: name, pupils, need
index, base, per-pupil and socioeconomic amounts, total, kroner per pupil and
the change against the current budget, with an "I alt" row whose ``SUM``
formulas equal the budget. Columns that are zero for every unit (an unused
pool) are left out. Text from the data is stored as text, never as a formula.
Written with openpyxl's styles.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .display import decimals_for
from .i18n import LABELS, label, meta_label, money, pool_rules

if TYPE_CHECKING:
    from .runresult import RunResult

__all__ = [
    "KR_COLUMNS",
    "PCT_COLUMNS",
    "budget_frame",
    "write_scenarios",
    "write_sheet",
    "write_workbook",
]

#: Columns in kroner: ``#,##0``.
KR_COLUMNS = frozenset(
    {
        "need", "allocation", "current", "change", "target", "base_amount", "per_capita_amount",
        "needs_amount", "transition", "current_adjusted", "change_adjusted", "current_fixed",
        "change_fixed", "amount", "unit_amount", "target_low", "target_high", "allocation_low",
        "allocation_high", "frame", "amount_current_prices", "observed", "predicted",
        "kr_per_exposure", "socioeconomic_amount", "total", "pooled", "2022", "2023", "2024",
        "2025", "2026", "2027", "2028", "2029", "2030", "2031", "2032",
    }
)  # fmt: skip
#: Columns in percentage points, written as real percentages: ``0.0%``.
PCT_COLUMNS = frozenset(
    {"change_pct", "share_pct", "weight_pct", "width_pct", "change_fixed_pct",
     "estimated_weight_pct"}
)  # fmt: skip
#: Shares (fractions), written as percentages with two decimals.
SHARE_COLUMNS = frozenset({"share", "share_low", "share_high"})
#: Counts: ``#,##0``.
COUNT_COLUMNS = frozenset({"exposure", "count", "persons", "nobs", "n_params", "cells"})
#: Indices: ``0.000``.
INDEX_COLUMNS = frozenset({"index", "index_reference", "ratio", "price_index"})

#: The label of the total row.
_TOTAL = {"da": "I alt", "en": "Total"}
#: Columns the total row sums.
_SUMMED = (KR_COLUMNS | {"exposure"}) - {"unit_amount", "kr_per_exposure"}


def _header(key: str, result: RunResult, lang: str) -> str:
    """A column's header: the i18n label, the exposure's dictionary label for ``exposure``."""
    if key == "name":
        return label("unit_name", lang)
    exposure = result.results.spec.exposure
    if key == "exposure" and exposure and result.dictionary is not None:
        return result.display(exposure, lang)
    return label(key, lang)


def budget_frame(result: RunResult) -> pd.DataFrame:
    """The per-unit budget a politician reads (English column keys).

    Columns: ``unit, name, exposure, index, base_amount, per_capita_amount,
    socioeconomic_amount, allocation, kr_per_exposure, current, change,
    change_pct``.
    """
    t = result.allocation.table
    labels = result.labels
    out = pd.DataFrame(
        {
            "unit": t["unit"],
            "name": [labels.get(str(u), "") for u in t["unit"]],
            "exposure": t["exposure"],
            "index": t["index"],
            "base_amount": t["base_amount"],
            "per_capita_amount": t["per_capita_amount"],
            "socioeconomic_amount": t["needs_amount"],
            "target": t["target"],
            "allocation": t["allocation"].astype("int64"),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["kr_per_exposure"] = np.where(
            t["exposure"] > 0, t["allocation"] / t["exposure"], np.nan
        )
    out["current"] = t["current"]
    out["change"] = t["change"]
    out["change_pct"] = t["change_pct"]
    if not labels:
        out = out.drop(columns="name")
    return out


def _translate_values(stem: str, frame: pd.DataFrame, result: RunResult, lang: str) -> pd.DataFrame:
    """Names of pools, parts, rules, criteria, terms and statistics in the report language."""
    out = frame.copy()
    for col, prefix in (("pool", "pool_"), ("part", "part_"), ("reason", "reason_")):
        if col in out.columns:
            out[col] = [label(f"{prefix}{v}", lang) if v else "" for v in out[col]]
    if "rule" in out.columns and stem == "pools":
        out["rule"] = pool_rules(result.allocation.policy, lang)
    for col in ("criterion", "term", "indicator", "group"):
        if col in out.columns:
            out[col] = [result.display(str(v), lang) for v in out[col]]
    if stem == "model_fit":
        out["statistic"] = [label(str(s), lang) if str(s) in LABELS else _fit_name(str(s), lang)
                            for s in out["statistic"]]  # fmt: skip
        out["value"] = [_cv_scheme(v, lang) if isinstance(v, str) else v for v in out["value"]]
    if stem == "metadata":
        out["item"] = [meta_label(str(v), lang) for v in out["item"]]
    return out


def _cv_scheme(text: str, lang: str) -> str:
    """A cross-validation scheme in words (``"grouped k-fold by unit (k=10)"``)."""
    if lang != "da":
        return text
    words = (
        ("grouped k-fold by unit", "grupperet k-fold efter enhed"),
        ("leave-one-out", "udeladt én ad gangen"),
        ("k-fold", "k-fold"),
    )
    for en, da in words:
        if text.startswith(en):
            return da + text[len(en) :]
    return text


def _fit_name(key: str, lang: str) -> str:
    names = {
        "nobs": ("Units", "Enheder"),
        "n_params": ("Parameters", "Parametre"),
        "bic": ("BIC", "BIC"),
        "df_resid": ("Residual degrees of freedom", "Residuale frihedsgrader"),
        "cv_mae": ("Cross-validated MAE per unit (kr)", "Krydsvalideret MAE pr. enhed (kr.)"),
        "cv_scheme": ("Cross-validation", "Krydsvalidering"),
        "cv_note": ("Cross-validation note", "Note om krydsvalidering"),
        "null_deviance": ("Null deviance", "Nulmodellens devians"),
        "pearson_chi2": ("Pearson χ²", "Pearsons χ²"),
        "scale": ("Scale", "Skala"),
        "persons": ("Persons", "Personer"),
        "smearing": ("Smearing factor", "Smearing-faktor"),
    }
    if key.startswith("person_"):
        base = key[len("person_") :]
        prefix = "Person level: " if lang == "en" else "Personniveau: "
        return prefix + (label(base, lang) if base in LABELS else _fit_name(base, lang))
    pair = names.get(key)
    return money(pair[1] if lang == "da" else pair[0]) if pair else key


def _number_format(col: str, values: pd.Series) -> str | None:
    if col in KR_COLUMNS or col.isdigit():
        return "#,##0"
    if col in PCT_COLUMNS:
        return "0.0%"
    if col in SHARE_COLUMNS:
        return "0.00%"
    if col in COUNT_COLUMNS:
        return "#,##0"
    if col in INDEX_COLUMNS:
        return "0.000"
    if pd.api.types.is_float_dtype(values) or values.map(lambda v: isinstance(v, float)).any():
        d = decimals_for([v for v in values if isinstance(v, int | float)])
        return "#,##0" + ("." + "0" * d if d else "")
    if pd.api.types.is_integer_dtype(values):
        return "#,##0"
    return None


def _drop_zero_columns(frame: pd.DataFrame, keep: set[str]) -> pd.DataFrame:
    drop = [
        c
        for c in frame.columns
        if c not in keep
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
        and frame[c].fillna(0).eq(0).all()
    ]
    return frame.drop(columns=drop)


def write_workbook(
    result: RunResult, frames: Mapping[str, pd.DataFrame], path: Path, lang: str
) -> None:
    """Write ``frames`` (English column keys, by file stem) as a formatted workbook."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for stem, frame in frames.items():
        keep = {"allocation", "unit", "current", "change", "change_pct", "estimate", "value"}
        data = _drop_zero_columns(frame, keep) if stem in ("budget", "keys") else frame
        data = _translate_values(stem, data, result, lang)
        keys = [str(c) for c in data.columns]
        write_sheet(
            book,
            label(f"sheet_{stem}", lang),
            data,
            headers=[_header(k, result, lang) for k in keys],
            formats=[_number_format(k, data[k]) for k in keys],
            percent=[k in PCT_COLUMNS for k in keys],
            totals=[k in _SUMMED for k in keys] if stem in ("budget", "keys") else None,
            lang=lang,
            freeze="B2" if stem in ("budget", "keys", "winners_losers") else "A2",
        )
    title, heading = result.config.output.heading(lang, result.allocation.policy.year_labels)
    _page_texts(book, title or label("title", lang), heading, lang)
    book.save(path)


def _page_texts(book: Any, title: str, heading: str, lang: str) -> None:
    """Every sheet prints with the title (and organisation, budget year) in its header and the
    sheet's name and page numbers in its footer."""
    page = "Side &P af &N" if lang == "da" else "Page &P of &N"
    for ws in book.worksheets:
        # '&' starts a header code in Excel: a literal one is written twice
        ws.oddHeader.left.text = title.replace("&", "&&")
        ws.oddHeader.right.text = heading.replace("&", "&&")
        ws.oddFooter.left.text = ws.title.replace("&", "&&")
        ws.oddFooter.right.text = page
        ws.page_setup.paperSize = ws.PAPERSIZE_A4


def write_scenarios(table: pd.DataFrame, names: list[str], path: Path, lang: str) -> None:
    """The table of :func:`~needsmodel.allocation.compare_scenarios` as a formatted workbook."""
    from openpyxl import Workbook

    first = names[0]
    headers, formats, percent, totals = [], [], [], []
    for col in table.columns:
        c = str(col)
        kind, text = "kr", label(c, lang)
        for name in names:
            if c == f"{name}_share":
                kind, text = "share", f"{name}: {label('share', lang)}"
            elif c == f"{name}_allocation":
                kind, text = "kr", f"{name}: {label('allocation', lang)}"
            elif c == f"{name}_vs_{first}":
                kind, text = (
                    "kr",
                    money(f"{name} − {first} " + ("(kr.)" if lang == "da" else "(kr)")),
                )
            elif c == f"{name}_vs_{first}_pct":
                kind, text = "pct", f"{name} − {first} (%)"
        if c == "unit":
            kind = "text"
        headers.append(text)
        formats.append({"kr": "#,##0", "share": "0.00%", "pct": "0.0%", "text": None}[kind])
        percent.append(kind == "pct")
        totals.append(kind == "kr" and not c.endswith("_pct"))
    book = Workbook()
    book.remove(book.active)
    write_sheet(
        book,
        "scenarier" if lang == "da" else "scenarios",
        table,
        headers=headers,
        formats=formats,
        percent=percent,
        totals=totals,
        lang=lang,
        freeze="B2",
    )
    _page_texts(book, label("title", lang), "", lang)
    book.save(path)


def write_sheet(
    book: Any,
    title: str,
    data: pd.DataFrame,
    *,
    headers: list[str],
    formats: list[str | None],
    percent: list[bool],
    totals: list[bool] | None,
    lang: str,
    freeze: str = "A2",
) -> Any:
    """One formatted sheet: bold headers, number formats, an optional "I alt" row, print set-up.

    Parameters
    ----------
    book : openpyxl Workbook
        The workbook the sheet is added to.
    title : str
        Sheet name (cut to Excel's 31 characters).
    data : DataFrame
        The rows; text stays text (never a formula).
    headers, formats, percent : list
        Per column: header text, number format (or None) and whether the
        values are percentage points to be written as real percentages.
    totals : list of bool, optional
        Columns summed by a ``SUM`` formula in a last "I alt" row.
    lang : str
        Language of the "I alt" label.
    freeze : str
        The top-left cell below and right of the frozen panes.
    """
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    ws = book.create_sheet(title[:31])
    # no formula from the data (see export.escape_cell): text starting with "=" (which openpyxl
    # takes for a formula) is stored as text, whatever follows; only the total row below,
    # written by this code, holds formulas
    texts: list[tuple[int, int]] = []
    ws.append(headers)
    texts += [(1, j) for j, h in enumerate(headers, start=1) if str(h).startswith("=")]
    mixed = [data[c].dtype == object for c in data.columns]
    for i, row in enumerate(data.itertuples(index=False), start=2):
        cells: list[Any] = []
        for value, is_pct in zip(row, percent, strict=True):
            if isinstance(value, float) and np.isnan(value):
                cells.append(None)
            elif is_pct and isinstance(value, int | float):
                cells.append(float(value) / 100.0)
            elif isinstance(value, np.generic):
                cells.append(value.item())
            else:
                if isinstance(value, str) and value.startswith("="):
                    texts.append((i, len(cells) + 1))
                cells.append(value)
        ws.append(cells)
    for r, c in texts:
        ws.cell(r, c).data_type = "s"
    n = len(data)
    own: set[str] = set()
    if totals is not None and n:
        last = n + 2
        ws.cell(last, 1, _TOTAL.get(lang, "Total")).font = bold
        for j, summed in enumerate(totals, start=1):
            if summed and j > 1:
                letter = get_column_letter(j)
                total = ws.cell(last, j, f"=SUM({letter}2:{letter}{n + 1})")
                total.font = bold
                own.add(total.coordinate)
    for cell in ws[1]:
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDE4EE")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for j, fmt in enumerate(formats, start=1):
        letter = get_column_letter(j)
        if fmt is not None:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                if isinstance(cell.value, bool):
                    continue
                if isinstance(cell.value, int | float) and mixed[j - 1]:
                    cell.number_format = _cell_format(cell.value)  # a column of mixed values
                elif isinstance(cell.value, int | float) or cell.coordinate in own:
                    cell.number_format = fmt
        shown = [str(ws.cell(1, j).value)] + [
            _shown(ws.cell(i, j).value, fmt) for i in range(2, min(n, 200) + 2)
        ]
        ws.column_dimensions[letter].width = min(48, max(8, max(map(len, shown)) + 2))
    ws.freeze_panes = freeze
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{n + 1}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return ws


def _cell_format(value: float) -> str:
    if isinstance(value, int):
        return "#,##0"
    d = decimals_for([value])
    return "#,##0" + ("." + "0" * d if d else "")


def _shown(value: Any, fmt: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and fmt is not None:
        if fmt.endswith("%"):
            return f"{value:.2%}"
        decimals = fmt.split(".")[1].count("0") if "." in fmt else 0
        return f"{value:,.{decimals}f}"
    return str(value)
