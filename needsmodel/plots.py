"""Plots of need models and allocations.

Every function returns a :class:`matplotlib.figure.Figure` (created without
pyplot, so nothing global is touched): it shows itself in a notebook and
:func:`save` writes it as PNG. Labels and tick numbers follow ``lang``
(``"da"`` or ``"en"``). Plots read fitted results and allocations; they never
refit.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from scipy import stats

from .allocation.criteria import CriteriaWeights
from .allocation.keys import Allocation
from .allocation.uncertainty import KeyUncertainty
from .diagnostics import Diagnostics, diagnose
from .errors import InputError
from .estimate.results import NeedResults
from .i18n import fmt_num, label

__all__ = [
    "NeedsFigure",
    "allocation_plot",
    "coefficient_plot",
    "criteria_plot",
    "influence_plot",
    "label_units",
    "need_index_plot",
    "new_figure",
    "observed_vs_predicted",
    "predictive_ratio_plot",
    "qq_plot",
    "residuals_vs_fitted",
    "save",
    "winners_losers_plot",
]

# One colour scheme, one meaning each, in every plot and the report:
_COLOR = "#1f5f8b"  # values (estimates, amounts, units)
_DARK = "#0b3c5d"  # values above the average (need index > 1)
_LOSS = "#c0392b"  # losses against the current budget, and only those
_FLAG = "#d68910"  # flagged: influential units, groups outside ±10 %, intervals
_GREY = "#7f8c8d"  # reference lines
_ACCENT = _FLAG

Names = Callable[[str], str] | None


def _term(names: Names, term: str) -> str:
    return names(term) if names is not None else term


class NeedsFigure(Figure):
    """A matplotlib Figure that shows itself as PNG in Jupyter without pyplot."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100)
        return buf.getvalue()


def new_figure(width: float = 7.5, height: float = 4.8) -> NeedsFigure:
    """An empty figure with constrained layout (not registered with pyplot)."""
    return NeedsFigure(figsize=(width, height), layout="constrained")


def _figure(width: float = 7.5, height: float = 4.8) -> tuple[Figure, Axes]:
    fig = new_figure(width, height)
    return fig, fig.add_subplot()


def _numbers(ax: Axes, axis: str, lang: str, decimals: int = 0) -> None:
    fmt = FuncFormatter(lambda v, _pos: fmt_num(v, lang, decimals))
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(MaxNLocator(nbins=5))
    target.set_major_formatter(fmt)


def _name(unit: str, labels: Mapping[str, str] | None) -> str:
    return f"{unit} {labels[unit]}" if labels and unit in labels else unit


def label_units(
    ax: Axes,
    units: Iterable[str],
    x: Iterable[float],
    y: Iterable[float],
    labels: Mapping[str, str] | None = None,
    *,
    offset: int = 4,
) -> None:
    """Write each unit's id (and name, from ``labels``) beside its point."""
    for unit, xv, yv in zip(units, x, y, strict=True):
        ax.annotate(
            _name(unit, labels),
            (xv, yv),
            xytext=(offset, offset),
            textcoords="offset points",
            fontsize=8,
        )


def save(fig: Figure, path: Path | str, dpi: int = 110) -> Path:
    """Write a figure as PNG."""
    p = Path(path)
    fig.savefig(p, format="png", dpi=dpi)
    return p


def _unit_level(results: NeedResults, what: str) -> None:
    if results.level != "unit":
        raise InputError(f"{what} is drawn for unit-level models; this model is fitted on persons")


def residuals_vs_fitted(
    results: NeedResults, *, lang: str = "en", labels: Mapping[str, str] | None = None, top: int = 3
) -> Figure:
    """Residuals against fitted values (model scale), the ``top`` largest labelled."""
    _unit_level(results, "the residual plot")
    fig, ax = _figure()
    x, y = results.fitted.to_numpy(), results.resid.to_numpy()
    ax.scatter(x, y, color=_COLOR, s=28)
    ax.axhline(0.0, color=_GREY, lw=1)
    pick = np.argsort(-np.abs(y))[:top]
    label_units(ax, results.fitted.index.astype(str)[pick], x[pick], y[pick], labels)
    ax.set_xlabel(label("fitted", lang))
    ax.set_ylabel(label("residual", lang))
    ax.set_title(label("plot_residuals", lang))
    _numbers(ax, "x", lang)
    _numbers(ax, "y", lang)
    return fig


