"""Writing a run's outputs: keys and coefficients as CSV and an Excel workbook.

Files are written through :func:`needsmodel.outputs.staged_outputs`: into a
staging folder first, moved into place only when all are complete, with a
``manifest.json`` describing the folder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._version import __version__
from .allocation import KEY_COLUMNS
from .estimate.given import SMEARING_TERM
from .estimate.methods import method_info
from .estimate.results import TIDY_COLUMNS
from .figures import FIGURE_FILES, draw_figures, render_png, run_diagnostics
from .i18n import currency
from .outputs import staged_outputs
from .provenance import metadata_frame, relative_path
from .report import write_report
from .workbook import budget_frame, write_workbook

if TYPE_CHECKING:
    from .runresult import RunResult

__all__ = [
    "OUTPUT_FILES",
    "coefficients_frame",
    "csv_number",
    "escape_cell",
    "extra_frames",
    "fit_frame",
    "keys_frame",
    "metadata_frame",
    "relative_path",
    "staged_outputs",
    "write_csv",
    "write_outputs",
]

OUTPUT_FILES = ("allocation_keys.xlsx", "allocation_keys.csv", "coefficients.csv", "model_fit.csv")

# Decimals kept per column in the CSV files, so the files are identical on
# every machine (no last-digit noise from the linear algebra library).
_KEY_DECIMALS = {
    "exposure": 6,
    "need": 2,
    "index": 6,
    "share": 10,
    "allocation": 0,
    "current": 2,
    "change": 2,
    "change_pct": 4,
    "target": 2,
    "base_amount": 2,
    "per_capita_amount": 2,
    "needs_amount": 2,
    "transition": 2,
    "current_adjusted": 2,
    "change_adjusted": 2,
}


def _round_significant(s: pd.Series, digits: int = 12) -> pd.Series:
    return s.map(lambda v: float(f"{v:.{digits}g}") if pd.notna(v) else v)


def keys_frame(result: RunResult) -> pd.DataFrame:
    """The allocation keys as written to ``allocation_keys.csv``."""
    cols = list(KEY_COLUMNS)
    if "index_reference" in result.allocation.table.columns:
        cols.insert(cols.index("index") + 1, "index_reference")
    t = result.allocation.table[cols].copy()
    for col, d in _KEY_DECIMALS.items():
        t[col] = t[col].astype(float).round(d)
    if "index_reference" in t.columns:
        t["index_reference"] = t["index_reference"].astype(float).round(6)
    t["allocation"] = result.allocation.table["allocation"].astype("int64")
    return t


def coefficients_frame(result: RunResult) -> pd.DataFrame:
    """The coefficient table as written to ``coefficients.csv``.

    It is the form ``[model] coefficients`` reads back: a log-linear model adds
    a row ``(smearing)`` with its smearing factor.
    """
    res = result.results
    t = res.tidy().reset_index()
    for col in TIDY_COLUMNS:
        t[col] = _round_significant(t[col])
    t = t[["term", *TIDY_COLUMNS]]
    smearing = res.fit_stats.get("smearing")
    if method_info(res.method).kind == "log-linear" and smearing is not None:
        row = {"term": SMEARING_TERM, "estimate": float(f"{smearing:.12g}")}
        t = pd.concat([t, pd.DataFrame([row])], ignore_index=True)
    return t


def covariance_frame(result: RunResult) -> pd.DataFrame:
    """The coefficients' covariance matrix as written to ``coefficients_cov.csv``."""
    cov = result.results.cov_params.copy()
    for col in cov.columns:
        cov[col] = _round_significant(cov[col].astype(float))
    cov.index.name = "term"
    return cov.reset_index()


def fit_frame(result: RunResult) -> pd.DataFrame:
    """Fit statistics as written to ``model_fit.csv`` (person-level ones prefixed ``person_``)."""
    res = result.results
    items = list(res.fit_stats.items())
    if res.person_stats is not None:
        items += [(f"person_{k}", v) for k, v in res.person_stats.items()]
    rows = [(k, _stat_value(v)) for k, v in items]
    if res.cv is not None:
        rows.append(("cv_scheme", res.cv.scheme))
        if res.cv.note:
            rows.append(("cv_note", res.cv.note))
    rows.append(("model_origin", res.origin))
    given = res.extras.get("given_from") or {}
    rows += [(f"given_{k}", str(v)) for k, v in given.items()]
    if result.retest is not None:
        for k, v in result.retest.frame().itertuples(index=False):
            rows.append((f"retest_{k}", _stat_value(v)))
    return pd.DataFrame(rows, columns=["statistic", "value"], dtype=object)


