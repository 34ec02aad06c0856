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
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from matplotlib.figure import Figure

from . import plots
from .diagnostics import diagnose
from .i18n import fmt_kr, fmt_num, fmt_pct, label

if TYPE_CHECKING:
    from .pipeline import RunResult

__all__ = ["render_report", "write_report", "REPORT_SECTIONS"]

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


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _table(
    frame: pd.DataFrame, columns: Sequence[tuple[str, Fmt, bool]], lang: str
) -> dict[str, Any]:
    """Headers (translated) and formatted cells of ``columns`` = (name, formatter, numeric)."""
    headers = [label(c, lang) for c, _, _ in columns]
    rows = [
        [{"text": f(row[c]), "num": num} for c, f, num in columns] for _, row in frame.iterrows()
    ]
    return {"headers": headers, "rows": rows}


class _Formats:
    def __init__(self, lang: str) -> None:
        self.lang = lang

    def kr(self, v: Any) -> str:
        return fmt_kr(float(v), self.lang) if pd.notna(v) else "–"

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
        return ("ja" if self.lang == "da" else "yes") if bool(v) else ""


def _pool_rules(policy: Any, lang: str) -> list[str]:
    da = lang == "da"
    none = "ingen" if da else "none"
    base = (
        f"{fmt_kr(policy.base_per_unit, lang)} {'pr. enhed' if da else 'per unit'}"
        if policy.base_per_unit
        else none
    )
    if policy.per_capita_amount is not None:
        pc = f"{fmt_kr(policy.per_capita_amount, lang, 2)} {'pr. person' if da else 'per person'}"
    elif policy.per_capita_pct:
        pc = f"{fmt_pct(policy.per_capita_pct, lang)} {'af rammen efter antal' if da else 'of the budget by exposure'}"
    else:
        pc = none
    needs = "efter beregnet udgiftsbehov" if da else "by estimated need"
    return [base, pc, needs]


def _named(unit: str, labels: dict[str, str]) -> str:
    return f"{unit} {labels[unit]}" if unit in labels else unit