def qq_plot(results: NeedResults, *, lang: str = "en") -> Figure:
    """Normal QQ plot of the standardised residuals."""
    _unit_level(results, "the QQ plot")
    fig, ax = _figure(5.5, 5.0)
    r = results.resid.to_numpy()
    if results.weights is not None:
        r = r * np.sqrt(results.weights.to_numpy())
    z = (r - r.mean()) / r.std(ddof=1)
    (osm, osr), (slope, intercept, _) = stats.probplot(z, dist="norm")
    ax.scatter(osm, osr, color=_COLOR, s=22)
    line = np.array([osm.min(), osm.max()])
    ax.plot(line, intercept + slope * line, color=_ACCENT, lw=1)
    ax.set_xlabel(label("theoretical_quantiles", lang))
    ax.set_ylabel(label("sample_quantiles", lang))
    ax.set_title(label("plot_qq", lang))
    _numbers(ax, "x", lang, 1)
    _numbers(ax, "y", lang, 1)
    return fig


def influence_plot(
    results: NeedResults,
    *,
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
    diagnostics: Diagnostics | None = None,
) -> Figure:
    """Leverage against studentised residual, bubble size Cook's distance.

    Units with Cook's distance above 4/n are labelled by name.
    """
    d = diagnostics or diagnose(results)
    if d.influence is None:
        raise InputError("influence is computed for unit-level linear and GLM models")
    inf = d.influence
    fig, ax = _figure()
    size = 30 + 900 * inf["cooks_d"] / max(float(inf["cooks_d"].max()), 1e-12)
    colors = np.where(inf["influential"], _ACCENT, _COLOR)
    ax.scatter(
        inf["leverage"], inf["student_resid"], s=size, c=colors, alpha=0.6, edgecolors="white"
    )
    flagged = inf.loc[inf["influential"]]
    label_units(
        ax, flagged["unit"], flagged["leverage"], flagged["student_resid"], labels, offset=5
    )
    for yv in (-2, 2):
        ax.axhline(yv, color=_GREY, lw=0.8, ls="--")
    ax.set_xlabel(label("leverage", lang))
    ax.set_ylabel(label("student_resid", lang))
    ax.set_title(f"{label('plot_influence', lang)} ({label('cooks_note', lang)})", fontsize=10)
    _numbers(ax, "x", lang, 2)
    _numbers(ax, "y", lang, 1)
    return fig


def coefficient_plot(
    results: NeedResults, *, lang: str = "en", intercept: bool = False, names: Names = None
) -> Figure:
    """Estimates with confidence intervals, one row per term (``names`` labels the terms)."""
    tidy = results.tidy()
    if not intercept:
        tidy = tidy.loc[[t for t in tidy.index if not t.endswith("Intercept")]]
    fig, ax = _figure(7.5, 0.5 + 0.42 * max(len(tidy), 2))
    y = np.arange(len(tidy))[::-1]
    est = tidy["estimate"].to_numpy()
    ax.errorbar(
        est, y, xerr=[est - tidy["ci_low"], tidy["ci_high"] - est], fmt="o", color=_COLOR, capsize=3
    )
    ax.axvline(0.0, color=_GREY, lw=1)
    ax.set_yticks(y, [_term(names, t) for t in tidy.index])
    ax.set_xlabel(label("estimate", lang))
    level = fmt_num(100 * (1 - results.spec.alpha), lang)
    ax.set_title(f"{label('plot_coefficients', lang)} ({level} %)")
    _numbers(ax, "x", lang, 0 if np.abs(est).max() >= 100 else 2)
    return fig


def observed_vs_predicted(
    results: NeedResults, *, lang: str = "en", labels: Mapping[str, str] | None = None, top: int = 4
) -> Figure:
    """Observed cost against estimated need per unit, with the 45° line."""
    fig, ax = _figure(6.5, 5.5)
    x, y = results.need.to_numpy(), results.observed.to_numpy()
    ax.scatter(x, y, color=_COLOR, s=28)
    lim = [0.0, float(max(x.max(), y.max()) * 1.05)]
    ax.plot(lim, lim, color=_GREY, lw=1, label=label("perfect", lang))
    pick = np.argsort(-np.abs(y - x))[:top]
    label_units(ax, results.need.index.astype(str)[pick], x[pick], y[pick], labels)
    ax.set_xlabel(label("predicted_need", lang))
    ax.set_ylabel(label("observed_need", lang))
    ax.set_title(label("plot_observed", lang))
    ax.legend(loc="upper left", fontsize=8)
    _numbers(ax, "x", lang)
    _numbers(ax, "y", lang)
    return fig


#: Per-unit bar charts show every unit up to this many; beyond it the largest and smallest
#: ``EXTREMES`` each, beside the distribution of all units (the full list is in the workbook).
MAX_UNIT_BARS = 40
EXTREMES = 15


