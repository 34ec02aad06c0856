"""Linear need models: OLS and WLS on the units table (statsmodels)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from .cv import cv_result, kfold_predictions, resolve_scheme
from .results import CVResult, NeedResults
from .spec import NeedSpec

__all__ = ["LinearProblem", "cov_arguments", "design_matrix", "fit_linear"]


def design_matrix(units: pd.DataFrame, indicators: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """Intercept plus indicator columns, as floats, indexed like ``units``."""
    x = units[list(indicators)].astype(float)
    x.insert(0, "Intercept", 1.0)
    return x


def cov_arguments(spec: NeedSpec, units: pd.DataFrame) -> dict[str, Any]:
    """Keyword arguments for statsmodels' ``fit`` for the spec's covariance."""
    if spec.cov == "cluster":
        assert spec.cluster is not None
        codes = pd.factorize(units[spec.cluster])[0]
        return {"cov_type": "cluster", "cov_kwds": {"groups": codes}}
    return {"cov_type": spec.cov}


@dataclass(frozen=True)
class LinearProblem:
    """The arrays of a linear need model, ready for fast refits.

    ``y = target / scale`` is regressed on ``x`` with weights ``w``;
    need is ``x @ beta * scale``.
    """

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    scale: np.ndarray
    observed: np.ndarray

    @classmethod
    def from_units(cls, spec: NeedSpec, units: pd.DataFrame) -> LinearProblem:
        """Arrays of ``spec`` on a validated units table."""
        observed = units[spec.target].to_numpy(dtype=float)
        n = len(units)
        expo = units[spec.exposure].to_numpy(dtype=float) if spec.exposure else None
        scale = expo if (spec.per_capita and expo is not None) else np.ones(n)
        w = expo if spec.resolved_method == "wls" and expo is not None else np.ones(n)
        x = design_matrix(units, spec.indicators).to_numpy()
        return cls(x=x, y=observed / scale, w=w, scale=scale, observed=observed)

    def solve(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Least-squares coefficients on ``rows`` (all rows by default)."""
        x, y, w = self.x, self.y, self.w
        if rows is not None:
            x, y, w = x[rows], y[rows], w[rows]
        sw = np.sqrt(w)
        beta, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
        return beta

    def leverage(self) -> np.ndarray:
        """Diagonal of the (weighted) hat matrix."""
        sw = np.sqrt(self.w)
        q, _ = np.linalg.qr(self.x * sw[:, None])
        return np.einsum("ij,ij->i", q, q)

    def loo_need(self, fitted: np.ndarray) -> np.ndarray:
        """Leave-one-out predicted need, in closed form ``e / (1 - h)``."""
        h = self.leverage()
        resid = self.y - fitted
        with np.errstate(divide="ignore", invalid="ignore"):
            loo = self.y - resid / (1.0 - h)
        loo[h > 1.0 - 1e-10] = np.nan  # a unit that alone determines a parameter
        return loo * self.scale

    def fit_predict(self, train: np.ndarray, test: np.ndarray) -> np.ndarray:
        """Refit on ``train`` and predict need (kr) for ``test``."""
        beta = self.solve(train)
        return self.x[test] @ beta * self.scale[test]


def _cross_validate(
    spec: NeedSpec, prob: LinearProblem, fitted: np.ndarray, observed: pd.Series
) -> CVResult:
    n = prob.x.shape[0]
    k = resolve_scheme(spec.cv, n)
    if k is None:
        pred = prob.loo_need(fitted)
        if np.isnan(pred).any():  # leverage 1: fall back to explicit refits
            bad = np.flatnonzero(np.isnan(pred))
            pred[bad] = kfold_predictions(prob.fit_predict, n, n)[bad]
        return cv_result("leave-one-out", observed, pred)
    return cv_result(f"k-fold (k={k})", observed, kfold_predictions(prob.fit_predict, n, k))


def fit_linear(spec: NeedSpec, units: pd.DataFrame) -> NeedResults:
    """Fit an OLS or WLS need model with statsmodels.

    Parameters
    ----------
    spec : NeedSpec
        Specification with ``method`` ``"ols"`` or ``"wls"`` (or ``"auto"``).
    units : DataFrame
        Validated units table indexed by unit id.

    Returns
    -------
    NeedResults
    """
    prob = LinearProblem.from_units(spec, units)
    x = design_matrix(units, spec.indicators)
    y = pd.Series(prob.y, index=units.index, name=spec.target)
    method = spec.resolved_method
    model = sm.WLS(y, x, weights=prob.w) if method == "wls" else sm.OLS(y, x)
    res = model.fit(use_t=True, **cov_arguments(spec, units))
    fitted = np.asarray(res.fittedvalues, dtype=float)
    need = pd.Series(fitted * prob.scale, index=units.index, name="need")
    observed = units[spec.target].astype(float).rename("observed")
    err = observed - need
    sst = float(((observed - observed.mean()) ** 2).sum())
    cv = _cross_validate(spec, prob, fitted, observed)
    df_inf = getattr(res, "df_resid_inference", None)
    fit_stats: dict[str, Any] = {
        "nobs": int(res.nobs),
        "n_params": spec.n_params,
        "df_resid": float(res.df_resid),
        "r2": float(res.rsquared),
        "adj_r2": float(res.rsquared_adj),
        "r2_need": 1.0 - float((err**2).sum()) / sst if sst > 0 else float("nan"),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "cv_rmse": cv.rmse,
        "cv_mae": cv.mae,
        "aic": float(res.aic),
        "bic": float(res.bic),
        "llf": float(res.llf),
    }
    return NeedResults(
        spec=spec,
        method=method,
        params=res.params.rename("estimate"),
        bse=res.bse.rename("std_error"),
        cov_params=res.cov_params(),
        df_inference=float(df_inf if df_inf is not None else res.df_resid),
        need=need,
        observed=observed,
        exposure=units[spec.exposure].astype(float) if spec.exposure else None,
        fitted=pd.Series(fitted, index=units.index, name="fitted"),
        resid=pd.Series(np.asarray(res.resid, dtype=float), index=units.index, name="resid"),
        weights=pd.Series(prob.w, index=units.index, name="weight") if method == "wls" else None,
        fit_stats=fit_stats,
        cv=cv,
        design=x,
        model_result=res,
    )