def render_report(
    result: RunResult, lang: str | None = None, when: _dt.datetime | None = None
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
    """
    from .export import metadata_frame

    lang = lang or result.config.output.lang
    f = _Formats(lang)
    res, alloc, cfg = result.results, result.allocation, result.config
    spec = res.spec
    labels = result.labels
    t = {
        k: label(k, lang)
        for k in (
            "title",
            "sec_summary",
            "sec_model",
            "sec_coefficients",
            "sec_fit",
            "sec_diagnostics",
            "sec_allocation",
            "sec_winners",
            "sec_transition",
            "sec_criteria",
            "sec_uncertainty",
            "sec_person",
            "sec_reproduce",
            "plot_coefficients",
            "plot_observed",
            "plot_ratios",
            "plot_index",
            "plot_allocation",
            "plot_winners",
            "plot_criteria",
        )
    }
    da = lang == "da"
    diag = diagnose(res, labels)
    img: dict[str, str] = {
        "coefficients": _png(plots.coefficient_plot(res, lang=lang)),
        "observed": _png(plots.observed_vs_predicted(res, lang=lang, labels=labels)),
        "index": _png(plots.need_index_plot(alloc, lang=lang, labels=labels)),
        "allocation": _png(
            plots.allocation_plot(alloc, lang=lang, labels=labels, uncertainty=result.uncertainty)
        ),
    }
    diag_images = []
    if diag.influence is not None:
        img["residuals"] = _png(plots.residuals_vs_fitted(res, lang=lang, labels=labels))
        img["qq"] = _png(plots.qq_plot(res, lang=lang))
        img["influence"] = _png(
            plots.influence_plot(res, lang=lang, labels=labels, diagnostics=diag)
        )
        diag_images = ["residuals", "qq", "influence"]
    if res.predictive_ratios is not None:
        img["ratios"] = _png(plots.predictive_ratio_plot(res, lang=lang))
    has_current = alloc.table["current"].notna().any()
    if has_current:
        img["winners"] = _png(plots.winners_losers_plot(alloc, lang=lang, labels=labels))
    if result.criteria is not None:
        img["criteria"] = _png(plots.criteria_plot(result.criteria, lang=lang))

    # ---- summary
    fs = res.fit_stats
    table = alloc.table
    kpis = [
        {"label": "Ramme" if da else "Budget", "value": fmt_kr(alloc.budget, lang)},
        {"label": "Enheder" if da else "Units", "value": fmt_num(len(table), lang)},
        {"label": "Metode" if da else "Method", "value": res.method.upper()},
        {
            "label": "R² (udgiftsbehov)" if da else "R² (need)",
            "value": fmt_num(fs["r2_need"], lang, 3),
        },
    ]
    summary: list[str] = []
    if has_current:
        up = table.loc[table["change"].idxmax()]
        down = table.loc[table["change"].idxmin()]
        gains = int((table["change"] > 0).sum())
        summary.append(
            (
                f"{gains} enheder får mere og {len(table) - gains} mindre end i dag. "
                if da
                else f"{gains} units get more and {len(table) - gains} less than today. "
            )
            + (
                f"Største stigning: {_named(up['unit'], labels)} {fmt_kr(up['change'], lang)} ({fmt_pct(up['change_pct'], lang)}); "
                f"største fald: {_named(down['unit'], labels)} {fmt_kr(down['change'], lang)} ({fmt_pct(down['change_pct'], lang)})."
                if da
                else f"Largest gain: {_named(up['unit'], labels)} {fmt_kr(up['change'], lang)} ({fmt_pct(up['change_pct'], lang)}); "
                f"largest loss: {_named(down['unit'], labels)} {fmt_kr(down['change'], lang)} ({fmt_pct(down['change_pct'], lang)})."
            )
        )
    summary.append(
        (
            f"Beløbene summerer præcist til rammen, {fmt_kr(table['allocation'].sum(), lang)}, og er afrundet til hele {fmt_kr(alloc.round_to, lang)}"
            if da
            else f"The amounts sum exactly to the budget, {fmt_kr(table['allocation'].sum(), lang)}, and are rounded to whole {fmt_kr(alloc.round_to, lang)}"
        )
    )
    warnings_n = sum(1 for x in diag.findings if x.severity == "warning")
    summary.append(
        (
            f"Diagnostikken har {warnings_n} advarsel(er); se afsnittet Diagnostik."
            if da
            else f"The diagnostics raise {warnings_n} warning(s); see Diagnostics."
        )
    )

    # ---- model and data
    inds = ", ".join(spec.indicators)
    model_lines = [
        (
            f"Udgiftsbehov estimeres med {res.method.upper()} af {spec.target}"
            if da
            else f"Need is estimated by {res.method.upper()} of {spec.target}"
        )
        + (
            f" pr. {spec.exposure}"
            if spec.exposure and spec.per_capita and not spec.is_person_level and da
            else ""
        )
        + (
            f" per {spec.exposure}"
            if spec.exposure and spec.per_capita and not spec.is_person_level and not da
            else ""
        )
        + (f" på {inds}." if da else f" on {inds}."),
        (
            f"Standardfejl: {spec.resolved_cov}; krydsvalidering: {res.cv.scheme if res.cv else '–'}."
            if da
            else f"Standard errors: {spec.resolved_cov}; cross-validation: {res.cv.scheme if res.cv else '–'}."
        ),
    ]
    if spec.is_person_level:
        model_lines.append(
            f"Modellen er estimeret på {fmt_num(res.person_stats['persons'], lang)} personer; hver persons forventede udgift summeres til enheden."
            if da and res.person_stats
            else f"The model is fitted on {fmt_num(res.person_stats['persons'], lang)} persons; each person's expected cost is summed to the unit."
            if res.person_stats
            else ""
        )
    if result.years is not None:
        model_lines.append(
            (
                f"Data for årene {', '.join(result.years.years)} er samlet med årseffekter."
                if da
                else f"Data for the years {', '.join(result.years.years)} are pooled with year effects."
            )
        )
    data = res.data
    cols = [
        c
        for c in [spec.target, spec.exposure, *spec.indicators]
        if c and c in data.columns and pd.api.types.is_numeric_dtype(data[c])
    ]
    desc = pd.DataFrame(
        {
            "indicator": cols,
            "mean": [data[c].mean() for c in cols],
            "min": [data[c].min() for c in cols],
            "max": [data[c].max() for c in cols],
        }
    )
    mean_l, min_l, max_l = ("Gennemsnit", "Mindst", "Størst") if da else ("Mean", "Min", "Max")
    data_table = _table(
        desc,
        [
            ("indicator", f.text, False),
            ("mean", f.sig, True),
            ("min", f.sig, True),
            ("max", f.sig, True),
        ],
        lang,
    )
    data_table["headers"][1:] = [mean_l, min_l, max_l]

    # ---- coefficients
    tidy = res.tidy().reset_index()
    coef_table = _table(
        tidy,
        [
            ("term", f.text, False),
            ("estimate", f.sig, True),
            ("std_error", f.sig, True),
            ("t", f.num(2), True),
            ("p_value", f.sig, True),
            ("ci_low", f.sig, True),
            ("ci_high", f.sig, True),
        ],
        lang,
    )
    dist = "normal" if res.df_inference is None else f"t({fmt_num(res.df_inference, lang)})"
    level = fmt_num(100 * (1 - spec.alpha), lang)
    coef_note = (
        f"{level} % konfidensintervaller; p-værdier fra {dist}-fordelingen."
        if da
        else f"{level}% confidence intervals; p-values from the {dist} distribution."
    )

    # ---- fit
    fit_rows = pd.DataFrame(
        [(lab, v) for _, lab, v in res.headline_stats(lang)]
        + ([("AIC", fs["aic"])] if "aic" in fs else []),
        columns=["statistic", "value"],
    )
    fit_table = _table(fit_rows, [("statistic", f.text, False), ("value", f.sig, True)], lang)
    person_table = ratio_table = None
    if res.person_stats is not None:
        ps = pd.DataFrame(
            [(label(k, lang), v) for k, v in res.person_stats.items()],
            columns=["statistic", "value"],
        )
        person_table = _table(ps, [("statistic", f.text, False), ("value", f.sig, True)], lang)
        pr = res.predictive_ratios
        assert pr is not None
        ratio_table = _table(
            pr,
            [
                ("group", f.text, False),
                ("level", f.text, False),
                ("persons", f.num(0), True),
                ("observed", f.kr, True),
                ("predicted", f.kr, True),
                ("ratio", f.num(3), True),
            ],
            lang,
        )

    # ---- allocation
    pools = alloc.pools.assign(
        pool=[label(f"pool_{p}", lang) for p in alloc.pools["pool"]],
        rule=_pool_rules(alloc.policy, lang),
    )
    pools_table = _table(
        pools,
        [
            ("pool", f.text, False),
            ("amount", f.kr, True),
            ("share_pct", f.pct, True),
            ("rule", f.text, False),
        ],
        lang,
    )
    shown = table.assign(unit=[_named(u, labels) for u in table["unit"]])
    alloc_cols: list[tuple[str, Fmt, bool]] = [("unit", f.text, False)]
    if shown["exposure"].notna().any():
        alloc_cols.append(("exposure", f.num(0), True))
    alloc_cols += [
        ("need", f.kr, True),
        ("index", f.num(3), True),
        ("share", f.share, True),
        ("target", f.kr, True),
        ("allocation", f.kr, True),
    ]
    if has_current:
        alloc_cols += [("current", f.kr, True), ("change", f.kr, True), ("change_pct", f.pct, True)]
    alloc_table = _table(shown, alloc_cols, lang)
    winners_table = None
    if has_current:
        wl = alloc.winners_and_losers()
        wl = wl.assign(unit=[_named(u, labels) for u in wl["unit"]])
        winners_table = _table(
            wl,
            [
                ("unit", f.text, False),
                ("current", f.kr, True),
                ("target", f.kr, True),
                ("allocation", f.kr, True),
                ("change", f.kr, True),
                ("change_pct", f.pct, True),
                ("transition", f.kr, True),
            ],
            lang,
        )

    # ---- transition
    pol = alloc.policy
    transition_lines: list[str] = []
    if not pol.has_transition:
        transition_lines.append(
            "Ingen overgangsordning: hver enhed får sit mål."
            if da
            else "No transition rules: every unit receives its target."
        )
    else:
        if pol.max_loss_pct is not None:
            transition_lines.append(
                f"Maksimalt tab: {fmt_pct(pol.max_loss_pct, lang)} om året."
                if da
                else f"Maximum loss: {fmt_pct(pol.max_loss_pct, lang)} a year."
            )
        if pol.max_gain_pct is not None:
            transition_lines.append(
                f"Maksimal gevinst: {fmt_pct(pol.max_gain_pct, lang)} om året."
                if da
                else f"Maximum gain: {fmt_pct(pol.max_gain_pct, lang)} a year."
            )
        if pol.equalisation_pct < 100:
            transition_lines.append(
                f"Udligningsgrad: {fmt_pct(pol.equalisation_pct, lang)} af vejen mod målet."
                if da
                else f"Equalisation rate: {fmt_pct(pol.equalisation_pct, lang)} of the way to the target."
            )
        if pol.phase_in_years > 1:
            transition_lines.append(
                f"Indfasning over {pol.phase_in_years} år."
                if da
                else f"Phase-in over {pol.phase_in_years} years."
            )
        held = table.loc[table["transition"].abs() >= alloc.round_to]
        moved = float(held["transition"].abs().sum()) / 2
        transition_lines.append(
            f"{len(held)} enheder holdes væk fra deres mål; {fmt_kr(moved, lang)} flyttes af overgangsordningen."
            if da
            else f"{len(held)} units are held away from their target; {fmt_kr(moved, lang)} is moved by the transition rules."
        )
    path_table = None
    if alloc.path is not None:
        path = alloc.path.reset_index()
        path["unit"] = [_named(u, labels) for u in path["unit"]]
        year_cols = [c for c in path.columns if c != "unit"]
        path_table = _table(
            path, [("unit", f.text, False), *[(c, f.kr, True) for c in year_cols]], lang
        )
        path_table["headers"][1:] = [
            (f"År {i + 1}" if da else f"Year {i + 1}") for i in range(len(year_cols))
        ]

    # ---- criteria
    criteria_table = None
    if result.criteria is not None:
        criteria_table = _table(
            result.criteria.table,
            [
                ("criterion", f.text, False),
                ("count", f.num(0), True),
                ("unit_amount", f.kr, True),
                ("amount", f.kr, True),
                ("weight_pct", f.pct, True),
            ],
            lang,
        )

    # ---- uncertainty
    uncertainty_table = None
    ku = result.uncertainty
    if ku is None:
        uncertainty_text = (
            'Usikkerheden er ikke beregnet; tilføj [uncertainty] method = "bootstrap" i konfigurationen.'
            if da
            else 'Uncertainty was not computed; add [uncertainty] method = "bootstrap" to the config.'
        )
    else:
        lvl = fmt_num(100 * ku.level, lang)
        uncertainty_text = (
            f"{lvl} %-intervaller fra {ku.replicates} {'bootstrap-replikationer' if ku.method == 'bootstrap' else 'parametriske træk'}. "
            f"{len(ku.flagged)} enheder har et interval for andelen bredere end {fmt_pct(ku.flag_width_pct, lang)} af andelen."
            if da
            else f"{lvl}% intervals from {ku.replicates} {'bootstrap replicates' if ku.method == 'bootstrap' else 'parametric draws'}. "
            f"{len(ku.flagged)} units have a share interval wider than {fmt_pct(ku.flag_width_pct, lang)} of the share."
        )
        ut = ku.table.assign(unit=[_named(u, labels) for u in ku.table["unit"]])
        uncertainty_table = _table(
            ut,
            [
                ("unit", f.text, False),
                ("share", f.share, True),
                ("share_low", f.share, True),
                ("share_high", f.share, True),
                ("width_pct", f.pct, True),
                ("target_low", f.kr, True),
                ("target_high", f.kr, True),
                ("allocation_low", f.kr, True),
                ("allocation_high", f.kr, True),
                ("flagged", f.yes, False),
            ],
            lang,
        )

    # ---- reproducibility
    meta = metadata_frame(result, when=when)
    meta = meta.loc[~meta["item"].str.startswith("config line")]
    meta_table = _table(meta, [("item", f.text, False), ("value", f.text, False)], lang)

    env = Environment(
        loader=PackageLoader("needsmodel", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("report.html.j2")
    subtitle = (
        (cfg.path.name if cfg.path else "")
        + " · "
        + ((when or _dt.datetime.now(_dt.timezone.utc)).date().isoformat())
    )
    return template.render(
        lang=lang,
        t=t,
        subtitle=subtitle,
        kpis=kpis,
        summary=summary,
        model_lines=[x for x in model_lines if x],
        data_table=data_table,
        coef_table=coef_table,
        coef_note=coef_note,
        fit_table=fit_table,
        person_table=person_table,
        ratio_table=ratio_table,
        findings=[{"severity": x.severity, "text": x.text(lang)} for x in diag.findings],
        diag_images=diag_images,
        pools_table=pools_table,
        alloc_table=alloc_table,
        winners_table=winners_table,
        transition_lines=transition_lines,
        path_table=path_table,
        criteria_table=criteria_table,
        uncertainty_text=uncertainty_text,
        uncertainty_table=uncertainty_table,
        meta_table=meta_table,
        config_text=cfg.text,
        img=img,
    )


def write_report(result: RunResult, path: Path | str, lang: str | None = None) -> Path:
    """Render the report and write it to ``path`` (UTF-8)."""
    p = Path(path)
    p.write_text(render_report(result, lang), encoding="utf-8")
    return p