def _extremes(frame: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """The rows of a sorted frame to draw as bars: all, or the first and last ``EXTREMES``."""
    if len(frame) <= MAX_UNIT_BARS:
        return frame, False
    return pd.concat([frame.head(EXTREMES), frame.tail(EXTREMES)]), True


def _bars_and_distribution(
    shown: int, total: int, width: float = 10.0
) -> tuple[NeedsFigure, Axes, Axes | None]:
    """A figure with the bars (left) and, when units were left out, their distribution (right)."""
    height = 0.8 + 0.24 * max(shown, 4)
    if shown == total:
        fig = new_figure(7.5, height)
        return fig, fig.add_subplot(), None
    fig = new_figure(width, height)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    return fig, left, right


def _distribution(ax: Axes, values: np.ndarray, what: str, lang: str, decimals: int) -> None:
    """A histogram of every unit's value, with the count in the title."""
    ax.hist(values[np.isfinite(values)], bins=40, color=_COLOR, alpha=0.85)
    ax.set_xlabel(what)
    ax.set_ylabel(label("units_count", lang))
    ax.set_title(label("all_units", lang).format(n=fmt_num(len(values), lang)), fontsize=9)
    _numbers(ax, "x", lang, decimals)


def _gap(ax: Axes, trimmed: bool) -> None:
    """A dashed line between the smallest and the largest bars when units were left out."""
    if trimmed:
        ax.axhline(EXTREMES - 0.5, color=_GREY, lw=0.8, ls=":")


def _trim_title(title: str, trimmed: bool, total: int, lang: str) -> str:
    if not trimmed:
        return title
    extra = label("extremes_note", lang).format(k=EXTREMES, n=fmt_num(total, lang))
    return f"{title}\n{extra}"


def need_index_plot(
    allocation: Allocation, *, lang: str = "en", labels: Mapping[str, str] | None = None
) -> Figure:
    """Need index per unit, sorted, with the average (1) marked.

    Beyond :data:`MAX_UNIT_BARS` units: the lowest and highest
    :data:`EXTREMES` as bars, and the distribution of every unit's index.
    """
    full = allocation.table.sort_values("index")
    t, trimmed = _extremes(full)
    fig, ax, dist = _bars_and_distribution(len(t), len(full))
    names = [_name(u, labels) for u in t["unit"]]
    colors = np.where(t["index"] >= 1, _DARK, _COLOR)
    y = np.arange(len(t))
    ax.barh(y, t["index"], color=colors)
    ax.set_yticks(y, names)
    _gap(ax, trimmed)
    ax.axvline(1.0, color=_GREY, lw=1, ls="--", label=label("average", lang))
    ax.set_xlabel(label("index", lang))
    ax.set_title(_trim_title(label("plot_index", lang), trimmed, len(full), lang))
    ax.tick_params(axis="y", labelsize=8)
    _numbers(ax, "x", lang, 2)
    if dist is not None:
        _distribution(dist, full["index"].to_numpy(dtype=float), label("index", lang), lang, 2)
        dist.axvline(1.0, color=_GREY, lw=1, ls="--")
    return fig


def winners_losers_plot(
    allocation: Allocation, *, lang: str = "en", labels: Mapping[str, str] | None = None
) -> Figure:
    """Change against the current budget per unit: kroner (left) and percent (right).

    Beyond :data:`MAX_UNIT_BARS` units: the largest losses and gains as bars
    (kroner), and the distribution of every unit's change in percent.
    """
    full = allocation.winners_and_losers().iloc[::-1]
    wl, trimmed = _extremes(full)
    names = [_name(u, labels) for u in wl["unit"]]
    colors = np.where(wl["change"] >= 0, _COLOR, _LOSS)
    y = np.arange(len(wl))
    if trimmed:
        fig, ax1, dist = _bars_and_distribution(len(wl), len(full))
        ax1.barh(y, wl["change"], color=colors)
        ax1.set_yticks(y, names)
        _gap(ax1, trimmed)
        axes = [ax1]
        assert dist is not None
        pct = full["change_pct"].to_numpy(dtype=float)
        _distribution(dist, pct, label("change_pct", lang), lang, 1)
        dist.axvline(0.0, color=_GREY, lw=1)
    else:
        fig = new_figure(9.0, 0.8 + 0.24 * max(len(wl), 4))
        ax1, ax2 = fig.subplots(1, 2, sharey=True)
        ax1.barh(y, wl["change"], color=colors)
        ax1.set_yticks(y, names)
        ax2.barh(y, wl["change_pct"], color=colors)
        ax2.set_xlabel(label("change_pct", lang))
        _numbers(ax2, "x", lang, 1)
        axes = [ax1, ax2]
    for ax in axes:
        ax.axvline(0.0, color=_GREY, lw=1)
        ax.tick_params(axis="y", labelsize=8)
    ax1.set_xlabel(label("change", lang))
    _numbers(ax1, "x", lang)
    fig.suptitle(_trim_title(label("plot_winners", lang), trimmed, len(full), lang))
    return fig


def allocation_plot(
    allocation: Allocation,
    *,
    lang: str = "en",
    labels: Mapping[str, str] | None = None,
    uncertainty: KeyUncertainty | None = None,
) -> Figure:
    """Allocation per unit, with its uncertainty interval when given, and the current budget.

    Beyond :data:`MAX_UNIT_BARS` units: the smallest and largest allocations as
    bars, and the distribution of every unit's allocation.
    """
    full = allocation.table.sort_values("allocation")
    t, trimmed = _extremes(full)
    fig, ax, dist = _bars_and_distribution(len(t), len(full))
    if dist is not None:
        amounts = full["allocation"].to_numpy(dtype=float)
        _distribution(dist, amounts, label("allocation", lang), lang, 0)
    names = [_name(u, labels) for u in t["unit"]]
    y = np.arange(len(t))
    ax.barh(y, t["allocation"], color=_COLOR, alpha=0.85, label=label("allocation", lang))
    if t["current"].notna().any():
        ax.scatter(
            t["current"],
            y,
            marker="|",
            s=140,
            color="black",
            label=label("current", lang),
            zorder=3,
        )
    if uncertainty is not None:
        # the interval of the allocation itself, centred on the bar's end
        u = uncertainty.table.set_index("unit").loc[t["unit"]]
        centre = t["allocation"].to_numpy(dtype=float)
        low = np.minimum(u["allocation_low"].to_numpy(dtype=float), centre)
        high = np.maximum(u["allocation_high"].to_numpy(dtype=float), centre)
        ax.errorbar(
            centre,
            y,
            xerr=[centre - low, high - centre],
            fmt="none",
            ecolor=_FLAG,
            capsize=2,
            label=(
                f"{label('allocation', lang)}, {fmt_num(100 * uncertainty.level, lang)} % "
                f"{label('interval', lang)}"
            ),
        )
    ax.set_yticks(y, names)
    _gap(ax, trimmed)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel(label("allocation", lang))
    ax.set_title(_trim_title(label("plot_allocation", lang), trimmed, len(full), lang))
    ax.legend(loc="lower right", fontsize=8)
    _numbers(ax, "x", lang)
    return fig


def criteria_plot(criteria: CriteriaWeights, *, lang: str = "en", names: Names = None) -> Figure:
    """Criteria weights in % of the socioeconomic pool."""
    t = criteria.table.sort_values("weight_pct")
    fig, ax = _figure(7.0, 0.8 + 0.4 * max(len(t), 3))
    ax.barh([_term(names, str(c)) for c in t["criterion"]], t["weight_pct"], color=_COLOR)
    for yv, v in enumerate(t["weight_pct"]):
        ax.annotate(
            fmt_num(v, lang, 1) + " %",
            (v, yv),
            xytext=(3, -3),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_xlabel(label("weight_pct", lang))
    ax.set_title(label("plot_criteria", lang))
    _numbers(ax, "x", lang, 0)
    return fig


def predictive_ratio_plot(
    results: NeedResults, *, lang: str = "en", min_persons: int = 0, names: Names = None
) -> Figure:
    """Predictive ratios (Σ predicted / Σ observed) by group, with 1 marked."""
    pr = results.predictive_ratios
    if pr is None:
        raise InputError("predictive ratios exist for person-level models only")
    pr = pr[(pr["group"] != "all") & (pr["persons"] >= min_persons)]
    ticks = [f"{_term(names, g)} = {lv}" for g, lv in zip(pr["group"], pr["level"], strict=True)]
    fig, ax = _figure(7.5, 0.6 + 0.26 * max(len(pr), 4))
    y = np.arange(len(pr))[::-1]
    ratio = pr["ratio"].to_numpy()
    colors = np.where(np.abs(ratio - 1) > 0.1, _ACCENT, _COLOR)
    ax.scatter(ratio, y, color=colors, s=30)
    ax.axvline(1.0, color=_GREY, lw=1)
    ax.axvspan(0.9, 1.1, color=_GREY, alpha=0.12)
    ax.set_yticks(y, ticks)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel(label("ratio", lang))
    ax.set_title(label("plot_ratios", lang))
    _numbers(ax, "x", lang, 2)
    return fig
