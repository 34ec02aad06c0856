"""Diagnostics of a need model, computed and read out in plain language.

:func:`diagnose` computes, from a fitted model (never refitting it):

- influence per unit: leverage, studentised residual and Cook's distance; units
  above the usual 4/n threshold are named;
- a Breusch-Pagan test of whether the residual variance depends on the
  indicators, and what that means for the chosen covariance;
- variance inflation factors, naming indicators above 10;
- units whose observed cost lies outside the 95 % prediction band;
- over-fitting: cross-validated against in-sample error;
- person-level models: groups whose predictive ratio is far from 1.

Each reading is a :class:`Finding` with a Danish and an English text. For
weighted least squares the influence measures are those of the equivalent
ordinary least-squares problem on the weighted data (``√w·y`` on ``√w·X``),
which is what WLS solves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.diagnostic import het_breuschpagan
from statsmodels.stats.outliers_influence import variance_inflation_factor

from .display import DisplayMixin, Summary
from .estimate.methods import REGISTRY, methods_where
from .estimate.results import NeedResults
from .i18n import Reading, fmt_num, fmt_pct

__all__ = ["Diagnostics", "Finding", "diagnose"]

_LINEAR = tuple(m.name for m in REGISTRY.values() if m.least_squares)
_UNIT = methods_where(unit_diagnostics=True)


@dataclass(frozen=True)
class Finding(Reading):
    """One plain-language reading of a diagnostic.

    Attributes
    ----------
    code : str
        ``influence``, ``heteroskedasticity``, ``vif``, ``prediction_band``,
        ``overfitting``, ``predictive_ratio`` or ``not_available``.
    severity : str
        ``"ok"``, ``"note"`` or ``"warning"``.
    en, da : str
        The reading in English and Danish.
    units : list of str
        Units (or groups) the finding names.
    """

    units: list[str] = field(default_factory=list)


@dataclass(frozen=True, eq=False, repr=False)
class Diagnostics(DisplayMixin):
    """Computed diagnostics and their readings.

    Attributes
    ----------
    influence : DataFrame or None
        Per unit: ``fitted, resid, leverage, student_resid, cooks_d,
        influential, band_low, band_high, outside_band`` (unit-level models).
    vif : DataFrame
        ``term, vif`` for every non-intercept column of the design.
    heteroskedasticity : dict or None
        ``test, statistic, p_value`` of the Breusch-Pagan test (linear models).
    findings : list of Finding
        The readings, in report order.
    """

    influence: pd.DataFrame | None
    vif: pd.DataFrame
    heteroskedasticity: dict[str, Any] | None
    findings: list[Finding]

    def text(self, lang: str = "en") -> list[str]:
        """All readings in ``lang``."""
        return [f.text(lang) for f in self.findings]

    def summary(self, lang: str = "en") -> Summary:
        """Every reading, worst first, and the variance inflation factors."""
        order = {"warning": 0, "note": 1, "ok": 2}
        found = sorted(self.findings, key=lambda f: order.get(f.severity, 3))
        header = [(f.severity, f.text(lang)) for f in found]
        return Summary("Diagnostics", header, [("VIF", self.vif.set_index("term"))])

    def _describe(self) -> str:
        warnings = sum(f.severity == "warning" for f in self.findings)
        return f"{len(self.findings)} readings, {warnings} warnings"


def _names(units: list[str], labels: dict[str, str] | None, limit: int = 8) -> str:
    shown = [f"{u} ({labels[u]})" if labels and u in labels else u for u in units[:limit]]
    rest = len(units) - limit
    return ", ".join(shown) + (f" … (+{rest})" if rest > 0 else "")


def _ols_view(results: NeedResults) -> Any:
    """The OLS problem a linear fit solves (weighted data for WLS)."""
    m = results.model_result.model
    return OLS(m.wendog, m.wexog).fit()


def _influence(results: NeedResults) -> pd.DataFrame | None:
    if results.level != "unit" or results.method not in _UNIT:
        return None
    if results.model_result is None:  # given coefficients: nothing was fitted here
        return None
    idx = results.need.index.astype(str)
    if results.method in _LINEAR:
        view = _ols_view(results)
        inf = view.get_influence()
        student = inf.resid_studentized_external
        res = results.model_result
        weights = results.weights.to_numpy() if results.weights is not None else None
        frame = res.get_prediction(weights=weights).summary_frame(alpha=0.05)
        low, high = frame["obs_ci_lower"].to_numpy(), frame["obs_ci_upper"].to_numpy()
        y = np.asarray(res.model.endog, dtype=float)
        outside = (y < low) | (y > high)
    else:
        inf = results.model_result.get_influence()
        student = inf.resid_studentized
        low = high = np.full(len(idx), np.nan)
        outside = np.abs(student) > 1.96
    n = len(idx)
    cooks = np.asarray(inf.cooks_distance[0], dtype=float)
    return pd.DataFrame(
        {
            "unit": idx,
            "fitted": results.fitted.to_numpy(),
            "resid": results.resid.to_numpy(),
            "leverage": np.asarray(inf.hat_matrix_diag, dtype=float),
            "student_resid": np.asarray(student, dtype=float),
            "cooks_d": cooks,
            "influential": cooks > 4.0 / n,
            "band_low": low,
            "band_high": high,
            "outside_band": outside,
        }
    )


def _vif(results: NeedResults) -> pd.DataFrame:
    """Variance inflation factors of the non-intercept columns.

    Unweighted: statsmodels' ``variance_inflation_factor`` (1 / (1 - R²) of each
    column on the others). Weighted: the same with weighted means and sums of
    squares, i.e. the diagonal of the inverse weighted correlation matrix, which
    is what inflates the WLS variances.
    """
    x = results.design_matrix()
    cols = [c for c in x.columns if c != "Intercept"]
    if len(cols) < 2:
        return pd.DataFrame({"term": cols, "vif": [1.0] * len(cols)})
    with np.errstate(divide="ignore", invalid="ignore"):
        if results.weights is None:
            exog = x.to_numpy()
            values = [
                float(variance_inflation_factor(exog, list(x.columns).index(c))) for c in cols
            ]
        else:
            corr = np.cov(x[cols].to_numpy(), rowvar=False, aweights=results.weights.to_numpy())
            sd = np.sqrt(np.diag(corr))
            values = list(np.diag(np.linalg.pinv(corr / np.outer(sd, sd))))
    return pd.DataFrame({"term": cols, "vif": [float(v) for v in values]})


def _het(results: NeedResults) -> dict[str, Any] | None:
    if results.level != "unit" or results.method not in _LINEAR:
        return None
    if results.model_result is None:  # given coefficients
        return None
    m = results.model_result
    # weighted residuals against the indicators (with a constant): does the
    # variance left after weighting still depend on them?
    lm, lm_p, _, _ = het_breuschpagan(m.wresid, m.model.exog)
    return {"test": "Breusch-Pagan", "statistic": float(lm), "p_value": float(lm_p)}


def diagnose(
    results: NeedResults,
    labels: dict[str, str] | None = None,
    terms: Callable[[str, str], str] | None = None,
) -> Diagnostics:
    """Compute the diagnostics of a fitted need model and read them out.

    Parameters
    ----------
    results : NeedResults
        The fitted model.
    labels : dict, optional
        Display name per unit id (e.g. district names), used in the texts.
    terms : callable, optional
        ``terms(term, lang)``: the display name of a model term (the data
        dictionary's label), used in the texts.

    Returns
    -------
    Diagnostics

    Examples
    --------
    >>> import needsmodel as nm
    >>> res = nm.run(nm.datasets.sample_config_path()).results
    >>> d = diagnose(res)
    >>> [f.code for f in d.findings][:3]
    ['influence', 'heteroskedasticity', 'vif']
    """
    findings: list[Finding] = []

    def name(term: str, lang: str) -> str:
        return terms(term, lang) if terms is not None else term

    infl = _influence(results)
    n = results.nobs
    if infl is not None:
        bad = infl.loc[infl["influential"], "unit"].tolist()
        thr_en, thr_da = fmt_num(4 / n, "en", 3), fmt_num(4 / n, "da", 3)
        if bad:
            findings.append(
                Finding(
                    "influence",
                    "warning",
                    f"{len(bad)} of {n} units have Cook's distance above 4/n = {thr_en}: "
                    f"{_names(bad, labels)}. Each of them moves the coefficients noticeably on its "
                    "own; check their data before the model is adopted.",
                    f"{len(bad)} af {n} enheder har Cooks afstand over 4/n = {thr_da}: "
                    f"{_names(bad, labels)}. Hver af dem flytter alene koefficienterne mærkbart; "
                    "kontrollér deres data, før modellen vedtages.",
                    bad,
                )
            )
        else:
            findings.append(
                Finding(
                    "influence",
                    "ok",
                    f"No unit has Cook's distance above 4/n = {thr_en}: no single unit drives the "
                    "coefficients.",
                    f"Ingen enhed har Cooks afstand over 4/n = {thr_da}: ingen enkelt enhed "
                    "bestemmer koefficienterne.",
                )
            )
    het = _het(results)
    if het is not None:
        p = het["p_value"]
        p_en, p_da = fmt_num(p, "en", 3), fmt_num(p, "da", 3)
        cov = results.spec.resolved_cov
        robust = cov != "nonrobust"
        if p < 0.05:
            en = (
                "Breusch-Pagan test: the residual variance depends on the indicators "
                f"(p = {p_en}). "
                + (
                    f"The {cov} standard errors used are robust to this, as they should be."
                    if robust
                    else "The standard errors assume a constant variance and are too optimistic; "
                    "use cov = 'HC3'."
                )
            )
            da = (
                "Breusch-Pagan-test: residualernes varians afhænger af indikatorerne "
                f"(p = {p_da}). "
                + (
                    f"De anvendte {cov}-standardfejl er robuste over for det, som de bør være."
                    if robust
                    else "Standardfejlene forudsætter konstant varians og er for optimistiske; "
                    "brug cov = 'HC3'."
                )
            )
            findings.append(Finding("heteroskedasticity", "note" if robust else "warning", en, da))
        else:
            findings.append(
                Finding(
                    "heteroskedasticity",
                    "ok",
                    f"Breusch-Pagan test: no evidence that the residual variance depends on the "
                    f"indicators (p = {p_en}); robust standard errors cost little and are "
                    f"{'used' if robust else 'not used'}.",
                    f"Breusch-Pagan-test: intet tegn på, at residualernes varians afhænger af "
                    f"indikatorerne (p = {p_da}); robuste standardfejl koster lidt og er "
                    f"{'anvendt' if robust else 'ikke anvendt'}.",
                )
            )
    vif = _vif(results)
    high = vif.loc[vif["vif"] > 10].sort_values("vif", ascending=False)
    if len(high):
        parts_en = ", ".join(
            f"{name(t, 'en')} ({fmt_num(v, 'en', 1)})"
            for t, v in zip(high["term"], high["vif"], strict=True)
        )
        parts_da = ", ".join(
            f"{name(t, 'da')} ({fmt_num(v, 'da', 1)})"
            for t, v in zip(high["term"], high["vif"], strict=True)
        )
        findings.append(
            Finding(
                "vif",
                "warning",
                f"Variance inflation factors above 10: {parts_en}. These indicators move closely "
                "with the others, so their coefficients are imprecise and may swing between years; "
                "consider merging or dropping one.",
                f"Variansinflationsfaktorer over 10: {parts_da}. Disse indikatorer følger de andre "
                "tæt, så deres koefficienter er usikre og kan svinge fra år til år; overvej at slå "
                "sammen eller udelade én.",
                high["term"].tolist(),
            )
        )
    elif len(vif):
        top = vif.sort_values("vif", ascending=False).iloc[0]
        findings.append(
            Finding(
                "vif",
                "ok",
                f"No variance inflation factor above 10 (largest: {name(top['term'], 'en')}, "
                f"{fmt_num(top['vif'], 'en', 1)}).",
                f"Ingen variansinflationsfaktor over 10 (største: {name(top['term'], 'da')}, "
                f"{fmt_num(top['vif'], 'da', 1)}).",
            )
        )
    if infl is not None:
        out = infl.loc[infl["outside_band"], "unit"].tolist()
        band_en = (
            "outside the 95% prediction band"
            if results.method in _LINEAR
            else "with a studentised residual beyond ±1.96"
        )
        band_da = (
            "uden for 95 %-prædiktionsintervallet"
            if results.method in _LINEAR
            else "med en studentiseret residual uden for ±1,96"
        )
        if out:
            findings.append(
                Finding(
                    "prediction_band",
                    "note",
                    f"{len(out)} units lie {band_en}: {_names(out, labels)}. Their cost is not "
                    "explained by their indicators; see whether something particular to them (a "
                    "special school, a data error) explains the gap.",
                    f"{len(out)} enheder ligger {band_da}: {_names(out, labels)}. Deres udgift "
                    "forklares ikke af deres indikatorer; undersøg, om noget særligt (en "
                    "specialskole, en datafejl) forklarer forskellen.",
                    out,
                )
            )
        else:
            findings.append(
                Finding(
                    "prediction_band",
                    "ok",
                    "Every unit lies within the 95% prediction band."
                    if results.method in _LINEAR
                    else "No unit has a studentised residual beyond ±1.96.",
                    "Alle enheder ligger inden for 95 %-prædiktionsintervallet."
                    if results.method in _LINEAR
                    else "Ingen enhed har en studentiseret residual uden for ±1,96.",
                )
            )
    fs = results.fit_stats
    if fs.get("rmse") and fs.get("cv_rmse"):
        excess = 100.0 * (fs["cv_rmse"] / fs["rmse"] - 1.0)
        scheme = results.cv.scheme if results.cv else "cross-validation"
        sev = "warning" if excess > 50 else "ok"
        findings.append(
            Finding(
                "overfitting",
                sev,
                f"Out-of-sample error ({scheme}) is {fmt_pct(excess, 'en', 0)} above the "
                "in-sample error"
                + (
                    "; the model fits noise, consider fewer indicators."
                    if sev == "warning"
                    else ", a normal gap for a model of this size."
                ),
                f"Fejlen uden for stikprøven er {fmt_pct(excess, 'da', 0)} større end i stikprøven"
                + (
                    "; modellen tilpasser støj, overvej færre indikatorer."
                    if sev == "warning"
                    else ", en normal forskel for en model af denne størrelse."
                ),
            )
        )
    if results.predictive_ratios is not None:
        pr = results.predictive_ratios
        off = pr[
            (pr["group"] != "all")
            & (pr["persons"] >= 100)
            & ((pr["ratio"] < 0.9) | (pr["ratio"] > 1.1))
        ]
        names = [f"{g}={lv}" for g, lv in zip(off["group"], off["level"], strict=True)]
        if names:
            detail_en = ", ".join(
                f"{n} ({fmt_num(r, 'en', 2)})" for n, r in zip(names, off["ratio"], strict=True)
            )
            detail_da = ", ".join(
                f"{n} ({fmt_num(r, 'da', 2)})" for n, r in zip(names, off["ratio"], strict=True)
            )
            findings.append(
                Finding(
                    "predictive_ratio",
                    "warning",
                    f"Groups of at least 100 persons funded more than 10 % away from their cost "
                    f"(predictive ratio outside 0.9-1.1): {detail_en}.",
                    f"Grupper på mindst 100 personer, der finansieres mere end 10 % fra deres "
                    f"udgift (prædiktiv ratio uden for 0,9-1,1): {detail_da}.",
                    names,
                )
            )
        else:
            findings.append(
                Finding(
                    "predictive_ratio",
                    "ok",
                    "Every group of at least 100 persons is funded within 10 % of its cost "
                    "(predictive ratios 0.9-1.1).",
                    "Alle grupper på mindst 100 personer finansieres inden for 10 % af deres "
                    "udgift (prædiktive ratioer 0,9-1,1).",
                )
            )
    if infl is None:
        findings.append(
            Finding(
                "not_available",
                "note",
                "Influence and prediction-band diagnostics are computed for unit-level linear and "
                "GLM models; this model is judged by its person-level fit and predictive ratios.",
                "Indflydelses- og prædiktionsintervaldiagnostik beregnes for lineære modeller og "
                "GLM'er på enhedsniveau; denne model vurderes ved tilpasningen på personniveau og "
                "de prædiktive ratioer.",
            )
        )
    return Diagnostics(influence=infl, vif=vif, heteroskedasticity=het, findings=findings)
