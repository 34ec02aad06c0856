"""One self-contained HTML report per run, in Danish or English.

:func:`render_report` fills a Jinja2 template (``templates/report.html.j2``)
with the run's model, fit, diagnostics, allocation, winners and losers,
transition, criteria weights, uncertainty and a reproducibility block. Plots
are embedded as base64 PNG, styles are inline: the file refers to no external
URL or file and can be mailed to a finance committee as it is.
"""

from __future__ import annotations

import base64
import datetime as _dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from matplotlib.figure import Figure

from .estimate.methods import methods_where
from .figures import draw_figures, render_png, run_diagnostics
from .i18n import currency, fmt_kr, fmt_num, fmt_pct, label, meta_label, plural, pool_rules, say
from .modeltext import bounds_line, model_name, origin_lines, retest_lines, verdict_line
from .provenance import metadata_frame

if TYPE_CHECKING:
    from .runresult import RunResult

__all__ = ["REPORT_SECTIONS", "render_report", "write_report"]

#: The ``id`` of every section the report always has, in order.
REPORT_SECTIONS = (
    "summary",
    "model",
    "coefficients",
    "fit",
    "diagnostics",
    "allocation",
    "transition",
    "uncertainty",
    "reproduce",
)

Fmt = Callable[[Any], str]


def _png(fig: Figure | bytes) -> str:
    """A data URI of a figure, or of PNG bytes already rendered."""
    data = fig if isinstance(fig, bytes) else render_png(fig)
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


#: Per-unit tables of the report show every unit up to this many rows; beyond it the
#: ``TABLE_EXTREMES`` highest and lowest, and say that every unit is in the workbook and CSV.
MAX_TABLE_ROWS = 60
TABLE_EXTREMES = 25


def _table(
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, Fmt, bool]],
    lang: str,
    *,
    total: Sequence[str] = (),
    flag: Sequence[bool] | None = None,
    extremes_by: str | None = None,
    source: str = "",
) -> dict[str, Any]:
    """Headers (translated) and formatted cells of ``columns`` = (name, formatter, numeric).

    ``total`` names the columns summed in a last "I alt" row (over every row);
    ``flag`` marks rows to highlight (flagged units). With ``extremes_by``, a
    table of more than :data:`MAX_TABLE_ROWS` rows shows the
    :data:`TABLE_EXTREMES` rows with the highest and the lowest value of that
    column, and a note says where every row is (``source``).
    """
    headers = [label(c, lang) for c, _, _ in columns]
    marks = list(flag) if flag is not None else [False] * len(frame)
    shown = frame.assign(_mark=marks)
    note = ""
    if extremes_by is not None and len(frame) > MAX_TABLE_ROWS:
        ordered = shown.sort_values(extremes_by, ascending=False, kind="stable")
        shown = pd.concat([ordered.head(TABLE_EXTREMES), ordered.tail(TABLE_EXTREMES)])
        note = say(
            "table_extremes",
            lang,
            k=TABLE_EXTREMES,
            n=fmt_num(len(frame), lang),
            column=label(extremes_by, lang),
            source=source,
        )
    rows = [
        {
            "cls": "flag" if row["_mark"] else "",
            "cells": [{"text": f(row[c]), "num": num} for c, f, num in columns],
        }
        for _, row in shown.iterrows()
    ]
    if note:  # a visible break between the highest and the lowest
        rows.insert(
            TABLE_EXTREMES,
            {"cls": "gap", "cells": [{"text": "…", "num": False} for _ in columns]},
        )
    foot = None
    if total:
        foot = [
            {
                "text": (say("total", lang) if i == 0 else f(frame[c].sum()) if c in total else ""),
                "num": num,
            }
            for i, (c, f, num) in enumerate(columns)
        ]
    return {"headers": headers, "rows": rows, "total": foot, "note": note}


def _shows_zero(text: str) -> bool:
    """Whether a formatted number shows zero (no digit but 0), whatever its sign."""
    return not any(ch in "123456789" for ch in text)


