"""Estimators on arrays: each fits one method with statsmodels.

A *core* is the fitted model on the model's scale (cost per unit of exposure
for per-capita models, cost per person for person-level models). It knows its
coefficients, their covariance and how to predict the expected value for new
rows; :mod:`needsmodel.estimate.fit` turns it into need per unit.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._deferred import paused_gc
from ..errors import EstimationError, InputError
from .design import Design
from .irls import expit
from .methods import method_info, methods_where

__all__ = [
    "GLM_METHODS",
    "LINEAR_METHODS",
    "LINKS",
    "Core",
    "fit_core",
    "linear_mean",
    "link_mean",
    "make_link",
    "smeared_mean",
]

LINEAR_METHODS = methods_where(kind="linear")
GLM_METHODS = methods_where(kind="glm")

#: Link name → statsmodels' link class (in ``statsmodels.genmod.families.links``).
LINKS: dict[str, str] = {
    "log": "Log",
    "logit": "Logit",
    "identity": "Identity",
    "inverse": "InversePower",
    "probit": "Probit",
    "cloglog": "CLogLog",
}


def make_link(name: str) -> Any:
    """A statsmodels link object by name (see :data:`LINKS`)."""
    if name not in LINKS:
        raise InputError(f"link must be one of {', '.join(map(repr, LINKS))}; got {name!r}")
    with paused_gc():
        from statsmodels.genmod.families import links

    return getattr(links, LINKS[name])()


@dataclass(frozen=True, eq=False)
class Core:
    """A fitted model on its own scale.

    Attributes
    ----------
    method : str
        Estimator name.
    params : Series
        Coefficients by term.
    cov : DataFrame
        Their covariance.
    df_inference : float or None
        Degrees of freedom of the t distribution for inference, ``None`` for
        the normal distribution.
    stats : dict
        Model-scale statistics (log-likelihood, AIC, BIC, deviance, R², ...).
    result : object
        The statsmodels result(s).
    predictor : callable
        ``predictor(frame) -> expected value per row`` on the model scale.
    draw_mean : callable or None
        ``draw_mean(x, betas) -> rows × draws``: the expected value per design
        row for each coefficient vector (rows of ``betas``), as this core's
        model computes it (identity, retransformed log, inverse link, the
        product of a two-part model's parts); ``None`` where parametric draws
        do not apply.
    """

    method: str
    params: pd.Series
    cov: pd.DataFrame
    df_inference: float | None
    stats: dict[str, Any]
    result: Any
    predictor: Callable[[pd.DataFrame], np.ndarray] = field(repr=False)
    design: Design | None = None
    draw_mean: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = field(
        default=None, repr=False
    )

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Expected value per row of ``frame`` on the model scale."""
        return self.predictor(frame)

    def mean_for(self, x: np.ndarray, betas: np.ndarray) -> np.ndarray:
        """Expected value per row of the design ``x`` for each coefficient vector in ``betas``.

        Raises
        ------
        InputError
            When the model has no parametric draws (cell means).
        """
        if self.draw_mean is None:
            raise InputError(
                f"parametric intervals are not available for method '{self.method}'; "
                "use the bootstrap"
            )
        return self.draw_mean(x, betas)

    @property
    def bse(self) -> pd.Series:
        """Standard errors."""
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index)


