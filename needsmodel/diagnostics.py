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

import warnings
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
from .i18n import Reading, fmt_num, fmt_pct, say

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


def _said(
    code: str, severity: str, key: str, units: list[str] | None = None, **values: Any
) -> Finding:
    """A finding from the sentence ``key`` of :mod:`needsmodel.i18n` in both languages.

    A value may be a function of the language (numbers and names formatted for it).
    """

    def filled(lang: str) -> dict[str, Any]:
        return {k: v(lang) if callable(v) else v for k, v in values.items()}

    return Finding(
        code, severity, say(key, "en", **filled("en")), say(key, "da", **filled("da")), units or []
    )


def _names(units: list[str], labels: dict[str, str] | None, limit: int = 8) -> str:
    shown = [f"{u} ({labels[u]})" if labels and u in labels else u for u in units[:limit]]
    rest = len(units) - limit
    return ", ".join(shown) + (f" … (+{rest})" if rest > 0 else "")


def _ols_view(results: NeedResults) -> Any:
    """The OLS problem a linear fit solves (weighted data for WLS)."""
    m = results.model_result.model
    return OLS(m.wendog, m.wexog).fit()


def external_studentized(resid: np.ndarray, hat: np.ndarray, k: int) -> np.ndarray:
    """Externally studentised residuals of an OLS fit in closed form (no refits).

    ``s²_(i) = (SSR - e_i² / (1 - h_i)) / (n - k - 1)`` is the residual variance
    without unit ``i``; the residual is ``e_i / sqrt(s²_(i) (1 - h_i))``. Equal to
    statsmodels' ``OLSInfluence.resid_studentized_external``, which refits the
    model once per unit (a minute at 10,000 units; this is linear in n).
    """
    n = resid.size
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = (float(np.sum(resid**2)) - resid**2 / (1.0 - hat)) / (n - k - 1)
        return resid / np.sqrt(s2 * (1.0 - hat))


def _influence(results: NeedResults) -> pd.DataFrame | None:
    if results.level != "unit" or results.method not in _UNIT:
        return None
    if results.model_result is None:  # given coefficients: nothing was fitted here
        return None
    idx = results.need.index.astype(str)
    if results.method in _LINEAR:
        view = _ols_view(results)
        inf = view.get_influence()
        student = external_studentized(
            np.asarray(view.resid, dtype=float),
            np.asarray(inf.hat_matrix_diag, dtype=float),
            int(view.df_model) + int(view.k_constant),
        )
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
            # a column without variation (a level the data lack under given coefficients) has
            # no VIF; it is left out of the others' regressions, which then stay well defined
            varying = [c for c in x.columns if c == "Intercept" or np.ptp(x[c].to_numpy()) > 0]
            exog = x[varying].to_numpy()
            values = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # statsmodels' conditioning notes: not the user's
                for c in cols:
                    if c not in varying:
                        values.append(float("nan"))
                        continue
                    try:
                        values.append(float(variance_inflation_factor(exog, varying.index(c))))
                    except np.linalg.LinAlgError:
                        values.append(float("nan"))
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

        def thr(lang: str) -> str:
            return fmt_num(4 / n, lang, 3)

        if bad:
            findings.append(
                _said(
                    "influence", "warning", "diag_influence_warning", bad,
                    k=len(bad), n=n, thr=thr, names=_names(bad, labels),
                )
            )  # fmt: skip
        else:
            findings.append(_said("influence", "ok", "diag_influence_ok", thr=thr))
    het = _het(results)
    if het is not None:
        p = het["p_value"]
        cov = results.spec.resolved_cov
        robust = cov != "nonrobust"

        def pval(lang: str) -> str:
            return fmt_num(p, lang, 3)

        if p < 0.05:
            key = "diag_het_robust" if robust else "diag_het_plain"
            sev = "note" if robust else "warning"
            findings.append(_said("heteroskedasticity", sev, key, p=pval, cov=cov))
        else:
            key = "diag_het_ok_robust" if robust else "diag_het_ok_plain"
            findings.append(_said("heteroskedasticity", "ok", key, p=pval))
    vif = _vif(results)
    high = vif.loc[vif["vif"] > 10].sort_values("vif", ascending=False)
    if len(high):

        def parts(lang: str) -> str:
            return ", ".join(
                f"{name(t, lang)} ({fmt_num(v, lang, 1)})"
                for t, v in zip(high["term"], high["vif"], strict=True)
            )

        findings.append(
            _said("vif", "warning", "diag_vif_warning", high["term"].tolist(), parts=parts)
        )
    elif len(vif):
        top = vif.sort_values("vif", ascending=False).iloc[0]
        findings.append(
            _said(
                "vif", "ok", "diag_vif_ok",
                term=lambda lang: name(top["term"], lang),
                vif=lambda lang: fmt_num(top["vif"], lang, 1),
            )
        )  # fmt: skip
    if infl is not None:
        out = infl.loc[infl["outside_band"], "unit"].tolist()
        shape = "linear" if results.method in _LINEAR else "glm"
        if out:
            findings.append(
                _said(
                    "prediction_band", "note", "diag_band_note", out,
                    k=len(out), band=lambda lang: say(f"band_{shape}", lang),
                    names=_names(out, labels),
                )
            )  # fmt: skip
        else:
            findings.append(_said("prediction_band", "ok", f"diag_band_ok_{shape}"))
    fs = results.fit_stats
    if fs.get("rmse") and fs.get("cv_rmse"):
        excess = 100.0 * (fs["cv_rmse"] / fs["rmse"] - 1.0)
        scheme = results.cv.scheme if results.cv else "cross-validation"
        sev = "warning" if excess > 50 else "ok"
        findings.append(
            _said(
                "overfitting", sev, f"diag_overfit_{sev}",
                scheme=scheme, pct=lambda lang: fmt_pct(excess, lang, 0),
            )
        )  # fmt: skip
    if results.predictive_ratios is not None:
        pr = results.predictive_ratios
        off = pr[
            (pr["group"] != "all")
            & (pr["persons"] >= 100)
            & ((pr["ratio"] < 0.9) | (pr["ratio"] > 1.1))
        ]
        names = [f"{g}={lv}" for g, lv in zip(off["group"], off["level"], strict=True)]
        if names:

            def detail(lang: str) -> str:
                return ", ".join(
                    f"{n} ({fmt_num(r, lang, 2)})" for n, r in zip(names, off["ratio"], strict=True)
                )

            findings.append(
                _said("predictive_ratio", "warning", "diag_ratio_warning", names, detail=detail)
            )
        else:
            findings.append(_said("predictive_ratio", "ok", "diag_ratio_ok"))
    if infl is None:
        findings.append(_said("not_available", "note", "diag_not_available"))
    return Diagnostics(influence=infl, vif=vif, heteroskedasticity=het, findings=findings)