class _Formats:
    def __init__(self, lang: str) -> None:
        self.lang = lang

    def kr(self, v: Any) -> str:
        """Kroner without the unit: the column header says "(kr.)"."""
        return fmt_num(float(v), self.lang, 0) if pd.notna(v) else "–"

    def signed_kr(self, v: Any) -> str:
        """A change in kroner with its sign: "+12.000", "-3.000"."""
        if not pd.notna(v):
            return "–"
        text = fmt_num(float(v), self.lang, 0)
        if _shows_zero(text):  # a change that rounds to nothing has no sign
            return text.lstrip("+-−")
        return "+" + text if float(v) > 0 and not text.startswith("+") else text

    def signed_pct(self, v: Any) -> str:
        if not pd.notna(v):
            return "–"
        text = fmt_pct(float(v), self.lang)
        if _shows_zero(text):  # "0,0 %", never "-0,0 %"
            return text.lstrip("+-−")
        return "+" + text if float(v) > 0 else text

    def num(self, digits: int) -> Fmt:
        return lambda v: fmt_num(float(v), self.lang, digits) if pd.notna(v) else "–"

    def pct(self, v: Any) -> str:
        return fmt_pct(float(v), self.lang) if pd.notna(v) else "–"

    def share(self, v: Any) -> str:
        return fmt_pct(float(v), self.lang, 2, fraction=True) if pd.notna(v) else "–"

    def text(self, v: Any) -> str:
        return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)

    def sig(self, v: Any) -> str:
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            return "–"
        if isinstance(v, str):
            return v
        x = float(v)
        if abs(x) >= 1000:
            return fmt_num(x, self.lang, 0)
        if abs(x) >= 10:  # one decimal, so "15,5" is never read as fifteen thousand
            return fmt_num(x, self.lang, 1)
        if abs(x) >= 1 or x == 0:
            return fmt_num(x, self.lang, 3)
        if abs(x) < 1e-4:
            text = f"{x:.2e}"
            return text.replace(".", ",") if self.lang == "da" else text
        return fmt_num(x, self.lang, 4)

    def yes(self, v: Any) -> str:
        return say("yes", self.lang) if bool(v) else ""


def _named(unit: str, labels: dict[str, str]) -> str:
    return f"{unit} {labels[unit]}" if unit in labels else unit


_SECTION_KEYS = (
    "title", "sec_summary", "sec_model", "sec_coefficients", "sec_fit", "sec_diagnostics",
    "sec_allocation", "sec_winners", "sec_transition", "sec_criteria", "sec_uncertainty",
    "sec_person", "sec_reproduce", "sec_retest", "plot_coefficients", "plot_observed",
    "plot_ratios", "plot_index", "plot_allocation", "plot_winners", "plot_criteria",
)  # fmt: skip

_UNIT_METHODS = methods_where(unit_diagnostics=True)