def linear_mean(x: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """``draw_mean`` of a model on the cost scale: ``x β`` for every draw."""
    return x @ betas.T


def link_mean(link: Any) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``draw_mean`` of a GLM: the inverse link of ``x β`` for every draw."""

    def mean(x: np.ndarray, betas: np.ndarray) -> np.ndarray:
        return np.asarray(link.inverse(x @ betas.T))

    return mean


def smeared_mean(smearing: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``draw_mean`` of a log-linear model: ``exp(x β)`` times Duan's smearing factor."""

    def mean(x: np.ndarray, betas: np.ndarray) -> np.ndarray:
        return np.exp(x @ betas.T) * smearing

    return mean


def _cov_kwargs(cov: str, groups: np.ndarray | None) -> dict[str, Any]:
    if cov == "cluster":
        if groups is None:
            raise InputError("cov='cluster' needs cluster labels")
        return {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
    return {"cov_type": cov}


def _quiet_fit(fit: Callable[[], Any], what: str, strict: bool = True) -> Any:
    """Run a statsmodels fit, turning convergence trouble into EstimationError.

    With ``strict=False`` (cross-validation refits) a rank-deficient design is
    accepted: statsmodels' pseudo-inverse gives a category absent from the
    training rows the reference level's value.
    """
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        DomainWarning,
        PerfectSeparationWarning,
        SingularMatrixWarning,
        SpecificationWarning,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("error" if strict else "ignore", SingularMatrixWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("ignore", DomainWarning)
        # statsmodels flags robust covariances with var_weights as "not fully
        # supported"; its cluster sandwich is checked against a hand-computed one
        # in tests/estimate/test_methods.py.
        warnings.simplefilter("ignore", SpecificationWarning)
        try:
            with np.errstate(all="ignore"):
                return fit()
        except ConvergenceWarning as e:
            raise EstimationError(f"{what} did not converge: {e}") from e
        except SingularMatrixWarning as e:
            raise EstimationError(
                f"{what}: the design matrix is rank-deficient, e.g. a category with no "
                "observations in the rows this part is fitted on; merge or drop it"
            ) from e
        except PerfectSeparationWarning as e:
            raise EstimationError(
                f"{what}: perfect separation, an indicator predicts the outcome exactly; "
                "drop it or merge its levels"
            ) from e
        except np.linalg.LinAlgError as e:
            raise EstimationError(f"{what} failed: {e}") from e


def _linear(
    method: str,
    design: Design,
    frame: pd.DataFrame,
    y: np.ndarray,
    w: np.ndarray | None,
    cov: str,
    groups: np.ndarray | None,
) -> Core:
    x = design.frame(frame)
    with paused_gc():
        from statsmodels.regression.linear_model import OLS, WLS

    model = WLS(y, x, weights=w) if w is not None else OLS(y, x)
    res = model.fit(use_t=True, **_cov_kwargs(cov, groups))
    df_inf = getattr(res, "df_resid_inference", None)
    stats = {
        "r2": float(res.rsquared),
        "adj_r2": float(res.rsquared_adj),
        "llf": float(res.llf),
        "aic": float(res.aic),
        "bic": float(res.bic),
        "df_resid": float(res.df_resid),
    }
    params = res.params
    return Core(
        method=method,
        params=params,
        cov=res.cov_params(),
        df_inference=float(df_inf if df_inf is not None else res.df_resid),
        stats=stats,
        result=res,
        predictor=lambda f: design.matrix(f) @ params.to_numpy(),
        design=design,
        draw_mean=linear_mean,
    )


def _loglinear(
    design: Design,
    frame: pd.DataFrame,
    y: np.ndarray,
    w: np.ndarray | None,
    cov: str,
    groups: np.ndarray | None,
) -> Core:
    if np.any(y <= 0):
        raise InputError(
            f"method 'loglinear' needs a positive target; {int(np.sum(y <= 0))} row(s) are zero "
            "or negative. Use 'twopart' for costs with zeros, or 'gamma'/'tweedie'"
        )
    x = design.frame(frame)
    ly = np.log(y)
    with paused_gc():
        from statsmodels.regression.linear_model import OLS, WLS

    model = WLS(ly, x, weights=w) if w is not None else OLS(ly, x)
    res = model.fit(use_t=True, **_cov_kwargs(cov, groups))
    resid = np.asarray(res.resid, dtype=float)
    # Duan's (1983) smearing estimate of E[exp(error)]; weighted like the fit.
    smearing = float(np.average(np.exp(resid), weights=w))
    params = res.params
    df_inf = getattr(res, "df_resid_inference", None)
    stats = {
        "r2_log": float(res.rsquared),
        "adj_r2_log": float(res.rsquared_adj),
        "smearing": smearing,
        "df_resid": float(res.df_resid),
    }
    return Core(
        method="loglinear",
        params=params,
        cov=res.cov_params(),
        df_inference=float(df_inf if df_inf is not None else res.df_resid),
        stats=stats,
        result=res,
        predictor=lambda f: np.exp(design.matrix(f) @ params.to_numpy()) * smearing,
        design=design,
        draw_mean=smeared_mean(smearing),
    )


def _family(method: str, link: str | None, var_power: float) -> Any:
    info = method_info(method)
    name = link or info.default_link
    lk = make_link(str(name))
    with paused_gc():
        from statsmodels.genmod import families

    family = getattr(families, str(info.sm_family))
    if info.sm_family == "Tweedie":
        return family(var_power=var_power, link=lk)
    return family(lk)


def _check_domain(method: str, y: np.ndarray) -> None:
    outcome = method_info(method).outcome
    if outcome == "nonnegative" and np.any(y < 0):
        raise InputError(f"method '{method}' needs a non-negative target")
    if outcome == "positive" and np.any(y <= 0):
        raise InputError(
            f"method '{method}' needs a positive target; {int(np.sum(y <= 0))} row(s) are zero. "
            "Use 'twopart' or 'tweedie' for costs with zeros"
        )
    if outcome == "share" and (np.any(y < 0) or np.any(y > 1)):
        raise InputError(
            f"method '{method}' needs a target between 0 and 1 (a 0/1 outcome, or a count of "
            "cases per unit of exposure with per_capita = true)"
        )


def _glm(
    method: str,
    design: Design,
    frame: pd.DataFrame,
    y: np.ndarray,
    w: np.ndarray | None,
    cov: str,
    groups: np.ndarray | None,
    link: str | None,
    var_power: float,
    label: str | None = None,
    strict: bool = True,
) -> Core:
    with paused_gc():
        from statsmodels.genmod.generalized_linear_model import GLM

    _check_domain(method, y)
    x = design.frame(frame)
    fam = _family(method, link, var_power)
    endog: Any = y
    var_weights = w
    exposure = None
    counts = y * w if w is not None else y
    integer = bool(np.allclose(counts, np.round(counts), rtol=0, atol=1e-8))
    counts_as = method_info(method).counts
    if counts_as == "trials" and w is not None and integer:
        # cases out of w trials: the standard binomial likelihood
        endog = np.column_stack([np.round(counts), np.round(w - counts)])
        var_weights = None
    elif counts_as == "exposure" and w is not None and integer:
        # counts with exposure (log offset): the standard Poisson likelihood
        endog, exposure, var_weights = np.round(counts), w, None
    res = _quiet_fit(
        lambda: GLM(endog, x, family=fam, var_weights=var_weights, exposure=exposure).fit(
            **_cov_kwargs(cov, groups)
        ),
        f"the {method} GLM" + (f" ({label} part)" if label else ""),
        strict,
    )
    params = res.params
    stats: dict[str, Any] = {
        "deviance": float(res.deviance),
        "null_deviance": float(res.null_deviance),
        "deviance_r2": 1.0 - float(res.deviance) / float(res.null_deviance)
        if res.null_deviance > 0
        else float("nan"),
        "pearson_chi2": float(res.pearson_chi2),
        "scale": float(res.scale),
        "df_resid": float(res.df_resid),
    }
    quasi = counts_as == "exposure" and not integer
    if quasi:
        stats["likelihood"] = "quasi-Poisson (non-integer target): no log-likelihood"
    else:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            llf = float(res.llf)
            llnull = float(res.llnull)
        if np.isfinite(llf):
            k = len(params)
            stats["llf"] = llf
            stats["pseudo_r2"] = 1.0 - llf / llnull if llnull != 0 else float("nan")
            stats["aic"] = float(res.aic)
            stats["bic"] = float(-2 * llf + k * np.log(res.nobs))
    linkf = fam.link
    return Core(
        method=label or method,
        params=params,
        cov=res.cov_params(),
        df_inference=None,
        stats=stats,
        result=res,
        predictor=lambda f: linkf.inverse(design.matrix(f) @ params.to_numpy()),
        design=design,
        draw_mean=link_mean(linkf),
    )


def _twopart(
    design: Design,
    frame: pd.DataFrame,
    y: np.ndarray,
    w: np.ndarray | None,
    cov: str,
    groups: np.ndarray | None,
    link: str | None,
    strict: bool = True,
) -> Core:
    if np.any(y < 0):
        raise InputError("method 'twopart' needs a non-negative target")
    pos = y > 0
    if pos.sum() <= len(design.terms) or (~pos).sum() == 0:
        raise InputError(
            "method 'twopart' needs both zero and positive targets, and more positive rows "
            f"than parameters; got {int(pos.sum())} positive of {len(y)}"
        )
    any_part = _glm(
        "binomial", design, frame, pos.astype(float), w, cov, groups, "logit", 0.0, "any", strict
    )
    sub = frame.loc[pos]
    g_sub = groups[pos] if groups is not None else None
    w_sub = w[pos] if w is not None else None
    cost_part = _glm(
        "gamma", design, sub, y[pos], w_sub, cov, g_sub, link or "log", 0.0, "cost > 0", strict
    )
    p1 = any_part.params.rename(lambda t: f"any:{t}")
    p2 = cost_part.params.rename(lambda t: f"cost:{t}")
    params = pd.concat([p1, p2])
    cov_m = np.zeros((len(params), len(params)))
    k1 = len(p1)
    cov_m[:k1, :k1] = any_part.cov.to_numpy()
    cov_m[k1:, k1:] = cost_part.cov.to_numpy()
    s1, s2 = any_part.stats, cost_part.stats
    stats: dict[str, Any] = {
        "n_positive": int(pos.sum()),
        "share_positive": float(pos.mean()),
        "deviance_any": s1["deviance"],
        "deviance_cost": s2["deviance"],
        "pseudo_r2_any": s1.get("pseudo_r2", float("nan")),
        "deviance_r2_cost": s2["deviance_r2"],
        "scale_cost": s2["scale"],
    }
    if "llf" in s1 and "llf" in s2:
        stats["llf"] = s1["llf"] + s2["llf"]
        stats["aic"] = s1["aic"] + s2["aic"]
        stats["bic"] = s1["bic"] + s2["bic"]

    def predict(f: pd.DataFrame) -> np.ndarray:
        return any_part.predict(f) * cost_part.predict(f)

    k1 = len(any_part.params)
    cost_link = cost_part.result.model.family.link

    def draw_mean(x: np.ndarray, betas: np.ndarray) -> np.ndarray:
        share = expit(x @ betas[:, :k1].T)
        return share * np.asarray(cost_link.inverse(x @ betas[:, k1:].T))

    return Core(
        method="twopart",
        params=params,
        cov=pd.DataFrame(cov_m, index=params.index, columns=params.index),
        df_inference=None,
        stats=stats,
        result={"any": any_part.result, "cost": cost_part.result},
        predictor=predict,
        design=design,
        draw_mean=draw_mean,
    )


def fit_core(
    method: str,
    design: Design,
    frame: pd.DataFrame,
    y: np.ndarray,
    w: np.ndarray | None,
    *,
    cov: str,
    groups: np.ndarray | None = None,
    link: str | None = None,
    var_power: float = 1.5,
    strict: bool = True,
) -> Core:
    """Fit ``method`` to ``y`` with the design's columns of ``frame``.

    Parameters
    ----------
    method : str
        ``ols``, ``wls``, ``loglinear``, ``gamma``, ``poisson``, ``binomial``,
        ``tweedie`` or ``twopart``.
    design : Design
        The learned design.
    frame : DataFrame
        Rows to fit (indicator columns).
    y : ndarray
        Target on the model scale.
    w : ndarray or None
        Weights (WLS weights; GLM variance weights).
    cov : str
        Covariance type.
    groups : ndarray, optional
        Cluster codes for ``cov="cluster"``.
    link : str, optional
        GLM link (default: log; logit for binomial).
    var_power : float
        Tweedie variance power (between 1 and 2 for costs with zeros).
    strict : bool
        Refuse a rank-deficient design (``False`` in cross-validation refits).
    """
    kind = method_info(method).kind
    if kind == "linear":
        return _linear(method, design, frame, y, w, cov, groups)
    if kind == "log-linear":
        return _loglinear(design, frame, y, w, cov, groups)
    if kind == "glm":
        return _glm(method, design, frame, y, w, cov, groups, link, var_power, strict=strict)
    if kind == "two-part":
        return _twopart(design, frame, y, w, cov, groups, link, strict)
    raise InputError(f"method {method!r} is not fitted by a core")  # pragma: no cover