def _stat_value(v: object) -> object:
    """A statistic as one cell: floats to 12 digits, lists (terms held at zero) as text."""
    if isinstance(v, float):
        return float(f"{v:.12g}")
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v))
    return v


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = _round_significant(out[c])
    return out


def extra_frames(result: RunResult) -> dict[str, pd.DataFrame]:
    """Tables a run writes besides keys, coefficients and fit, by file stem.

    ``pools``; ``composition`` (what the budget is allocated by: base,
    per exposure, socioeconomic criteria); ``winners_losers`` (with a current
    budget); ``criteria_weights``
    and ``criteria_by_unit`` (additive models); ``transition_path``
    (phase-in, several budget years); ``budget_years`` (one row per unit and year:
    frame, exposure, target, amount in fixed prices and, with a price index, in
    current prices); ``key_uncertainty`` (``[uncertainty]``); ``predictive_ratios``
    (person-level models); ``cells`` (cell models); ``coefficient_stability``
    (several years); ``retest_terms`` (given coefficients re-tested on this year's costs:
    frozen and re-estimated coefficient per term).
    """
    res = result.results
    alloc = result.allocation
    out: dict[str, pd.DataFrame] = {"pools": _rounded(alloc.pools)}
    if alloc.composition is not None:
        out["composition"] = _rounded(alloc.composition)
    if alloc.table["current"].notna().any():
        out["winners_losers"] = _rounded(alloc.winners_and_losers())
    if result.criteria is not None:
        out["criteria_weights"] = _rounded(result.criteria.table)
        out["criteria_by_unit"] = _rounded(result.criteria.long())
    if alloc.path is not None:
        out["transition_path"] = alloc.path.reset_index()
    if alloc.years is not None:
        out["budget_years"] = _rounded(alloc.years)
    if result.uncertainty is not None:
        out["key_uncertainty"] = _rounded(result.uncertainty.table)
    if res.predictive_ratios is not None:
        out["predictive_ratios"] = _rounded(res.predictive_ratios)
    if res.cells is not None:
        out["cells"] = _rounded(res.cells)
    if result.years is not None:
        out["coefficient_stability"] = _rounded(result.years.stability().reset_index())
    if result.retest is not None:
        out["retest_terms"] = _rounded(result.retest.terms.reset_index())
    return out


#: Leading characters that make a spreadsheet read a text cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> object:
    """A text cell made safe for spreadsheets: a leading ``'`` before a formula trigger.

    Follows the OWASP guidance on CSV injection: text that starts with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single
    quote, so that Excel and LibreOffice show it as text instead of running it.
    Numbers are left alone.

    Examples
    --------
    >>> print(escape_cell("=1+2"), escape_cell("D01"), escape_cell(-5.0))
    '=1+2 D01 -5.0
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _escaped(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.rename(columns=lambda c: escape_cell(str(c)))
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].map(escape_cell)
    return out


def csv_number(value: object, decimal: str = ".") -> object:
    """A number as CSV text with ``decimal`` as its mark, no thousands separator, no exponent.

    Any number is converted, whatever the column's type (a column of mixed
    statistics, Python decimals, NumPy scalars), so that a Danish file never
    holds a decimal point that Danish Excel would read as a thousands
    separator. Missing values become empty cells; text and booleans are
    returned unchanged.

    Examples
    --------
    >>> csv_number(9671933.0, ","), csv_number(0.0000123, ","), csv_number(7, ",")
    ('9671933', '0,0000123', '7')
    """
    if value is None or isinstance(value, bool | np.bool_ | str):
        return value
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating | Decimal):
        x = float(value)
        if not np.isfinite(x):
            return "" if np.isnan(x) else ("inf" if x > 0 else "-inf")
        text = np.format_float_positional(x, trim="-")
        return text.replace(".", decimal) if decimal != "." else text
    return value


def write_csv(frame: pd.DataFrame, path: Path, csv_format: str = "en") -> None:
    """Write a CSV in English (``,`` and ``.``) or Danish Excel (``;``, ``,``, BOM) format.

    Every number, in any column, is written by :func:`csv_number` with the
    format's decimal mark and no thousands separator. Text cells that a
    spreadsheet would read as a formula are escaped (:func:`escape_cell`).
    """
    frame = _escaped(frame)
    mark = "," if csv_format == "da" else "."
    frame = frame.astype(object).apply(lambda col: col.map(lambda v: csv_number(v, mark)))
    if csv_format == "da":
        frame.to_csv(path, index=False, sep=";", encoding="utf-8-sig", lineterminator="\r\n")
    else:
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def _write_report(result: RunResult, path: Path, figures: Any = None, diag: Any = None) -> None:
    write_report(result, path, figures=figures, diagnostics=diag)


def _write_bytes(data: bytes, path: Path) -> None:
    path.write_bytes(data)


def _write_frame(frame: pd.DataFrame, path: Path, csv_format: str) -> None:
    write_csv(frame, path, csv_format)


def _as_text(ws: Any) -> None:
    """Store every cell openpyxl took for a formula as plain text: no formula from the data."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def _write_workbook(result: RunResult, path: Path) -> None:
    frames = {
        "budget": budget_frame(result),
        "keys": _with_names(result, keys_frame(result)),
        "coefficients": coefficients_frame(result),
        "model_fit": fit_frame(result),
        **extra_frames(result),
        "metadata": metadata_frame(result),
    }
    write_workbook(result, frames, path, result.config.output.lang)


