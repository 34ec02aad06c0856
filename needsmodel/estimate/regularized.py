"""Regularised need models (ridge, lasso, elastic net) as an over-fitting check.

With few units and many indicators an OLS/WLS model can fit noise. A
penalised fit with the penalty chosen by cross-validation (scikit-learn's
``RidgeCV``, ``LassoCV``, ``ElasticNetCV``) shows which coefficients survive
shrinkage and whether out-of-sample error improves. It is offered *beside* the
interpretable model, not instead of it: its coefficients are biased towards
zero and have no standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..display import DisplayMixin, Summary, format_number
from ..errors import InputError
from .cv import CV_SEED, cv_result, kfold_predictions, need_fit, resolve_scheme
from .design import Design
from .fit import prepare_units
from .results import CVResult
from .spec import NeedSpec

__all__ = ["KINDS", "RegularizedResults", "fit_regularized"]

KINDS = ("ridge", "lasso", "elasticnet")


@dataclass(frozen=True, eq=False, repr=False)
class RegularizedResults(DisplayMixin):
    """A penalised linear need model.

    Attributes
    ----------
    spec : NeedSpec
        The specification (its linear part: target, exposure, indicators).
    kind : str
        ``"ridge"``, ``"lasso"`` or ``"elasticnet"``.
    penalty : float
        The penalty chosen by cross-validation (scikit-learn's ``alpha``).
    l1_ratio : float or None
        Elastic-net mixing chosen by cross-validation.
    params : Series
        Coefficients on the original scale of the indicators (intercept first).
    need : Series
        Predicted need per unit (kr).
    fit_stats : dict
        ``r2_need``, ``rmse``, ``cv_rmse`` (nested: the penalty is chosen again
        inside every outer fold), ``nonzero``.
    cv : CVResult
        Outer cross-validation.
    """

    spec: NeedSpec
    kind: str
    penalty: float
    l1_ratio: float | None
    params: pd.Series
    need: pd.Series
    fit_stats: dict[str, Any]
    cv: CVResult

    @property
    def method(self) -> str:
        """Name for comparison tables."""
        return self.kind

    @property
    def bse(self) -> pd.Series:
        """Standard errors: none for a penalised fit (NaN), as in :meth:`tidy`."""
        return pd.Series(np.nan, index=self.params.index, name="std_error")

    def summary(self) -> Summary:
        """The penalty chosen, the out-of-sample fit and the coefficients."""
        header = [("Penalty", self.kind), ("Strength (alpha)", format_number(self.penalty))]
        if self.l1_ratio is not None:
            header.append(("L1 ratio", format_number(self.l1_ratio)))
        header += [(k, format_number(v)) for k, v in self.fit_stats.items()]
        return Summary(
            f"Penalised need model ({self.kind})", header, [("Coefficients", self.tidy())]
        )

    def _describe(self) -> str:
        nonzero = int((self.params.drop("Intercept", errors="ignore") != 0).sum())
        return f"{self.kind}, {nonzero} of {len(self.params) - 1} indicators kept"

    def tidy(self) -> pd.DataFrame:
        """Coefficients in the :meth:`NeedResults.tidy` layout (no standard errors)."""
        out = pd.DataFrame(
            {
                "estimate": self.params,
                "std_error": np.nan,
                "t": np.nan,
                "p_value": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
            }
        )
        out.index.name = "term"
        return out


def _estimator(kind: str, inner_folds: int, n_alphas: int = 40) -> Any:
    from sklearn.linear_model import ElasticNetCV, LassoCV, RidgeCV
    from sklearn.model_selection import KFold

    folds = KFold(n_splits=inner_folds, shuffle=True, random_state=CV_SEED)
    if kind == "ridge":
        return RidgeCV(alphas=np.logspace(-4, 4, n_alphas), cv=folds)
    if kind == "lasso":
        return LassoCV(cv=folds, alphas=n_alphas, max_iter=50_000, random_state=0)
    return ElasticNetCV(cv=folds, l1_ratio=[0.2, 0.5, 0.8, 1.0], alphas=n_alphas, max_iter=50_000)


def _fit_once(
    kind: str, x: np.ndarray, y: np.ndarray, w: np.ndarray, inner: int
) -> tuple[np.ndarray, Any]:
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x, sample_weight=w)
    xs = scaler.transform(x)
    est = _estimator(kind, inner).fit(xs, y, sample_weight=w)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    beta = est.coef_ / scale
    intercept = float(est.intercept_) - float(np.sum(beta * scaler.mean_))
    return np.r_[intercept, beta], est


def fit_regularized(
    spec: NeedSpec,
    units: pd.DataFrame,
    kind: str = "lasso",
    *,
    id: str | None = None,
    inner_folds: int = 5,
) -> RegularizedResults:
    """Fit a ridge, lasso or elastic-net version of a unit-level linear need model.

    Parameters
    ----------
    spec : NeedSpec
        Unit-level specification; its target, exposure, weighting and
        indicators are used (the method is replaced by the penalised fit).
    units : DataFrame
        Units table.
    kind : {"ridge", "lasso", "elasticnet"}
        The penalty.
    id : str, optional
        Id column.
    inner_folds : int
        Folds for choosing the penalty.

    Returns
    -------
    RegularizedResults
    """
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(map(repr, KINDS))}; got {kind!r}")
    if spec.is_person_level:
        raise InputError("regularised fits are for unit-level models; the spec has unit_key set")
    clean = prepare_units(spec, units, id=id)
    design = Design.learn(clean, spec.indicators, spec.categorical, spec.reference_map)
    x = design.matrix(clean)[:, 1:]
    n = len(clean)
    observed = clean[spec.target].astype(float)
    expo = clean[spec.exposure].to_numpy(dtype=float) if spec.exposure else None
    scale = expo if (spec.per_capita and expo is not None) else np.ones(n)
    y = observed.to_numpy() / scale
    w = expo if (spec.weighted and expo is not None) else np.ones(n)
    inner = max(2, min(inner_folds, n - 1))
    coef, est = _fit_once(kind, x, y, w, inner)
    need = pd.Series((coef[0] + x @ coef[1:]) * scale, index=clean.index, name="need")

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        c, _ = _fit_once(kind, x[train], y[train], w[train], max(2, min(inner, len(train) - 1)))
        return (c[0] + x[test] @ c[1:]) * scale[test]

    k = resolve_scheme(spec.cv, n)
    folds = n if k is None else k
    cv = cv_result(
        "leave-one-out (nested)" if k is None else f"k-fold (k={k}, nested)",
        observed,
        kfold_predictions(fit_predict, n, folds),
    )
    params = pd.Series(coef, index=design.terms, name="estimate")
    return RegularizedResults(
        spec=spec,
        kind=kind,
        penalty=float(est.alpha_),
        l1_ratio=float(est.l1_ratio_) if kind == "elasticnet" else None,
        params=params,
        need=need,
        fit_stats={
            "nobs": n,
            **need_fit(observed, need),
            "cv_rmse": cv.rmse,
            "cv_mae": cv.mae,
            "penalty": float(est.alpha_),
            "nonzero": int(np.sum(np.abs(coef[1:]) > 0)),
        },
        cv=cv,
    )
