"""The summary ``needsmodel run`` prints, in the config's language."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .i18n import currency, fmt_kr, fmt_num, fmt_pct, label, plural
from .modeltext import origin_lines, retest_lines

if TYPE_CHECKING:
    from .runresult import RunResult

__all__ = ["summary_lines", "summary_rows"]

#: key → (English, Danish)
_TEXT: dict[str, tuple[str, str]] = {
    "model": ("Model", "Model"),
    "units": ("Units", "Enheder"),
    "persons": ("Persons", "Personer"),
    "years": ("Years", "År"),
    "budget": ("Budget", "Ramme"),
    "pools": ("Pools", "Puljer"),
    "allocated": ("Allocated", "Fordelt"),
    "transition": ("Transition", "Overgang"),
    "criteria": ("Criteria", "Kriterier"),
    "uncertainty": ("Uncertainty", "Usikkerhed"),
    "gain": ("Largest gain", "Største stigning"),
    "loss": ("Largest loss", "Største fald"),
    "of": ("of", "af"),
    "per": ("per", "pr."),
    "on": ("on", "på"),
    "person_level": ("person level, summed to units", "personniveau, summeret til enheder"),
    "se": ("standard errors", "standardfejl"),
    "in": ("in", "i"),
    "rounded": ("rounded to", "afrundet til"),
    "sum": ("sum", "sum"),
    "pooled": ("pooled with year effects", "samlet med årseffekter"),
    "max_loss": ("max loss", "maks. tab"),
    "max_gain": ("max gain", "maks. gevinst"),
    "equalisation": ("equalisation", "udligning"),
    "phase_in": ("phase-in over", "indfasning over"),
    "held": ("held away from their target", "holdt væk fra deres mål"),
    "intervals": ("intervals", "intervaller"),
    "wider": ("wider than", "bredere end"),
    "wrote": ("Wrote", "Skrev"),
    "to": ("to", "til"),
    "report": ("Report", "Rapport"),
    "r2_person": ("R² per person", "R² pr. person"),
    "warning": ("Warning", "Advarsel"),
    "check": ("Check", "Kontrol"),
    "retest": ("Re-test", "Gentest"),
}


def _t(key: str, lang: str) -> str:
    en, da = _TEXT[key]
    return da if lang == "da" else en


def summary_lines(
    result: RunResult, files: list[Path] | None, lang: str | None = None
) -> list[str]:
    """The console summary of a run, one string per line, in ``lang`` (default: the config's)."""
    rows = summary_rows(result, files, lang)
    width = max((len(k) for k, _ in rows if k), default=0) + 2
    return [f"{k:<{width}}{v}" if k else v for k, v in rows]


def summary_rows(
    result: RunResult, files: list[Path] | None, lang: str | None = None
) -> list[tuple[str, str]]:
    """The console summary as (label, text) rows, amounts in the config's currency.

    See :func:`_summary_rows`.
    """
    with currency(result.config.output.currency):
        return _summary_rows(result, files, lang)


def _summary_rows(
    result: RunResult, files: list[Path] | None, lang: str | None = None
) -> list[tuple[str, str]]:
    """The console summary as (label, text) rows; rows without a label are whole lines."""
    lang = lang or result.config.output.lang
    res, alloc = result.results, result.allocation
    spec = res.spec
    name = result.display

    def row(key: str, text: str) -> tuple[str, str]:
        return (_t(key, lang), text)

    per = (
        f" {_t('per', lang)} {name(spec.exposure).lower()}"
        if spec.exposure and spec.per_capita and not spec.is_person_level
        else ""
    )
    level = f" ({_t('person_level', lang)})" if spec.is_person_level else ""
    applied = origin_lines(result, lang)
    if applied:  # given coefficients or fixed criteria: where they come from, no estimation
        lines: list[tuple[str, str]] = [row("model", applied[0])]
        lines += [("", f"  {line}") for line in applied[1:]]
    else:
        lines = [
            row(
                "model",
                f"{res.method.upper()} {_t('of', lang)} {name(spec.target)}{per} "
                f"{_t('on', lang)} {', '.join(name(i) for i in spec.indicators)}{level}; "
                f"{spec.resolved_cov} {_t('se', lang)}",
            )
        ]
    stats = "    ".join(
        f"{text} {fmt_num(v, lang, 3 if abs(v) < 10 else 0)}"
        for _, text, v in res.headline_stats(lang)
    )
    lines.append(row("units", f"{res.nobs}    {stats}".rstrip()))
    for i, line in enumerate(retest_lines(result, lang)):
        lines.append(row("retest", line) if i == 0 else ("", f"  {line}"))
    if res.person_stats is not None:
        ps = res.person_stats
        text = fmt_num(ps["persons"], lang)
        if "r2_person" in ps:
            text += f"    {_t('r2_person', lang)} {fmt_num(ps['r2_person'], lang, 3)}"
        if "auc" in ps:
            text += f"    AUC {fmt_num(ps['auc'], lang, 3)}"
        lines.append(row("persons", text))
    if result.years is not None:
        lines.append(row("years", f"{', '.join(result.years.years)} ({_t('pooled', lang)})"))
    lines.append(
        row(
            "budget",
            f"{fmt_kr(alloc.budget, lang)} {_t('in', lang)} "
            f"{plural(len(alloc.table), 'unit', lang)}"
            f" ({_t('rounded', lang)} {fmt_kr(alloc.round_to, lang)}; {_t('sum', lang)} "
            f"{fmt_kr(float(alloc.table['allocation'].sum()), lang)})",
        )
    )
    pol = alloc.policy
    if pol.has_pools:
        pools = ", ".join(
            f"{label(f'pool_{p}', lang)} {fmt_kr(float(a), lang)}"
            for p, a in zip(alloc.pools["pool"], alloc.pools["amount"], strict=True)
            if a
        )
        lines.append(row("pools", pools))
    if alloc.composition is not None:
        parts = ", ".join(
            f"{label(f'part_{p}', lang)} {fmt_kr(float(v), lang)} ({fmt_pct(float(s), lang)})"
            for p, v, s in zip(
                alloc.composition["part"],
                alloc.composition["amount"],
                alloc.composition["share_pct"],
                strict=True,
            )
        )
        lines.append(row("allocated", parts))
    t = alloc.table
    if pol.has_transition:
        rules = []
        if pol.max_loss_pct is not None:
            rules.append(f"{_t('max_loss', lang)} {fmt_pct(pol.max_loss_pct, lang)}")
        if pol.max_gain_pct is not None:
            rules.append(f"{_t('max_gain', lang)} {fmt_pct(pol.max_gain_pct, lang)}")
        if pol.equalisation_pct < 100:
            rules.append(f"{_t('equalisation', lang)} {fmt_pct(pol.equalisation_pct, lang)}")
        if pol.phase_in_years > 1:
            rules.append(f"{_t('phase_in', lang)} {plural(pol.phase_in_years, 'year', lang)}")
        moved = int((t["transition"].abs() >= alloc.round_to).sum())
        lines.append(
            row(
                "transition",
                f"{', '.join(rules)}: {plural(moved, 'unit', lang)} {_t('held', lang)}",
            )
        )
    for guard in result.guards:
        lines.append(row("warning" if guard.severity == "warning" else "check", guard.text(lang)))
    if result.criteria is not None:
        top = result.criteria.table.sort_values("weight_pct", ascending=False)
        weights = ", ".join(
            f"{name(str(c))} {fmt_pct(float(w), lang)}"
            for c, w in zip(top["criterion"], top["weight_pct"], strict=True)
        )
        lines.append(row("criteria", weights))
    if result.uncertainty is not None:
        ku = result.uncertainty
        flagged = ku.flagged
        lines.append(
            row(
                "uncertainty",
                f"{ku.method}, {plural(ku.replicates, 'draw', lang)}, "
                f"{fmt_pct(ku.level, lang, 0, fraction=True)} {_t('intervals', lang)}; "
                f"{plural(len(flagged), 'unit', lang)} {_t('wider', lang)} "
                f"{fmt_pct(ku.flag_width_pct, lang)}"
                + (f": {', '.join(flagged)}" if flagged else ""),
            )
        )
    if t["change"].notna().any():
        for key, pick in (("gain", t.nlargest(1, "change")), ("loss", t.nsmallest(1, "change"))):
            r = pick.iloc[0]
            # "largest gain" only when someone gains, "largest loss" only when someone loses
            if (key == "gain" and not r["change"] > 0) or (key == "loss" and not r["change"] < 0):
                continue
            sign = "+" if r["change"] > 0 else ""
            lines.append(
                row(
                    key,
                    f"{r['unit']}: {sign}{fmt_kr(float(r['change']), lang)} "
                    f"({sign}{fmt_pct(float(r['change_pct']), lang)})",
                )
            )
    if files:
        folder = Path(result.config.output.dir)
        wrote = f"{_t('wrote', lang)} {plural(len(files), 'file', lang)} {_t('to', lang)} {folder}:"
        lines.append(("", wrote))
        for f in files:
            lines.append(("", f"  {f.relative_to(folder) if f.is_relative_to(folder) else f}"))
        report = folder / "report.html"
        if report in files:
            lines.append(("", f"{_t('report', lang)}: {report}"))
    return lines