def _with_names(result: RunResult, frame: pd.DataFrame) -> pd.DataFrame:
    """The keys with the units' names beside their ids."""
    labels = result.labels
    if not labels:
        return frame
    out = frame.copy()
    out.insert(1, "name", [labels.get(str(u), "") for u in out["unit"]])
    return out


def _inputs_of(result: RunResult) -> set[Path]:
    paths = {Path(p).resolve() for p in result.inputs}
    if result.config.path is not None:
        paths.add(Path(result.config.path).resolve())
    return paths


def write_outputs(result: RunResult, directory: Path, *, force: bool = False) -> list[Path]:
    """Write the outputs of a run into ``directory``, amounts in the config's currency.

    See :func:`_write_outputs` for the files and parameters.
    """
    with currency(result.config.output.currency):
        return _write_outputs(result, directory, force=force)


def _write_outputs(result: RunResult, directory: Path, *, force: bool = False) -> list[Path]:
    """Write the outputs of a run into ``directory``.

    Files: ``allocation_keys.xlsx`` (sheets keys, coefficients, model fit,
    metadata), ``allocation_keys.csv``, ``coefficients.csv`` and
    ``model_fit.csv``. CSV files use the config's ``[output] csv_format``.

    Parameters
    ----------
    result : RunResult
        The run.
    directory : Path
        The output folder (see :func:`needsmodel.outputs.staged_outputs` for
        what it refuses).
    force : bool
        Overwrite files with output names that needsmodel did not write
        (also ``[output] overwrite = true``).

    Returns
    -------
    list of Path
        The files written.
    """
    directory = Path(directory)
    force = force or result.config.output.overwrite
    fmt = result.config.output.csv_format
    writers: dict[str, Callable[[Path], object]] = {
        "allocation_keys.csv": lambda p: write_csv(keys_frame(result), p, fmt),
        "coefficients.csv": lambda p: write_csv(coefficients_frame(result), p, fmt),
        "model_fit.csv": lambda p: write_csv(fit_frame(result), p, fmt),
        "coefficients_cov.csv": lambda p: write_csv(covariance_frame(result), p, fmt),
    }
    for stem, frame in extra_frames(result).items():
        writers[f"{stem}.csv"] = partial(_write_frame, frame, csv_format=fmt)
    writers["allocation_keys.xlsx"] = lambda p: _write_workbook(result, p)
    # every figure drawn once, for the PNG files and the report alike
    diag = run_diagnostics(result)
    figs = draw_figures(result, result.config.output.lang, diag)
    # ... and rendered once: the report embeds the bytes that the PNG files hold
    pngs = {key: render_png(fig) for key, fig in figs.items()}
    writers["report.html"] = lambda p: _write_report(result, p, pngs, diag)
    for key, data in pngs.items():
        writers[f"plots/{FIGURE_FILES[key]}.png"] = partial(_write_bytes, data)
    config = result.config
    record = {
        "version": __version__,
        "config": str(config.path) if config.path else "(in memory)",
        "config_sha256": hashlib.sha256(config.text.encode("utf-8")).hexdigest(),
        "inputs": dict(result.inputs),
    }
    with staged_outputs(
        directory, tuple(writers), _inputs_of(result), manifest=record, force=force
    ) as stage:
        for name, writer in writers.items():
            writer(stage / name)
    return [directory / n for n in writers]
