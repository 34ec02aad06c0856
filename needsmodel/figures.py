"""The figures of a run, drawn once: embedded in the report and saved as PNG files.

:func:`draw_figures` draws every figure that applies to a run, with the data
dictionary's labels, in one language; the report embeds them and the output
folder saves the same figures under ``plots/``. :func:`render_png` renders
each once more, to PNG bytes that are both embedded and written: a figure is
drawn once and rendered once per run.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import matplotlib
from matplotlib.figure import Figure

from . import plots
from .diagnostics import Diagnostics, diagnose

if TYPE_CHECKING:
    from .runresult import RunResult

__all__ = ["FIGURE_FILES", "PNG_DPI", "draw_figures", "render_png", "run_diagnostics"]

#: Resolution of the PNG files and of the figures embedded in the report.
PNG_DPI = 110

#: Figure key (as the report uses it) → file stem under ``plots/``.
FIGURE_FILES: dict[str, str] = {
    "coefficients": "coefficients",
    "observed": "observed_vs_predicted",
    "index": "need_index",
    "allocation": "allocation",
    "residuals": "residuals_vs_fitted",
    "qq": "qq",
    "influence": "influence",
    "winners": "winners_losers",
    "criteria": "criteria_weights",
    "ratios": "predictive_ratios",
}


def render_png(fig: Figure) -> bytes:
    """The figure as PNG bytes at :data:`PNG_DPI` (the same bytes for report and file)."""
    buf = io.BytesIO()
    # zlib level 1: a sixth faster than the default 6, for files 8 % larger; tick labels are
    # laid out here, so "$...$" in names is kept as text here too
    with matplotlib.rc_context({"text.parse_math": False}):
        fig.savefig(buf, format="png", dpi=PNG_DPI, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def run_diagnostics(result: RunResult) -> Diagnostics:
    """The diagnostics of a run's model, with the units' names and the dictionary's labels."""
    return diagnose(result.results, result.labels, terms=lambda t, lg: result.display(t, lg))


def draw_figures(result: RunResult, lang: str, diag: Diagnostics) -> dict[str, Figure]:
    """Every figure that applies to the run, by key (see :data:`FIGURE_FILES`)."""
    # names, labels and ids come from the data: "$...$" in them is text, never mathtext
    with matplotlib.rc_context({"text.parse_math": False}):
        return _draw(result, lang, diag)


def _draw(result: RunResult, lang: str, diag: Diagnostics) -> dict[str, Figure]:
    res, alloc, labels = result.results, result.allocation, result.labels

    def name(term: str) -> str:
        return result.display(term, lang)

    out: dict[str, Figure] = {
        "coefficients": plots.coefficient_plot(res, lang=lang, names=name),
    }
    if res.has_costs:  # an applied model without this year's costs has nothing to compare
        out["observed"] = plots.observed_vs_predicted(res, lang=lang, labels=labels)
    out["index"] = plots.need_index_plot(alloc, lang=lang, labels=labels)
    out["allocation"] = plots.allocation_plot(
        alloc, lang=lang, labels=labels, uncertainty=result.uncertainty
    )
    if diag.influence is not None:
        out["residuals"] = plots.residuals_vs_fitted(res, lang=lang, labels=labels)
        out["qq"] = plots.qq_plot(res, lang=lang)
        out["influence"] = plots.influence_plot(res, lang=lang, labels=labels, diagnostics=diag)
    if alloc.table["current"].notna().any():
        out["winners"] = plots.winners_losers_plot(alloc, lang=lang, labels=labels)
    if result.criteria is not None:
        out["criteria"] = plots.criteria_plot(result.criteria, lang=lang, names=name)
    if res.predictive_ratios is not None:
        out["ratios"] = plots.predictive_ratio_plot(res, lang=lang, names=name)
    return out
