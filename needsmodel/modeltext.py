"""The sentences that say where a run's model comes from, and how a frozen model re-tests.

One place for the report, the console and the workbook: an estimated model is
described by its method and inference; a model applied from given
coefficients by its file and the run that estimated it; fixed criteria as a
formula. A re-test (:class:`~needsmodel.estimate.retest.Retest`) becomes the
sentences a committee can act on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .i18n import fmt_kr, fmt_num, label, say

if TYPE_CHECKING:
    from .allocation import Allocation
    from .estimate.retest import Retest
    from .runresult import RunResult

__all__ = ["bounds_line", "fmt_p", "model_name", "origin_lines", "retest_lines", "verdict_line"]


def fmt_p(p: float, lang: str) -> str:
    """A p-value: three decimals, ``< 0.001`` below that."""
    if not np.isfinite(p):
        return "–"
    return ("< 0,001" if lang == "da" else "< 0.001") if p < 0.001 else fmt_num(p, lang, 3)


def model_name(result: RunResult, lang: str) -> str:
    """The model in a word or two: the method, or "Given coefficients" / "Fixed criteria"."""
    origin = result.results.origin
    if origin == "estimated":
        return result.results.method.upper()
    return label(f"origin_{origin}", lang)


def _exposure(result: RunResult, lang: str) -> str:
    spec = result.results.spec
    if spec.exposure:
        return result.display(spec.exposure, lang).lower()
    return "enhed" if lang == "da" else "unit"


def origin_lines(result: RunResult, lang: str) -> list[str]:
    """Where the coefficients of an applied model come from (empty for an estimated one)."""
    res = result.results
    spec = res.spec
    indicators = ", ".join(result.display(c, lang) for c in spec.indicators)
    if res.origin == "formula":
        return [
            say("model_formula", lang, source=res.extras.get("given", ""), indicators=indicators)
        ]
    if res.origin != "given":
        return []
    per = ""
    if spec.exposure and spec.per_capita and not spec.is_person_level:
        per = say("per", lang, exposure=_exposure(result, lang))
    src = res.extras.get("given_from") or {}
    lines = [
        say(
            "model_given",
            lang,
            file=src.get("file", Path(str(res.extras.get("given", ""))).name),
            method=res.method.upper(),
            per=per,
            indicators=indicators,
        )
    ]
    sha = str(src.get("sha256", ""))[:12]
    if "estimated_config" in src:
        lines.append(
            say(
                "model_given_from",
                lang,
                config=src["estimated_config"],
                date=str(src.get("estimated_created", ""))[:10],
                version=src.get("estimated_version", "?"),
                sha=sha,
            )
        )
    elif sha:
        lines.append(say("model_given_file", lang, sha=sha))
    if not res.has_costs:
        lines.append(say("no_costs", lang))
    return lines


def verdict_line(result: RunResult, check: Retest, lang: str) -> str:
    """The one sentence a committee acts on: keep the model or re-estimate it."""
    p = fmt_p(check.p_value, lang)
    exposure = _exposure(result, lang)
    if check.changed and not check.beats_split:
        return say("retest_both", lang, p=p, exposure=exposure)
    if check.changed:
        return say("retest_changed", lang, p=p)
    if not check.beats_split:
        return say("retest_split", lang, exposure=exposure)
    return say("retest_keep", lang, p=p, exposure=exposure)


def retest_lines(result: RunResult, lang: str) -> list[str]:
    """The re-test in sentences: the verdict first, then the errors, the test, what moved."""
    check = result.retest
    if check is None:
        return []
    moved = [result.display(t, lang) for t in check.moved]
    return [
        verdict_line(result, check, lang),
        say(
            "retest_errors",
            lang,
            frozen=fmt_kr(check.frozen_rmse, lang),
            unscaled=fmt_kr(check.frozen_rmse_unscaled, lang),
            refit=fmt_kr(check.refit_cv_rmse, lang),
            split=fmt_kr(check.split_rmse, lang),
            exposure=_exposure(result, lang),
        ),
        say(
            "retest_wald",
            lang,
            df=check.df,
            wald=fmt_num(check.wald, lang, 2),
            p=fmt_p(check.p_value, lang),
            basis=say(f"basis_{check.cov_basis}", lang),
        ),
        say("retest_moved", lang, terms=", ".join(moved)) if moved else say("retest_still", lang),
        say("retest_allocation", lang),
    ]


def bounds_line(allocation: Allocation, lang: str) -> str | None:
    """The basis of floors and caps under a price index: fixed prices of the budget year (and
    the factor that lifts the current budget), or the nominal budget; None without both."""
    pol = allocation.policy
    bounded = pol.max_loss_pct is not None or pol.max_gain_pct is not None
    labels = pol.year_labels
    if not bounded or allocation.prices is None or not labels or not labels[0].isdigit():
        return None
    if pol.current_price_factor != 1.0:
        factor = fmt_num(pol.current_price_factor, lang, 4)
        return say("bounds_fixed", lang, year=labels[0], factor=factor)
    return say("bounds_nominal", lang, year=labels[0])
