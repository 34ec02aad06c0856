"""Plausibility guards: say loudly when a need model is weak or perverse.

A model must earn its place in an allocation. :func:`check_model` reads a fitted
model (and its criteria weights) and returns the findings a finance committee
must hear, in Danish and English, before it signs:

- criteria with a **negative weight** (units with more of the indicator get
  less money), or a sign **against the one declared** in the data dictionary
  (``expected_sign``);
- **no indicator individually significant**, with the joint test's p-value;
- whether the model **beats a plain per-exposure split out of sample**: the
  cross-validated error of the need in kroner against that of the same split
  with no indicators (an intercept-only model, cross-validated the same way);
- an R² of need below 0 (worse than every unit getting the average);
- **fewer units than ten per parameter**;
- **influenceable** indicators.

``needsmodel validate`` and ``run``, the console summary and the report's
summary show them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .dictionary import DataDictionary
from .estimate.cv import baseline_cv_rmse
from .estimate.results import NeedResults
from .i18n import Reading, fmt_kr, fmt_num

__all__ = ["UNITS_PER_PARAMETER", "Guard", "baseline_cv_rmse", "check_model"]

#: Rule of thumb: at least this many units per estimated parameter.
UNITS_PER_PARAMETER = 10


@dataclass(frozen=True)
class Guard(Reading):
    """One finding about a model's plausibility.

    Attributes
    ----------
    code : str
        ``negative_weight``, ``sign``, ``not_significant``, ``baseline``,
        ``at_zero``, ``r2_need``, ``few_units``, ``influenceable``.
    severity : str
        ``"warning"`` or ``"ok"`` (said, but no reason for alarm).
    en, da : str
        The reading in English and Danish.
    terms : list of str
        The terms or criteria concerned.
    """

    terms: list[str] = field(default_factory=list)


def check_model(
    results: NeedResults,
    *,
    criteria_table: pd.DataFrame | None = None,
    dictionary: DataDictionary | None = None,
    influenceable: Sequence[str] = (),
    names: dict[str, tuple[str, str]] | None = None,
) -> list[Guard]:
    """The plausibility findings of a fitted model, warnings first.

    Parameters
    ----------
    results : NeedResults
        The fitted model.
    criteria_table : DataFrame, optional
        :attr:`CriteriaWeights.table` (``criterion, weight_pct``).
    dictionary : DataDictionary, optional
        For ``expected_sign`` and labels.
    influenceable : sequence of str
        Indicators flagged as influenceable.
    names : dict, optional
        Term → (English, Danish) display name.
    """

    def name(term: str, lang: str) -> str:
        if names and term in names:
            return names[term][0 if lang == "en" else 1]
        if dictionary is not None:
            return dictionary.label(term, lang)
        return term

    def listing(terms: list[str], lang: str) -> str:
        return ", ".join(name(t, lang) for t in terms)

    out: list[Guard] = []
    slopes = [t for t in results.params.index if t != "Intercept"]
    tidy = results.tidy()
    # negative criteria weights
    if criteria_table is not None:
        table = criteria_table  # a DataFrame with criterion, weight_pct
        neg = [
            str(c) for c, w in zip(table["criterion"], table["weight_pct"], strict=True) if w < 0
        ]
        if neg:
            out.append(
                Guard(
                    "negative_weight",
                    "warning",
                    f"Negative criterion weight for {listing(neg, 'en')}: units with more of it "
                    "get less money. A committee will read this as a penalty; check the data, or "
                    "drop the criterion.",
                    f"Negativ kriterievægt for {listing(neg, 'da')}: enheder med mere af den får "
                    "færre penge. Et udvalg vil læse det som en straf; undersøg data, eller udelad "
                    "kriteriet.",
                    neg,
                )
            )
    # signs against the dictionary
    if dictionary is not None:
        against = []
        for t in slopes:
            base = t.split("[", 1)[0]
            sign = dictionary.expected_sign(base)
            if sign and np.sign(results.params[t]) == -sign:
                against.append(t)
        if against:
            out.append(
                Guard(
                    "sign",
                    "warning",
                    f"The sign of {listing(against, 'en')} is against the one declared in the data "
                    "dictionary (expected_sign).",
                    f"Fortegnet for {listing(against, 'da')} er modsat det, datakataloget angiver "
                    "(expected_sign).",
                    against,
                )
            )
    # significance, individually and jointly: only for a model estimated here (given
    # coefficients and fixed criteria were not estimated on these data)
    estimated = results.origin == "estimated"
    if slopes and estimated:
        alpha = results.spec.alpha
        p = tidy.loc[slopes, "p_value"].to_numpy(dtype=float)
        try:
            _, _, joint = results.wald_test(dict.fromkeys(slopes, 0.0))
        except (np.linalg.LinAlgError, KeyError):
            joint = float("nan")
        p_en = "< 0.001" if joint < 0.001 else f"= {fmt_num(joint, 'en', 3)}"
        p_da = "< 0,001" if joint < 0.001 else f"= {fmt_num(joint, 'da', 3)}"
        joint_en = f"the joint test that all are zero has p {p_en}"
        joint_da = f"den samlede test af, at alle er nul, har p {p_da}"
        if np.all(p >= alpha):
            out.append(
                Guard(
                    "not_significant",
                    "warning",
                    f"No indicator is individually significant at the {alpha:.0%} level "
                    f"(p from {fmt_num(p.min(), 'en', 2)} to {fmt_num(p.max(), 'en', 2)}); "
                    f"{joint_en}. The key rests on the indicators' joint pattern, not on any one "
                    "of them.",
                    f"Ingen indikator er signifikant for sig på {alpha:.0%}-niveau "
                    f"(p fra {fmt_num(p.min(), 'da', 2)} til {fmt_num(p.max(), 'da', 2)}); "
                    f"{joint_da}. Nøglen hviler på indikatorernes samlede mønster, ikke på én af "
                    "dem.".replace("%-niveau", " %-niveau"),
                    slopes,
                )
            )
        else:
            sig = [s for s, pv in zip(slopes, p, strict=True) if pv < alpha]
            out.append(
                Guard(
                    "not_significant",
                    "ok",
                    f"{len(sig)} of {len(slopes)} indicators are significant at the {alpha:.0%} "
                    f"level; {joint_en}.",
                    f"{len(sig)} af {len(slopes)} indikatorer er signifikante på "
                    f"{alpha:.0%}-niveau; {joint_da}.".replace("%-niveau", " %-niveau"),
                    sig,
                )
            )
    # beats a per-exposure split out of sample?
    base = baseline_cv_rmse(results)
    cv = results.fit_stats.get("cv_rmse")
    if base is not None and cv is not None and np.isfinite(cv):
        split_en = "per-unit-of-exposure split" if results.spec.exposure else "equal split"
        split_da = "fordeling pr. elev/borger" if results.spec.exposure else "ligelig fordeling"
        if cv >= base:
            out.append(
                Guard(
                    "baseline",
                    "warning",
                    f"The model does not beat a plain {split_en} out of sample: its "
                    f"cross-validated error is {fmt_kr(cv, 'en')} per unit against "
                    f"{fmt_kr(base, 'en')}.",
                    f"Modellen slår ikke en simpel {split_da} uden for stikprøven: dens "
                    f"krydsvaliderede fejl er {fmt_kr(cv, 'da')} pr. enhed mod "
                    f"{fmt_kr(base, 'da')}.",
                )
            )
        else:
            out.append(
                Guard(
                    "baseline",
                    "ok",
                    f"The model beats a plain {split_en} out of sample: its cross-validated error "
                    f"is {fmt_kr(cv, 'en')} per unit against {fmt_kr(base, 'en')} "
                    f"({100 * (1 - cv / base):.0f}% lower).",
                    f"Modellen slår en simpel {split_da} uden for stikprøven: dens "
                    f"krydsvaliderede fejl er {fmt_kr(cv, 'da')} pr. enhed mod "
                    f"{fmt_kr(base, 'da')} ({fmt_num(100 * (1 - cv / base), 'da')} % lavere).",
                )
            )
    at_zero = list(results.fit_stats.get("at_zero") or [])
    if at_zero:
        out.append(
            Guard(
                "at_zero",
                "ok",
                f"The non-negativity constraint holds {listing(at_zero, 'en')} at zero: without "
                "it the estimate would be negative, so the criterion carries no money.",
                f"Kravet om ikke-negative kriterier holder {listing(at_zero, 'da')} på nul: uden "
                "det ville estimatet være negativt, så kriteriet fordeler ingen penge.",
                at_zero,
            )
        )
    r2 = results.fit_stats.get("r2_need")
    if r2 is not None and np.isfinite(r2) and r2 < 0:
        out.append(
            Guard(
                "r2_need",
                "warning",
                f"R² of need is {fmt_num(r2, 'en', 3)}: the estimated need fits the observed cost "
                "worse than giving every unit the average.",
                f"R² for udgiftsbehov er {fmt_num(r2, 'da', 3)}: det beregnede behov passer "
                "dårligere til den observerede udgift end at give alle enheder gennemsnittet.",
            )
        )
    k = len(results.params)
    if estimated and results.level == "unit" and results.nobs < UNITS_PER_PARAMETER * k:
        out.append(
            Guard(
                "few_units",
                "warning",
                f"{results.nobs} units for {k} parameters: fewer than {UNITS_PER_PARAMETER} per "
                "parameter, so the coefficients are imprecise; see the uncertainty of the keys.",
                f"{results.nobs} enheder til {k} parametre: færre end {UNITS_PER_PARAMETER} pr. "
                "parameter, så koefficienterne er usikre; se usikkerheden på nøglerne.",
            )
        )
    flagged = [t for t in results.spec.indicators if t in set(influenceable)]
    if flagged:
        out.append(
            Guard(
                "influenceable",
                "warning",
                f"{listing(flagged, 'en')} can be influenced by the units themselves; as criteria "
                "they reward behaviour, not need.",
                f"{listing(flagged, 'da')} kan påvirkes af enhederne selv; som kriterier belønner "
                "de adfærd, ikke behov.",
                flagged,
            )
        )
    order = {"warning": 0, "ok": 1}
    return sorted(out, key=lambda g: order.get(g.severity, 2))