def _images(
    result: RunResult,
    lang: str,
    diag: Any,
    figures: Mapping[str, Figure | bytes] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """The figures as embedded PNGs (drawn now unless ``figures`` or their PNGs are given)."""
    figs = figures if figures is not None else draw_figures(result, lang, diag)
    img = {key: _png(fig) for key, fig in figs.items()}
    diag_images: list[str] = [k for k in ("residuals", "qq", "influence") if k in img]
    return img, diag_images


def _summary(result: RunResult, lang: str, diag: Any) -> tuple[list[dict[str, str]], list[str]]:
    res, alloc, labels = result.results, result.allocation, result.labels
    table = alloc.table
    kpis = [
        {"label": say("kpi_budget", lang), "value": fmt_kr(alloc.budget, lang)},
        {"label": say("kpi_units", lang), "value": fmt_num(len(table), lang)},
        {"label": label("kpi_model", lang), "value": model_name(result, lang)},
    ]
    if "r2_need" in res.fit_stats:  # only a statistic that was computed
        key = "kpi_r2" if res.origin == "estimated" else "kpi_r2_frozen"
        kpis.append(
            {"label": label(key, lang), "value": fmt_num(res.fit_stats["r2_need"], lang, 3)}
        )
    lines: list[str] = []
    if result.retest is not None:
        kpis.append(
            {
                "label": label("kpi_verdict", lang),
                "value": label(f"verdict_{result.retest.verdict}", lang),
            }
        )
        lines.append(verdict_line(result, result.retest, lang))
    lines += [("⚠ " if g.severity == "warning" else "") + g.text(lang) for g in result.guards]
    lines += _composition_lines(result, lang)
    if table["current"].notna().any():
        up = table.iloc[int(np.argmax(table["change"].to_numpy()))]
        down = table.iloc[int(np.argmin(table["change"].to_numpy()))]
        gains = int((table["change"] > 0).sum())
        lines.append(say("gains", lang, gains=gains, losses=len(table) - gains))
        lines.append(
            say(
                "extremes",
                lang,
                up=_named(up["unit"], labels),
                up_kr=("+" if up["change"] > 0 else "") + fmt_kr(up["change"], lang),
                up_pct=("+" if up["change_pct"] > 0 else "") + fmt_pct(up["change_pct"], lang),
                down=_named(down["unit"], labels),
                down_kr=fmt_kr(down["change"], lang),
                down_pct=fmt_pct(down["change_pct"], lang),
            )
        )
    lines.append(
        say(
            "exact",
            lang,
            total=fmt_kr(table["allocation"].sum(), lang),
            unit=fmt_kr(alloc.round_to, lang),
        )
    )
    n_warn = sum(1 for x in diag.findings if x.severity == "warning")
    lines.append(say("warnings", lang, n=plural(n_warn, "warning", lang)))
    return kpis, lines


def _model_lines(result: RunResult, lang: str) -> list[str]:
    res = result.results
    spec = res.spec
    target = result.display(spec.target, lang)
    if spec.exposure and spec.per_capita and not spec.is_person_level:
        target += say("per", lang, exposure=result.display(spec.exposure, lang).lower())
    lines = origin_lines(result, lang) or [
        say("model", lang, method=res.method.upper(), target=target,
            indicators=", ".join(result.display(c, lang) for c in spec.indicators)),
        say("inference", lang, cov=spec.resolved_cov, cv=res.cv.scheme if res.cv else "–"),
    ]  # fmt: skip
    if res.person_stats is not None:
        key = "persons" if res.origin == "estimated" else "persons_applied"
        lines.append(say(key, lang, n=fmt_num(res.person_stats["persons"], lang)))
    if result.years is not None:
        lines.append(say("years", lang, years=", ".join(result.years.years)))
    return lines


def _transition_lines(alloc: Any, lang: str) -> list[str]:
    pol = alloc.policy
    if not pol.has_transition:
        return [say("no_transition", lang)]
    basis = bounds_line(alloc, lang)
    lines = [basis] if basis else []
    if pol.max_loss_pct is not None:
        lines.append(say("max_loss", lang, pct=fmt_pct(pol.max_loss_pct, lang)))
    if pol.max_gain_pct is not None:
        lines.append(say("max_gain", lang, pct=fmt_pct(pol.max_gain_pct, lang)))
    if pol.equalisation_pct < 100:
        lines.append(say("equalisation", lang, pct=fmt_pct(pol.equalisation_pct, lang)))
    if pol.phase_in_years > 1:
        lines.append(say("phase_in", lang, years=pol.phase_in_years))
    table = alloc.table
    held = table.loc[table["transition"].abs() >= alloc.round_to]
    moved = float(held["transition"].abs().sum()) / 2
    lines.append(say("held", lang, n=len(held), kr=fmt_kr(moved, lang)))
    tr = alloc.transition
    if tr is None or tr.rule != "pace" or not tr.steps:
        return lines
    lines.append(say("pace_rule", lang))
    step = tr.steps[0]
    if step.fallback:
        away = table.loc[table["reason"] == "budget shortfall", "unit"].tolist()
        lines.append(say("shortfall", lang, n=len(away), units=", ".join(away)))
        return lines
    floors = table.loc[table["reason"] == "floor"]
    if len(floors):
        cost = float((floors["allocation"] - floors["target"]).sum())
        lines.append(say("floors_held", lang, n=len(floors), kr=fmt_kr(cost, lang)))
    caps = table.loc[table["reason"] == "cap"]
    if len(caps):
        freed = float((caps["target"] - caps["allocation"]).sum())
        lines.append(say("caps_held", lang, n=len(caps), kr=fmt_kr(freed, lang)))
    d = table["target"] - table["current_adjusted"]
    if (d > 0).any():
        lines.append(say("pace_gain", lang, pct=fmt_pct(100 * step.gain_fraction, lang)))
    if (d < 0).any():
        lines.append(say("pace_loss", lang, pct=fmt_pct(100 * step.loss_fraction, lang)))
    return lines


def _composition_lines(result: RunResult, lang: str) -> list[str]:
    """What the budget is allocated by, in one sentence."""
    alloc, res = result.allocation, result.results
    comp = alloc.composition
    if comp is None:
        return []
    part = comp.set_index("part").astype({"amount": float, "share_pct": float})
    amount: dict[str, float] = {str(k): float(v) for k, v in part["amount"].items()}
    pct: dict[str, float] = {str(k): float(v) for k, v in part["share_pct"].items()}
    spec = res.spec
    exposure = result.display(spec.exposure, lang).lower() if spec.exposure else say("none", lang)
    if "socioeconomic" in part.index:
        crit = result.criteria
        rate = crit.per_exposure_rate if crit is not None else float("nan")
        return [
            say(
                "composition_additive",
                lang,
                budget=fmt_kr(alloc.budget, lang),
                socio=fmt_kr(amount["socioeconomic"], lang),
                socio_pct=fmt_pct(pct["socioeconomic"], lang),
                per=fmt_kr(amount["per_exposure"], lang),
                per_pct=fmt_pct(pct["per_exposure"], lang),
                rate=fmt_kr(rate, lang) if np.isfinite(rate) else "–",
                base=fmt_kr(amount["base"], lang),
                base_pct=fmt_pct(pct["base"], lang),
                exposure=exposure,
            )
        ]
    if "redistributed" in part.index:
        return [
            say(
                "composition_other",
                lang,
                needs=fmt_kr(amount["need"], lang),
                method=res.method.upper(),
                exposure=exposure,
                moved=fmt_kr(amount["redistributed"], lang),
                moved_pct=fmt_pct(pct["redistributed"], lang),
            )
        ]
    return []


def _data_section(result: RunResult, lang: str, f: _Formats) -> dict[str, Any]:
    """The data section: the indicators' means and ranges."""
    spec = result.results.spec
    data = result.results.data
    cols = [
        c
        for c in [spec.target, spec.exposure, *spec.indicators]
        if c and c in data.columns and pd.api.types.is_numeric_dtype(data[c])
    ]
    desc = pd.DataFrame(
        {
            "indicator": [result.display(c, lang) for c in cols],
            "mean": [data[c].mean() for c in cols],
            "min": [data[c].min() for c in cols],
            "max": [data[c].max() for c in cols],
        }
    )
    data_table = _table(
        desc,
        [("indicator", f.text, False), ("mean", f.sig, True), ("min", f.sig, True),
         ("max", f.sig, True)],
        lang,
    )  # fmt: skip
    data_table["headers"][1:] = [say(k, lang) for k in ("mean", "min", "max")]
    for row, c in zip(data_table["rows"], cols, strict=True):
        # counts as whole numbers, shares as percentages (the dictionary's unit)
        values = data[c].dropna().to_numpy(dtype=float)
        unit = result.dictionary.unit(c) if result.dictionary is not None else ""
        if unit == "share":
            fmt: Fmt = f.share
        elif len(values) and np.all(values == np.round(values)):
            fmt = f.num(0)
        else:
            continue
        stats = [data[c].mean(), data[c].min(), data[c].max()]
        for cell, v in zip(row["cells"][1:], stats, strict=True):
            cell["text"] = fmt(v)

    return {"data_table": data_table}


def _model_section(result: RunResult, lang: str, f: _Formats) -> dict[str, Any]:
    """The model sections: coefficients, fit, persons and predictive ratios."""
    res, spec = result.results, result.results.spec
    tidy = res.tidy().reset_index()
    tidy["term"] = [result.display(t, lang) for t in tidy["term"]]
    coef_table = _table(
        tidy,
        [("term", f.text, False), ("estimate", f.sig, True), ("std_error", f.sig, True),
         ("t", f.num(2), True), ("p_value", f.sig, True), ("ci_low", f.sig, True),
         ("ci_high", f.sig, True)],
        lang,
    )  # fmt: skip
    dist = "normal" if res.df_inference is None else f"t({fmt_num(res.df_inference, lang)})"
    coef_note = say("coef_note", lang, level=fmt_num(100 * (1 - spec.alpha), lang), dist=dist)
    if res.origin == "given":
        source = (res.extras.get("given_from") or {}).get("file", "")
        coef_note = say("coef_note_given", lang, file=source)

    fs = res.fit_stats
    fit_rows = pd.DataFrame(
        [(lab, v) for _, lab, v in res.headline_stats(lang)]
        + ([("AIC", fs["aic"])] if "aic" in fs else []),
        columns=["statistic", "value"],
    )
    fit_table = (
        _table(fit_rows, [("statistic", f.text, False), ("value", f.sig, True)], lang)
        if len(fit_rows)
        else None
    )
    retest_table = None
    if result.retest is not None:
        terms = result.retest.terms.reset_index()
        terms["term"] = [result.display(t, lang) for t in terms["term"]]
        retest_table = _table(
            terms,
            [("term", f.text, False), ("frozen", f.sig, True), ("refit", f.sig, True),
             ("difference", f.sig, True), ("z", f.num(2), True)],
            lang,
        )  # fmt: skip
    person_table = ratio_table = None
    if res.person_stats is not None and res.predictive_ratios is not None:
        ps = pd.DataFrame(
            [(label(k, lang), v) for k, v in res.person_stats.items()],
            columns=["statistic", "value"],
        )
        person_table = _table(ps, [("statistic", f.text, False), ("value", f.sig, True)], lang)
        ratio_table = _table(
            res.predictive_ratios,
            [("group", f.text, False), ("level", f.text, False), ("persons", f.num(0), True),
             ("observed", f.kr, True), ("predicted", f.kr, True), ("ratio", f.num(3), True)],
            lang,
        )  # fmt: skip

    return {
        "coef_table": coef_table,
        "coef_note": coef_note,
        "fit_table": fit_table,
        "fit_note": "" if res.has_costs else say("no_costs", lang),
        "retest_lines": retest_lines(result, lang),
        "retest_table": retest_table,
        "person_table": person_table,
        "ratio_table": ratio_table,
    }


def _allocation_section(result: RunResult, lang: str, f: _Formats) -> dict[str, Any]:
    """The allocation sections: pools, keys, winners and losers, transition, criteria."""
    alloc, labels = result.allocation, result.labels
    table = alloc.table
    has_current = bool(table["current"].notna().any())
    pools = alloc.pools.assign(
        pool=[label(f"pool_{p}", lang) for p in alloc.pools["pool"]],
        rule=pool_rules(alloc.policy, lang),
    )
    pools_table = _table(
        pools,
        [("pool", f.text, False), ("amount", f.kr, True), ("share_pct", f.pct, True),
         ("rule", f.text, False)],
        lang,
    )  # fmt: skip
    composition_table = None
    if alloc.composition is not None:
        comp = alloc.composition.assign(
            part=[label(f"part_{p}", lang) for p in alloc.composition["part"]]
        )
        composition_table = _table(
            comp,
            [("part", f.text, False), ("amount", f.kr, True), ("share_pct", f.pct, True)],
            lang,
        )
    shown = table.assign(unit=[_named(u, labels) for u in table["unit"]])
    alloc_cols: list[tuple[str, Fmt, bool]] = [("unit", f.text, False)]
    if shown["exposure"].notna().any():
        alloc_cols.append(("exposure", f.num(0), True))
    alloc_cols += [("need", f.kr, True), ("index", f.num(3), True)]
    if "index_reference" in shown.columns:
        alloc_cols.append(("index_reference", f.num(3), True))
    alloc_cols += [("share", f.share, True), ("target", f.kr, True),
                   ("allocation", f.kr, True)]  # fmt: skip
    if has_current:
        alloc_cols += [("current", f.kr, True), ("change", f.signed_kr, True),
                       ("change_pct", f.signed_pct, True)]  # fmt: skip
    alloc_table = _table(
        shown,
        alloc_cols,
        lang,
        total=("exposure", "need", "share", "target", "allocation", "current", "change"),
        extremes_by="index",
        source="allocation_keys.csv",
    )
    winners_table = None
    if has_current:
        wl = alloc.winners_and_losers()
        wl = wl.assign(
            unit=[_named(u, labels) for u in wl["unit"]],
            reason=[label(f"reason_{r}", lang) if r else "" for r in wl["reason"]],
        )
        winners_table = _table(
            wl,
            [("unit", f.text, False), ("current", f.kr, True),
             ("current_adjusted", f.kr, True), ("target", f.kr, True),
             ("allocation", f.kr, True), ("change", f.signed_kr, True),
             ("change_pct", f.signed_pct, True), ("change_adjusted", f.signed_kr, True),
             ("transition", f.signed_kr, True), ("reason", f.text, False)],
            lang,
            total=("current", "current_adjusted", "target", "allocation", "change",
                   "change_adjusted", "transition"),
            flag=[r in ("floor", "cap") for r in alloc.winners_and_losers()["reason"]],
            extremes_by="change", source="winners_losers.csv",
        )  # fmt: skip

    path_table = None
    if alloc.path is not None:
        path = alloc.path.reset_index()
        path["unit"] = [_named(u, labels) for u in path["unit"]]
        year_cols = [c for c in path.columns if c != "unit"]
        path_table = _table(
            path,
            [("unit", f.text, False), *[(c, f.kr, True) for c in year_cols]],
            lang,
            extremes_by=year_cols[-1],
            source="transition_path.csv",
        )
        path_table["headers"][1:] = [
            c if str(c).isdigit() else say("year_n", lang, n=i + 1) for i, c in enumerate(year_cols)
        ]

    criteria_table = None
    if result.criteria is not None:
        crit = result.criteria.table.assign(
            criterion=[result.display(c, lang) for c in result.criteria.table["criterion"]]
        )
        crit_cols: list[tuple[str, Fmt, bool]] = [
            ("criterion", f.text, False), ("count", f.num(0), True),
            ("unit_amount", f.kr, True), ("amount", f.kr, True), ("weight_pct", f.pct, True),
        ]  # fmt: skip
        if "estimated_weight_pct" in crit.columns:
            crit_cols.append(("estimated_weight_pct", f.pct, True))
        criteria_table = _table(crit, crit_cols, lang)

    return {
        "pools_table": pools_table,
        "composition_table": composition_table,
        "alloc_table": alloc_table,
        "winners_table": winners_table,
        "path_table": path_table,
        "criteria_table": criteria_table,
    }


def _uncertainty_section(result: RunResult, lang: str, f: _Formats) -> dict[str, Any]:
    """The key intervals section."""
    alloc, labels = result.allocation, result.labels
    uncertainty_table = None
    ku = result.uncertainty
    if ku is None:
        uncertainty_text = say("no_uncertainty", lang)
    else:
        uncertainty_text = say(
            "uncertainty",
            lang,
            level=fmt_num(100 * ku.level, lang),
            n=ku.replicates,
            draws=say(f"{ku.method}_draws", lang),
            flagged=len(ku.flagged),
            width=fmt_pct(ku.flag_width_pct, lang),
        )
        step = float(alloc.round_to)
        ut = ku.table.assign(
            unit=[_named(u, labels) for u in ku.table["unit"]],
            allocation_low=(ku.table["allocation_low"] / step).round() * step,
            allocation_high=(ku.table["allocation_high"] / step).round() * step,
            target_low=(ku.table["target_low"] / step).round() * step,
            target_high=(ku.table["target_high"] / step).round() * step,
        )
        uncertainty_table = _table(
            ut,
            [("unit", f.text, False), ("share", f.share, True), ("share_low", f.share, True),
             ("share_high", f.share, True), ("width_pct", f.pct, True),
             ("target_low", f.kr, True), ("target_high", f.kr, True),
             ("allocation_low", f.kr, True), ("allocation_high", f.kr, True),
             ("flagged", f.yes, False)],
            lang,
            flag=ku.table["flagged"].tolist(),
            extremes_by="width_pct", source="key_uncertainty.csv",
        )  # fmt: skip

    return {"uncertainty_text": uncertainty_text, "uncertainty_table": uncertainty_table}


def _reproduce_section(
    result: RunResult, lang: str, f: _Formats, when: _dt.datetime | None
) -> dict[str, Any]:
    """The reproducibility block: metadata and the config (passwords hidden)."""
    meta = metadata_frame(result, when=when)
    meta = meta.loc[~meta["item"].str.startswith("config line")]
    meta = meta.assign(item=[meta_label(str(v), lang) for v in meta["item"]])
    meta_table = _table(meta, [("item", f.text, False), ("value", f.text, False)], lang)
    return {"meta_table": meta_table, "config_text": result.config.redacted_text}


def render_report(
    result: RunResult,
    lang: str | None = None,
    when: _dt.datetime | None = None,
    *,
    figures: Mapping[str, Figure | bytes] | None = None,
    diagnostics: Any | None = None,
) -> str:
    """The report of a run as one HTML document, amounts in the config's currency.

    See :func:`_render_report` for the parameters.
    """
    with currency(result.config.output.currency):
        return _render_report(result, lang, when, figures=figures, diagnostics=diagnostics)


def _render_report(
    result: RunResult,
    lang: str | None = None,
    when: _dt.datetime | None = None,
    *,
    figures: Mapping[str, Figure | bytes] | None = None,
    diagnostics: Any | None = None,
) -> str:
    """The report of a run as one HTML document.

    Parameters
    ----------
    result : RunResult
        A finished run.
    lang : {"da", "en"}, optional
        Language (default: the config's ``[output] lang``).
    when : datetime, optional
        Time stamp shown in the reproducibility block (default: now, UTC).
    figures, diagnostics : optional
        Figures (:func:`~needsmodel.figures.draw_figures`, in ``lang``), or
        their PNG bytes (:func:`~needsmodel.figures.render_png`), and
        diagnostics already computed for the run, so nothing is drawn twice.
    """
    lang = lang or result.config.output.lang
    f = _Formats(lang)
    alloc, cfg = result.allocation, result.config
    diag = diagnostics if diagnostics is not None else run_diagnostics(result)
    img, diag_images = _images(result, lang, diag, figures)
    kpis, summary = _summary(result, lang, diag)
    env = Environment(
        loader=PackageLoader("needsmodel", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    stamp = (when or _dt.datetime.now(_dt.UTC)).date().isoformat()
    title, heading = cfg.output.heading(lang, alloc.policy.year_labels)
    config_name = cfg.path.name if cfg.path else ""
    subtitle = " · ".join(p for p in (heading, config_name, stamp) if p)
    sections = [
        ("summary", "sec_summary"), ("model", "sec_model"), ("coefficients", "sec_coefficients"),
        ("fit", "sec_fit"), ("diagnostics", "sec_diagnostics"), ("allocation", "sec_allocation"),
        ("winners", "sec_winners"), ("transition", "sec_transition"),
        ("criteria", "sec_criteria"), ("uncertainty", "sec_uncertainty"),
        ("reproduce", "sec_reproduce"),
    ]  # fmt: skip
    if result.retest is not None:
        sections.insert(4, ("retest", "sec_retest"))
    allocation = _allocation_section(result, lang, f)
    present = {
        "winners": allocation["winners_table"] is not None,
        "criteria": allocation["criteria_table"] is not None,
    }
    toc = [(sid, label(key, lang)) for sid, key in sections if present.get(sid, True)]
    return env.get_template("report.html.j2").render(
        lang=lang,
        toc=toc,
        toc_title=say("toc", lang),
        t={k: label(k, lang) for k in _SECTION_KEYS} | ({"title": title} if title else {}),
        subtitle=subtitle,
        kpis=kpis,
        summary=summary,
        model_lines=_model_lines(result, lang),
        **_data_section(result, lang, f),
        **_model_section(result, lang, f),
        findings=[{"severity": x.severity, "text": x.text(lang)} for x in diag.findings],
        diag_images=diag_images,
        **allocation,
        composition_lines=_composition_lines(result, lang),
        transition_lines=_transition_lines(alloc, lang),
        **_uncertainty_section(result, lang, f),
        **_reproduce_section(result, lang, f, when),
        img=img,
    )


def write_report(
    result: RunResult,
    path: Path | str,
    lang: str | None = None,
    *,
    figures: Mapping[str, Figure | bytes] | None = None,
    diagnostics: Any | None = None,
) -> Path:
    """Render the report and write it to ``path`` (UTF-8)."""
    p = Path(path)
    p.write_text(
        render_report(result, lang, figures=figures, diagnostics=diagnostics), encoding="utf-8"
    )
    return p
