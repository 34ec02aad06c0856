"""Labels and number formats in Danish and English.

Every label a person reads (report headings, plot axes, Excel headers) comes
from :data:`LABELS` through :func:`label`; numbers are formatted by Babel with
the language's conventions: Danish ``1.234.567 kr.`` and ``12,3 %``, English
``1,234,567 kr`` and ``12.3%``. CSV column names stay English for machines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from babel.numbers import format_decimal

__all__ = [
    "LABELS",
    "LANGS",
    "SENTENCES",
    "Lang",
    "Reading",
    "currency",
    "fmt_int",
    "fmt_kr",
    "fmt_num",
    "fmt_pct",
    "label",
    "meta_label",
    "money",
    "plural",
    "pool_rules",
    "say",
]

Lang = Literal["da", "en"]
LANGS: tuple[str, ...] = ("da", "en")
_LOCALE = {"da": "da_DK", "en": "en_GB"}


@dataclass(frozen=True)
class Reading:
    """A finding said in both languages (base of diagnostics' and guards' findings).

    Attributes
    ----------
    code : str
        What was checked.
    severity : str
        ``"ok"``, ``"note"`` or ``"warning"``.
    en, da : str
        The reading in English and Danish.
    """

    code: str
    severity: str
    en: str
    da: str

    def text(self, lang: str = "en") -> str:
        """The reading in ``lang``."""
        return self.da if lang == "da" else self.en


#: key → (English, Danish)
LABELS: dict[str, tuple[str, str]] = {
    # columns of the keys table and the Excel headers
    "unit": ("Unit", "Enhed"),
    "unit_name": ("Name", "Navn"),
    "index_reference": ("Need index, reference = 1", "Behovsindeks, reference = 1"),
    "estimated_weight_pct": ("Estimated weight (%)", "Estimeret vægt (%)"),
    "Intercept": ("Intercept", "Konstantled"),
    "kr_per_exposure": ("kr per pupil/citizen", "kr. pr. elev/borger"),
    "socioeconomic_amount": ("Socioeconomic amount (kr)", "Socioøkonomisk beløb (kr.)"),
    "current_fixed": ("Current budget, fixed prices (kr)", "Nuværende budget, faste priser (kr.)"),
    "change_fixed": ("Change, fixed prices (kr)", "Ændring, faste priser (kr.)"),
    "change_fixed_pct": ("Change, fixed prices (%)", "Ændring, faste priser (%)"),
    "year": ("Year", "År"),
    "frame": ("Frame (kr)", "Ramme (kr.)"),
    "price_index": ("Price index", "Pris- og lønindeks"),
    "amount_current_prices": ("Amount, current prices (kr)", "Beløb, løbende priser (kr.)"),
    "sheet_budget": ("budget per unit", "budget pr. enhed"),
    "exposure": ("Exposure", "Antal"),
    "need": ("Need (kr)", "Udgiftsbehov (kr.)"),
    "index": ("Need index", "Behovsindeks"),
    "share": ("Share", "Andel"),
    "allocation": ("Allocation (kr)", "Tildeling (kr.)"),
    "current": ("Current budget (kr)", "Nuværende budget (kr.)"),
    "change": ("Change (kr)", "Ændring (kr.)"),
    "change_pct": ("Change (%)", "Ændring (%)"),
    "target": ("Target before transition (kr)", "Mål før overgangsordning (kr.)"),
    "base_amount": ("Base amount (kr)", "Grundbeløb (kr.)"),
    "per_capita_amount": ("Per-capita amount (kr)", "Beløb pr. person (kr.)"),
    "needs_amount": ("Needs amount (kr)", "Behovsbestemt beløb (kr.)"),
    "transition": ("Transition adjustment (kr)", "Overgangsregulering (kr.)"),
    "current_adjusted": (
        "Current budget, frame-adjusted (kr)",
        "Nuværende budget, rammekorrigeret (kr.)",
    ),
    "change_adjusted": ("Change, frame-adjusted (kr)", "Ændring, rammekorrigeret (kr.)"),
    "reason": ("Held by", "Holdt af"),
    "reason_floor": ("floor", "maksimalt tab"),
    "reason_cap": ("cap", "maksimal gevinst"),
    "reason_pace of change": ("pace of change", "tempo mod målet"),
    "reason_phase-in": ("phase-in", "indfasning"),
    "reason_equalisation": ("equalisation", "udligningsgrad"),
    "reason_budget shortfall": ("budget shortfall", "rammemangel"),
    "part": ("Allocated by", "Fordelt efter"),
    "part_base": ("Base amounts per unit", "Grundbeløb pr. enhed"),
    "part_per_exposure": ("Per exposure (pupils, citizens)", "Pr. elev/borger"),
    "part_socioeconomic": ("Socioeconomic criteria", "Socioøkonomiske kriterier"),
    "part_need": ("Estimated need", "Beregnet udgiftsbehov"),
    "part_redistributed": (
        "of which moved by need vs. a per-exposure split",
        "heraf flyttet af behovet ift. en fordeling pr. elev/borger",
    ),
    "term": ("Term", "Led"),
    "estimate": ("Estimate", "Estimat"),
    "std_error": ("Std. error", "Std.-fejl"),
    "t": ("t", "t"),
    "p_value": ("p-value", "p-værdi"),
    "ci_low": ("CI low", "KI nedre"),
    "ci_high": ("CI high", "KI øvre"),
    "statistic": ("Statistic", "Mål"),
    "value": ("Value", "Værdi"),
    "item": ("Item", "Punkt"),
    "pool": ("Pool", "Pulje"),
    "amount": ("Amount (kr)", "Beløb (kr.)"),
    "share_pct": ("Share of budget (%)", "Andel af rammen (%)"),
    "rule": ("Rule", "Regel"),
    "criterion": ("Criterion", "Kriterium"),
    "indicator": ("Indicator", "Indikator"),
    "coefficient": ("Coefficient", "Koefficient"),
    "count": ("Counted persons", "Antal talte personer"),
    "unit_amount": ("Unit amount (kr per person)", "Enhedsbeløb (kr. pr. person)"),
    "weight_pct": ("Criterion weight (%)", "Kriterievægt (%)"),
    "share_low": ("Share, low", "Andel, nedre"),
    "share_high": ("Share, high", "Andel, øvre"),
    "width_pct": ("Interval width (% of share)", "Intervalbredde (% af andel)"),
    "target_low": ("Target, low (kr)", "Mål, nedre (kr.)"),
    "target_high": ("Target, high (kr)", "Mål, øvre (kr.)"),
    "allocation_low": ("Allocation, low (kr)", "Tildeling, nedre (kr.)"),
    "allocation_high": ("Allocation, high (kr)", "Tildeling, øvre (kr.)"),
    "flagged": ("Flagged", "Markeret"),
    "group": ("Group", "Gruppe"),
    "level": ("Level", "Niveau"),
    "persons": ("Persons", "Personer"),
    "observed": ("Observed (kr)", "Observeret (kr.)"),
    "predicted": ("Predicted (kr)", "Forudsagt (kr.)"),
    "ratio": ("Predictive ratio", "Prædiktiv ratio"),
    # fit statistics
    "r2": ("R²", "R²"),
    "adj_r2": ("Adjusted R²", "Justeret R²"),
    "r2_log": ("R² (log scale)", "R² (logskala)"),
    "pseudo_r2": ("Pseudo R² (McFadden)", "Pseudo-R² (McFadden)"),
    "deviance_r2": ("Deviance explained", "Forklaret devians"),
    "pseudo_r2_any": ("Pseudo R² of P(cost > 0)", "Pseudo-R² for P(udgift > 0)"),
    "deviance_r2_cost": ("Deviance explained, cost > 0", "Forklaret devians, udgift > 0"),
    "cells": ("Cells", "Celler"),
    "small_cells": ("Small cells", "Små celler"),
    "r2_need": ("R² of need per unit", "R² for udgiftsbehov pr. enhed"),
    "rmse": ("RMSE per unit (kr)", "RMSE pr. enhed (kr.)"),
    "cv_rmse": ("Cross-validated RMSE per unit (kr)", "Krydsvalideret RMSE pr. enhed (kr.)"),
    "aic": ("AIC", "AIC"),
    "r2_person": ("R² per person", "R² pr. person"),
    "rmse_person": ("RMSE per person", "RMSE pr. person"),
    "mean_observed": ("Mean observed", "Observeret gennemsnit"),
    "mean_predicted": ("Mean predicted", "Forudsagt gennemsnit"),
    "share_positive": ("Share with cost > 0", "Andel med udgift > 0"),
    "auc": ("AUC of cost > 0", "AUC for udgift > 0"),
    "deviance": ("Deviance", "Devians"),
    "deviance_any": ("Deviance, P(cost > 0)", "Devians, P(udgift > 0)"),
    "deviance_cost": ("Deviance, cost > 0", "Devians, udgift > 0"),
    "llf": ("Log-likelihood", "Log-likelihood"),
    "cv_rmse_person": ("Cross-validated RMSE per person", "Krydsvalideret RMSE pr. person"),
    "pool_base": ("Base pool", "Grundbeløbspulje"),
    "pool_per_capita": ("Per-capita pool", "Pr. person-pulje"),
    "pool_needs": ("Needs pool", "Behovspulje"),
    # sheet names (Excel allows 31 characters)
    "sheet_keys": ("keys", "nøgler"),
    "sheet_coefficients": ("coefficients", "koefficienter"),
    "sheet_model_fit": ("model fit", "modeltilpasning"),
    "sheet_pools": ("pools", "puljer"),
    "sheet_composition": ("budget composition", "rammens fordeling"),
    "sheet_budget_years": ("budget years", "budgetår"),
    "sheet_winners_losers": ("winners losers", "vindere og tabere"),
    "sheet_criteria_weights": ("criteria weights", "kriterievægte"),
    "sheet_criteria_by_unit": ("criteria by unit", "kriterier pr. enhed"),
    "sheet_transition_path": ("transition path", "overgangsforløb"),
    "sheet_key_uncertainty": ("key uncertainty", "usikkerhed på nøgler"),
    "sheet_predictive_ratios": ("predictive ratios", "prædiktive ratioer"),
    "sheet_cells": ("cells", "celler"),
    "sheet_coefficient_stability": ("coefficient stability", "koefficienters stabilitet"),
    "sheet_metadata": ("metadata", "metadata"),
    # report sections
    "title": ("Allocation by expenditure need", "Tildeling efter udgiftsbehov"),
    "sec_summary": ("Summary", "Sammenfatning"),
    "sec_model": ("Model and data", "Model og data"),
    "sec_coefficients": ("Coefficients", "Koefficienter"),
    "sec_fit": ("Fit", "Modeltilpasning"),
    "sec_diagnostics": ("Diagnostics", "Diagnostik"),
    "sec_allocation": ("Allocation", "Tildeling"),
    "sec_winners": ("Winners and losers", "Vindere og tabere"),
    "sec_transition": ("Transition", "Overgangsordning"),
    "sec_criteria": ("Criteria weights", "Kriterievægte"),
    "sec_uncertainty": ("Uncertainty of the keys", "Usikkerhed på fordelingsnøglerne"),
    "sec_person": ("Person-level fit", "Tilpasning på personniveau"),
    "sec_reproduce": ("Reproducibility", "Reproducerbarhed"),
    "sec_retest": ("Re-test of the frozen model", "Gentest af den fastholdte model"),
    "kpi_model": ("Model", "Model"),
    "origin_given": ("Given coefficients", "Givne koefficienter"),
    "origin_formula": ("Fixed criteria", "Faste kriterier"),
    "kpi_r2_frozen": ("R² this year (frozen model)", "R² i år (fastholdt model)"),
    "kpi_verdict": ("Re-test", "Gentest"),
    "verdict_keep": ("keep the model", "behold modellen"),
    "verdict_re-estimate": ("re-estimate", "genestimér"),
    "frozen": ("Frozen", "Fastholdt"),
    "refit": ("Re-estimated", "Genestimeret"),
    "difference": ("Difference", "Forskel"),
    "z": ("Difference in standard errors", "Forskel i standardfejl"),
    "sheet_retest": ("re-test", "gentest"),
    "sheet_retest_terms": ("re-test terms", "gentest led"),
    # plot labels
    "fitted": ("Fitted value", "Forudsagt værdi"),
    "residual": ("Residual", "Residual"),
    "theoretical_quantiles": ("Normal quantiles", "Normalfordelingens fraktiler"),
    "sample_quantiles": ("Standardised residuals", "Standardiserede residualer"),
    "leverage": ("Leverage", "Leverage (hat-værdi)"),
    "student_resid": ("Studentised residual", "Studentiseret residual"),
    "cooks_note": ("bubble size: Cook's distance", "boblestørrelse: Cooks afstand"),
    "observed_need": ("Observed cost (kr)", "Observeret udgift (kr.)"),
    "predicted_need": ("Estimated need (kr)", "Beregnet udgiftsbehov (kr.)"),
    "interval": ("interval", "interval"),
    "plot_residuals": ("Residuals against fitted values", "Residualer mod forudsagte værdier"),
    "plot_qq": ("Normal QQ plot of residuals", "Normalfraktilplot af residualer"),
    "plot_influence": ("Influence: leverage and residuals", "Indflydelse: leverage og residualer"),
    "plot_coefficients": (
        "Coefficients with confidence intervals",
        "Koefficienter med konfidensintervaller",
    ),
    "plot_observed": ("Observed cost and estimated need", "Observeret udgift og beregnet behov"),
    "plot_index": ("Need index by unit", "Behovsindeks pr. enhed"),
    "units_count": ("Units", "Enheder"),
    "all_units": ("All {n} units", "Alle {n} enheder"),
    "extremes_note": (
        "the {k} lowest and {k} highest of {n} units; all units in the workbook",
        "de {k} laveste og {k} højeste af {n} enheder; alle enheder i regnearket",
    ),
    "plot_winners": ("Change against the current budget", "Ændring i forhold til nuværende budget"),
    "plot_allocation": ("Allocation by unit", "Tildeling pr. enhed"),
    "plot_criteria": ("Criteria weights", "Kriterievægte"),
    "plot_ratios": ("Predictive ratios by group", "Prædiktive ratioer pr. gruppe"),
    "average": ("average", "gennemsnit"),
    "perfect": ("predicted = observed", "forudsagt = observeret"),
}


#: Sentences of the report: key → (English, Danish), filled with str.format.
SENTENCES: dict[str, tuple[str, str]] = {
    "table_extremes": (
        "The {k} units with the highest and the {k} with the lowest {column} of {n} are shown; "
        "every unit is in {source} and the workbook. Totals are over all units.",
        "De {k} enheder med højest og de {k} med lavest {column} af {n} vises; alle enheder "
        "står i {source} og regnearket. Totaler er over alle enheder.",
    ),
    "compare_line": (
        "{other} vs {first}: {moved} moves between units; largest gain {up} {up_kr}, largest "
        "loss {down} {down_kr}",
        "{other} mod {first}: {moved} flyttes mellem enhederne; største stigning {up} {up_kr}, "
        "største fald {down} {down_kr}",
    ),
    "compare_wrote": ("Wrote {csv} and {xlsx}", "Skrev {csv} og {xlsx}"),
    "model_given": (
        "Need is computed from coefficients given in {file} ({method}{per} on {indicators}); "
        "nothing is estimated on these data.",
        "Udgiftsbehovet beregnes med koefficienter givet i {file} ({method}{per} på "
        "{indicators}); intet estimeres på disse data.",
    ),
    "model_given_from": (
        "The coefficients were estimated by the run of {config} on {date} (needsmodel "
        "{version}); file SHA-256 {sha}.",
        "Koefficienterne blev estimeret ved kørslen af {config} den {date} (needsmodel "
        "{version}); filens SHA-256 {sha}.",
    ),
    "model_given_file": (
        "Coefficient file SHA-256 {sha}; the run that estimated it is not known (no manifest "
        "of needsmodel beside it).",
        "Koefficientfilens SHA-256 {sha}; kørslen, der estimerede den, kendes ikke (intet "
        "manifest fra needsmodel ved siden af).",
    ),
    "model_formula": (
        "Need is computed by a formula of fixed criteria ({source}) on {indicators}; nothing "
        "is estimated.",
        "Udgiftsbehovet beregnes efter en formel med faste kriterier ({source}) på "
        "{indicators}; intet estimeres.",
    ),
    "no_costs": (
        "This year's data hold no costs, so no fit statistic is shown; when the costs are "
        "known, a run with them re-tests the model.",
        "Årets data indeholder ingen udgifter, så ingen tilpasning vises; når udgifterne "
        "kendes, gentester en kørsel med dem modellen.",
    ),
    "coef_note_given": (
        "Estimates, standard errors, p-values and intervals as given in {file}.",
        "Estimater, standardfejl, p-værdier og intervaller som givet i {file}.",
    ),
    "retest_errors": (
        "Prediction error per unit of this year's costs: the frozen model {frozen} (its need "
        "scaled to this year's total cost; {unscaled} unscaled), a model re-estimated on this "
        "year's data {refit} (cross-validated), a plain split by {exposure} {split} "
        "(leave-one-out).",
        "Forudsigelsesfejl pr. enhed på årets udgifter: den fastholdte model {frozen} (behovet "
        "skaleret til årets samlede udgift; {unscaled} uskaleret), en model genestimeret på "
        "årets data {refit} (krydsvalideret), en simpel fordeling efter {exposure} {split} "
        "(udeladt én ad gangen).",
    ),
    "retest_wald": (
        "Test that the re-estimated coefficients equal the frozen ones: chi-squared({df}) = "
        "{wald}, p = {p} ({basis}).",
        "Test af, at de genestimerede koefficienter er lig de fastholdte: chi-i-anden({df}) = "
        "{wald}, p = {p} ({basis}).",
    ),
    "basis_covariance": ("with the given covariance", "med den givne kovarians"),
    "basis_standard errors": ("with the given standard errors", "med de givne standardfejl"),
    "basis_none": (
        "the frozen values taken as exact: no standard errors were given",
        "de fastholdte værdier taget som eksakte: der var ingen standardfejl",
    ),
    "retest_moved": (
        "Criteria that moved by more than two standard errors: {terms}.",
        "Kriterier, der har flyttet sig mere end to standardfejl: {terms}.",
    ),
    "retest_still": (
        "No criterion moved by more than two standard errors.",
        "Intet kriterium har flyttet sig mere end to standardfejl.",
    ),
    "retest_keep": (
        "Keep the model: this year's costs do not show that its coefficients have changed "
        "(p = {p}), and it predicts them better than a plain split by {exposure}.",
        "Behold modellen: årets udgifter viser ikke, at dens koefficienter har ændret sig "
        "(p = {p}), og den forudsiger dem bedre end en simpel fordeling efter {exposure}.",
    ),
    "retest_changed": (
        "Re-estimate the model: its coefficients have changed (p = {p}).",
        "Genestimér modellen: dens koefficienter har ændret sig (p = {p}).",
    ),
    "retest_split": (
        "Re-estimate the model: it no longer predicts this year's costs better than a plain "
        "split by {exposure}.",
        "Genestimér modellen: den forudsiger ikke længere årets udgifter bedre end en simpel "
        "fordeling efter {exposure}.",
    ),
    "retest_both": (
        "Re-estimate the model: its coefficients have changed (p = {p}), and it no longer "
        "predicts this year's costs better than a plain split by {exposure}.",
        "Genestimér modellen: dens koefficienter har ændret sig (p = {p}), og den forudsiger "
        "ikke længere årets udgifter bedre end en simpel fordeling efter {exposure}.",
    ),
    "retest_allocation": (
        "The allocation uses the frozen coefficients.",
        "Tildelingen bruger de fastholdte koefficienter.",
    ),
    # diagnostics' readings (needsmodel.diagnostics)
    "diag_influence_warning": (
        "{k} of {n} units have Cook's distance above 4/n = {thr}: {names}. Each of them moves "
        "the coefficients noticeably on its own; check their data before the model is adopted.",
        "{k} af {n} enheder har Cooks afstand over 4/n = {thr}: {names}. Hver af dem flytter "
        "alene koefficienterne mærkbart; kontrollér deres data, før modellen vedtages.",
    ),
    "diag_influence_ok": (
        "No unit has Cook's distance above 4/n = {thr}: no single unit drives the coefficients.",
        "Ingen enhed har Cooks afstand over 4/n = {thr}: ingen enkelt enhed bestemmer "
        "koefficienterne.",
    ),
    "diag_het_robust": (
        "Breusch-Pagan test: the residual variance depends on the indicators (p = {p}). The "
        "{cov} standard errors used are robust to this, as they should be.",
        "Breusch-Pagan-test: residualernes varians afhænger af indikatorerne (p = {p}). De "
        "anvendte {cov}-standardfejl er robuste over for det, som de bør være.",
    ),
    "diag_het_plain": (
        "Breusch-Pagan test: the residual variance depends on the indicators (p = {p}). The "
        "standard errors assume a constant variance and are too optimistic; use cov = 'HC3'.",
        "Breusch-Pagan-test: residualernes varians afhænger af indikatorerne (p = {p}). "
        "Standardfejlene forudsætter konstant varians og er for optimistiske; brug cov = 'HC3'.",
    ),
    "diag_het_ok_robust": (
        "Breusch-Pagan test: no evidence that the residual variance depends on the indicators "
        "(p = {p}); robust standard errors cost little and are used.",
        "Breusch-Pagan-test: intet tegn på, at residualernes varians afhænger af indikatorerne "
        "(p = {p}); robuste standardfejl koster lidt og er anvendt.",
    ),
    "diag_het_ok_plain": (
        "Breusch-Pagan test: no evidence that the residual variance depends on the indicators "
        "(p = {p}); robust standard errors cost little and are not used.",
        "Breusch-Pagan-test: intet tegn på, at residualernes varians afhænger af indikatorerne "
        "(p = {p}); robuste standardfejl koster lidt og er ikke anvendt.",
    ),
    "diag_vif_warning": (
        "Variance inflation factors above 10: {parts}. These indicators move closely with the "
        "others, so their coefficients are imprecise and may swing between years; consider "
        "merging or dropping one.",
        "Variansinflationsfaktorer over 10: {parts}. Disse indikatorer følger de andre tæt, så "
        "deres koefficienter er usikre og kan svinge fra år til år; overvej at slå sammen eller "
        "udelade én.",
    ),
    "diag_vif_ok": (
        "No variance inflation factor above 10 (largest: {term}, {vif}).",
        "Ingen variansinflationsfaktor over 10 (største: {term}, {vif}).",
    ),
    "band_linear": ("outside the 95% prediction band", "uden for 95 %-prædiktionsintervallet"),
    "band_glm": (
        "with a studentised residual beyond ±1.96",
        "med en studentiseret residual uden for ±1,96",
    ),
    "diag_band_note": (
        "{k} units lie {band}: {names}. Their cost is not explained by their indicators; see "
        "whether something particular to them (a special school, a data error) explains the gap.",
        "{k} enheder ligger {band}: {names}. Deres udgift forklares ikke af deres indikatorer; "
        "undersøg, om noget særligt (en specialskole, en datafejl) forklarer forskellen.",
    ),
    "diag_band_ok_linear": (
        "Every unit lies within the 95% prediction band.",
        "Alle enheder ligger inden for 95 %-prædiktionsintervallet.",
    ),
    "diag_band_ok_glm": (
        "No unit has a studentised residual beyond ±1.96.",
        "Ingen enhed har en studentiseret residual uden for ±1,96.",
    ),
    "diag_overfit_warning": (
        "Out-of-sample error ({scheme}) is {pct} above the in-sample error; the model fits "
        "noise, consider fewer indicators.",
        "Fejlen uden for stikprøven er {pct} større end i stikprøven; modellen tilpasser støj, "
        "overvej færre indikatorer.",
    ),
    "diag_overfit_ok": (
        "Out-of-sample error ({scheme}) is {pct} above the in-sample error, a normal gap for a "
        "model of this size.",
        "Fejlen uden for stikprøven er {pct} større end i stikprøven, en normal forskel for en "
        "model af denne størrelse.",
    ),
    "diag_ratio_warning": (
        "Groups of at least 100 persons funded more than 10 % away from their cost (predictive "
        "ratio outside 0.9-1.1): {detail}.",
        "Grupper på mindst 100 personer, der finansieres mere end 10 % fra deres udgift "
        "(prædiktiv ratio uden for 0,9-1,1): {detail}.",
    ),
    "diag_ratio_ok": (
        "Every group of at least 100 persons is funded within 10 % of its cost (predictive "
        "ratios 0.9-1.1).",
        "Alle grupper på mindst 100 personer finansieres inden for 10 % af deres udgift "
        "(prædiktive ratioer 0,9-1,1).",
    ),
    "diag_not_available": (
        "Influence and prediction-band diagnostics are computed for unit-level linear and GLM "
        "models; this model is judged by its person-level fit and predictive ratios.",
        "Indflydelses- og prædiktionsintervaldiagnostik beregnes for lineære modeller og GLM'er "
        "på enhedsniveau; denne model vurderes ved tilpasningen på personniveau og de prædiktive "
        "ratioer.",
    ),
    "kpi_budget": ("Budget", "Ramme"),
    "kpi_units": ("Units", "Enheder"),
    "kpi_method": ("Method", "Metode"),
    "kpi_r2": ("R² (need)", "R² (udgiftsbehov)"),
    "gains": (
        "{gains} units get more and {losses} less than today.",
        "{gains} enheder får mere og {losses} mindre end i dag.",
    ),
    "extremes": (
        "Largest gain: {up} {up_kr} ({up_pct}); largest loss: {down} {down_kr} ({down_pct}).",
        "Største stigning: {up} {up_kr} ({up_pct}); største fald: {down} {down_kr} ({down_pct}).",
    ),
    "exact": (
        "The amounts sum exactly to the budget, {total}, and are multiples of {unit}.",
        "Beløbene summerer præcist til rammen, {total}, og er multipla af {unit}.",
    ),
    "warnings": (
        "The diagnostics raise {n}; see Diagnostics.",
        "Diagnostikken giver {n}; se afsnittet Diagnostik.",
    ),
    "model": (
        "Need is estimated by {method} of {target} on {indicators}.",
        "Udgiftsbehovet estimeres med {method} af {target} på {indicators}.",
    ),
    "per": (" per {exposure}", " pr. {exposure}"),
    "inference": (
        "Standard errors: {cov}; cross-validation: {cv}.",
        "Standardfejl: {cov}; krydsvalidering: {cv}.",
    ),
    "persons": (
        "The model is fitted on {n} persons; each person's expected cost is summed to the unit.",
        "Modellen er estimeret på {n} personer; hver persons forventede udgift summeres "
        "til enheden.",
    ),
    "persons_applied": (
        "The coefficients are applied to {n} persons; each person's expected cost is summed "
        "to the unit.",
        "Koefficienterne anvendes på {n} personer; hver persons forventede udgift summeres "
        "til enheden.",
    ),
    "years": (
        "Data for the years {years} are pooled with year effects.",
        "Data for årene {years} er samlet med årseffekter.",
    ),
    "coef_note": (
        "{level}% confidence intervals; p-values from the {dist} distribution.",
        "{level} % konfidensintervaller; p-værdier fra {dist}-fordelingen.",
    ),
    "no_transition": (
        "No transition rules: every unit receives its target.",
        "Ingen overgangsordning: hver enhed får sit mål.",
    ),
    "bounds_fixed": (
        "Floors and caps are in fixed prices: the current budget is lifted to {year} prices "
        "by the price and wage index (factor {factor}) before they apply.",
        "Maksimalt tab og maksimal gevinst gælder i faste priser: det nuværende budget "
        "fremskrives til {year}-priser med pris- og lønindekset (faktor {factor}), før de "
        "anvendes.",
    ),
    "bounds_nominal": (
        "Floors and caps apply to the nominal current budget, not lifted to {year} prices "
        '(bounds_in = "nominal").',
        "Maksimalt tab og maksimal gevinst gælder det nominelle nuværende budget, ikke "
        'fremskrevet til {year}-priser (bounds_in = "nominal").',
    ),
    "max_loss": ("Maximum loss: {pct} a year.", "Maksimalt tab: {pct} om året."),
    "max_gain": ("Maximum gain: {pct} a year.", "Maksimal gevinst: {pct} om året."),
    "equalisation": (
        "Equalisation rate: {pct} of the way to the target.",
        "Udligningsgrad: {pct} af vejen mod målet.",
    ),
    "phase_in": ("Phase-in over {years} years.", "Indfasning over {years} år."),
    "held": (
        "{n} units are held away from their target; {kr} is moved by the transition rules.",
        "{n} enheder holdes væk fra deres mål; {kr} flyttes af overgangsordningen.",
    ),
    "year_n": ("Year {n}", "År {n}"),
    "composition_additive": (
        "Of the budget of {budget}, {socio} ({socio_pct}) is allocated by socioeconomic "
        "criteria, {per} ({per_pct}) by the number of {exposure} (including the model's "
        "intercept, {rate} each) and {base} ({base_pct}) as base amounts.",
        "Af rammen på {budget} fordeles {socio} ({socio_pct}) efter socioøkonomiske kriterier, "
        "{per} ({per_pct}) efter antal {exposure} (inklusive modellens konstantled, {rate} "
        "pr. styk) og {base} ({base_pct}) som grundbeløb.",
    ),
    "composition_other": (
        "The needs pool of {needs} is split by estimated need ({method} is not additive, so "
        "its need does not split into criteria). Compared with a plain split by the number of "
        "{exposure}, "
        "need moves {moved} ({moved_pct} of the budget): that is the part allocated by "
        "socioeconomic need rather than by numbers.",
        "Behovspuljen på {needs} fordeles efter beregnet udgiftsbehov ({method} er ikke "
        "additiv, så behovet deler sig ikke i kriterier). Sammenlignet med en fordeling efter "
        "antal {exposure} flytter behovet {moved} ({moved_pct} af rammen): det er den del, der "
        "fordeles efter socioøkonomisk behov frem for efter antal.",
    ),
    "floors_held": (
        "{n} units are held at their floor; that costs {kr}, paid by slowing the gainers.",
        "{n} enheder holdes på deres maksimale tab; det koster {kr}, som betales ved at "
        "bremse dem, der vinder.",
    ),
    "caps_held": (
        "{n} units are held at their cap; the {kr} this frees slows the losers.",
        "{n} enheder holdes på deres maksimale gevinst; de {kr}, det frigør, bremser dem, "
        "der taber.",
    ),
    "pace_gain": (
        "Every gaining unit held by no bound closes {pct} of its distance to the target.",
        "Alle enheder, der vinder uden at ramme en grænse, tilbagelægger {pct} af afstanden "
        "til deres mål.",
    ),
    "pace_loss": (
        "Every losing unit held by no bound closes {pct} of its distance to the target.",
        "Alle enheder, der taber uden at ramme en grænse, tilbagelægger {pct} af afstanden "
        "til deres mål.",
    ),
    "pace_rule": (
        "Every unit moves toward its target and never past it: its amount lies between its "
        "current budget scaled to the new frame and its target, or on its floor or cap.",
        "Hver enhed bevæger sig mod sit mål og aldrig forbi det: beløbet ligger mellem det "
        "nuværende budget korrigeret til den nye ramme og målet, eller på grænsen.",
    ),
    "shortfall": (
        "The frame does not allow every unit to stay between its frame-adjusted budget and "
        "its target; {n} units were moved away from their target by one common factor: {units}.",
        "Rammen tillader ikke, at alle enheder holder sig mellem deres rammekorrigerede budget "
        "og deres mål; {n} enheder er flyttet væk fra målet med én fælles faktor: {units}.",
    ),
    "no_uncertainty": (
        'Uncertainty was not computed; add [uncertainty] method = "bootstrap" to the config.',
        'Usikkerheden er ikke beregnet; tilføj [uncertainty] method = "bootstrap" '
        "i konfigurationen.",
    ),
    "uncertainty": (
        "{level}% intervals from {n} {draws}. {flagged} units have a share interval wider "
        "than {width} of the share.",
        "{level} %-intervaller fra {n} {draws}. {flagged} enheder har et interval for andelen "
        "bredere end {width} af andelen.",
    ),
    "bootstrap_draws": ("bootstrap replicates", "bootstrap-replikationer"),
    "parametric_draws": ("parametric draws", "parametriske træk"),
    "mean": ("Mean", "Gennemsnit"),
    "min": ("Min", "Mindst"),
    "max": ("Max", "Størst"),
    "none": ("none", "ingen"),
    "per_unit": ("{kr} per unit", "{kr} pr. enhed"),
    "per_person": ("{kr} per person", "{kr} pr. person"),
    "toc": ("Contents", "Indhold"),
    "total": ("Total", "I alt"),
    "pc_pct": ("{pct} of the budget by exposure", "{pct} af rammen efter antal"),
    "by_need": ("by estimated need", "efter beregnet udgiftsbehov"),
    "yes": ("yes", "ja"),
}


#: key → ((English singular, English plural), (Danish singular, Danish plural))
PLURALS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "unit": (("unit", "units"), ("enhed", "enheder")),
    "warning": (("warning", "warnings"), ("advarsel", "advarsler")),
    "file": (("file", "files"), ("fil", "filer")),
    "draw": (("draw", "draws"), ("træk", "træk")),
    "year": (("year", "years"), ("år", "år")),
    "person": (("person", "persons"), ("person", "personer")),
}


def plural(n: float, key: str, lang: str = "en") -> str:
    """``n`` and the word for ``key`` in the right number (Babel's plural rules for da/en).

    Examples
    --------
    >>> plural(1, "warning", "da"), plural(3, "warning", "da"), plural(0, "unit", "en")
    ('1 advarsel', '3 advarsler', '0 units')
    """
    from babel import Locale

    forms = PLURALS[key][0 if lang == "en" else 1]
    rule = Locale.parse(_LOCALE[lang]).plural_form
    word = forms[0] if rule(abs(n)) == "one" else forms[1]
    return f"{fmt_num(n, lang)} {word}"


#: The unit every amount is shown in while writing a run (``[output] currency``); None: kroner.
_CURRENCY: ContextVar[str | None] = ContextVar("needsmodel_currency", default=None)
_KR = re.compile(r"(?<![A-Za-zæøåÆØÅ])kr\.?(?![A-Za-zæøåÆØÅ])")


@contextmanager
def currency(symbol: str | None) -> Iterator[None]:
    """Show every amount, label and sentence in the block in ``symbol`` instead of kroner.

    Examples
    --------
    >>> with currency("£"):
    ...     fmt_kr(1234, "en"), label("allocation", "en")
    ('1,234 £', 'Allocation (£)')
    """
    token = _CURRENCY.set(None if symbol in (None, "kr", "kr.") else symbol)
    try:
        yield
    finally:
        _CURRENCY.reset(token)


def money(text: str) -> str:
    """``text`` with "kr"/"kr." replaced by the currency in force (see :func:`currency`)."""
    symbol = _CURRENCY.get()
    return text if symbol is None else _KR.sub(symbol, text)


def say(key: str, lang: str = "en", **values: object) -> str:
    """The sentence ``key`` in ``lang`` with ``values`` filled in.

    Examples
    --------
    >>> say("max_loss", "da", pct="5,0 %")
    'Maksimalt tab: 5,0 % om året.'
    """
    en, da = SENTENCES[key]
    text = (da if lang == "da" else en).format(**values)
    # a sentence ending in "kr." takes no second stop
    return money(text.replace("kr..", "kr."))


def label(key: str, lang: str = "en") -> str:
    """The label of ``key`` in ``lang`` (the key itself when unknown)."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    return money(pair[1] if lang == "da" else pair[0])


def _check(lang: str) -> str:
    if lang not in _LOCALE:
        raise ValueError(f"lang must be 'da' or 'en'; got {lang!r}")
    return _LOCALE[lang]


def fmt_num(value: float, lang: str = "en", decimals: int = 0) -> str:
    """A number with the language's grouping and decimal marks.

    Examples
    --------
    >>> fmt_num(1234567.891, "da", 1)
    '1.234.567,9'
    >>> fmt_num(1234567.891, "en", 1)
    '1,234,567.9'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return str(format_decimal(value, format=pattern, locale=_check(lang)))


def fmt_int(value: float, lang: str = "en") -> str:
    """A whole number with grouping (``1.234`` in Danish)."""
    return fmt_num(value, lang, 0)


def fmt_kr(value: float, lang: str = "en", decimals: int = 0) -> str:
    """Kroner: Danish ``1.234.567 kr.``, English ``1,234,567 kr``.

    Examples
    --------
    >>> fmt_kr(1234567, "da")
    '1.234.567 kr.'
    >>> fmt_kr(-1234.5, "en", 1)
    '-1,234.5 kr'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return money(fmt_num(value, lang, decimals) + (" kr." if lang == "da" else " kr"))


def fmt_pct(value: float, lang: str = "en", decimals: int = 1, *, fraction: bool = False) -> str:
    """A percentage: Danish ``12,3 %``, English ``12.3%``.

    Parameters
    ----------
    value : float
        Percentage points (``12.3``), or a fraction with ``fraction=True``.

    Examples
    --------
    >>> fmt_pct(12.345, "da")
    '12,3 %'
    >>> fmt_pct(0.123, "en", fraction=True)
    '12.3%'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    pct = value * 100.0 if fraction else value
    text = fmt_num(pct, lang, decimals)
    return text + (" %" if lang == "da" else "%")


def pool_rules(policy: Any, lang: str = "en") -> list[str]:
    """How each pool (base, per capita, needs) is split, in words."""
    none = say("none", lang)
    base = (
        say("per_unit", lang, kr=fmt_kr(policy.base_per_unit, lang))
        if policy.base_per_unit
        else none
    )
    if policy.per_capita_amount is not None:
        pc = say("per_person", lang, kr=fmt_kr(policy.per_capita_amount, lang, 2))
    elif policy.per_capita_pct:
        pc = say("pc_pct", lang, pct=fmt_pct(policy.per_capita_pct, lang))
    else:
        pc = none
    return [base, pc, say("by_need", lang)]


_META_ITEMS = {
    "needsmodel version": ("needsmodel version", "needsmodel-version"),
    "run at (UTC)": ("run at (UTC)", "kørt (UTC)"),
    "config file": ("config file", "konfigurationsfil"),
    "python": ("Python", "Python"),
    "floors and caps": ("floors and caps", "maksimalt tab og gevinst"),
}


def meta_label(item: str, lang: str = "en") -> str:
    """An item of the reproducibility metadata in ``lang`` (``"sha256 units.csv"`` → ...).

    Examples
    --------
    >>> meta_label("sha256 units.csv", "da"), meta_label("run at (UTC)", "da")
    ('SHA-256 af units.csv', 'kørt (UTC)')
    """
    pair = _META_ITEMS.get(item)
    if pair is not None:
        return pair[1] if lang == "da" else pair[0]
    for prefix, (en, da) in (
        ("sha256 ", ("SHA-256 of ", "SHA-256 af ")),
        ("path ", ("path of ", "sti til ")),
        ("config line ", ("config line ", "konfigurationslinje ")),
    ):
        if item.startswith(prefix):
            return (da if lang == "da" else en) + item[len(prefix) :]
    return item
