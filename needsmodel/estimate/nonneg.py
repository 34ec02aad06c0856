"""Linear need models whose slopes may not be negative.

An allocation criterion with a negative coefficient takes money from the units
that have more of it, which no committee signs. ``constraints = "nonnegative"``
estimates an OLS/WLS model with every slope ``>= 0`` (the intercept is free) by
SciPy's bounded least squares (:func:`scipy.optimize.lsq_linear`). The
constrained estimator has no textbook covariance, so its standard errors come
from a bootstrap of the units (the same constrained fit on each resample), and
the terms held at zero are reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cores import Core, linear_mean
from .design import Design

__all__ = ["BOOTSTRAP_REPLICATES", "fit_nonnegative"]

#: Resamples for the standard errors of a constrained fit.
BOOTSTRAP_REPLICATES = 400


def _solve(x: np.ndarray, y: np.ndarray, w: np.ndarray | None, free: np.ndarray) -> np.ndarray:
    from scipy.optimize import lsq_linear

    sw = np.sqrt(w) if w is not None else np.ones(len(y))
    lower = np.where(free, -np.inf, 0.0)
    res = lsq_linear(x * sw[:, None], y * sw, bounds=(lower, np.full(x.shape[1], np.inf)),
                     method="bvls", tol=1e-12)  # fmt: skip
    return np.asarray(res.x, dtype=float)


def fit_nonnegative(
    design: Design,
    frame: pd.DataFrame,
    y: np.ndarray,
    w: np.ndarray | None,
    *,
    bootstrap: bool = True,
    seed: int = 20240601,
) -> Core:
    """Least squares with non-negative slopes; bootstrap covariance of the estimates."""
    x = design.matrix(frame)
    terms = design.terms
    # only the slopes of numeric criteria are held at zero or above: the intercept and the
    # level effects of categories (the year effects of a several-year model) are free
    categorical = set(design.levels)
    free = np.array(
        [t == "Intercept" or ("[" in t and t.split("[", 1)[0] in categorical) for t in terms]
    )
    beta = _solve(x, y, w, free)
    n, k = x.shape
    if bootstrap:
        rng = np.random.default_rng(seed)
        draws = np.empty((BOOTSTRAP_REPLICATES, k))
        for b in range(BOOTSTRAP_REPLICATES):
            rows = rng.integers(0, n, n)
            draws[b] = _solve(x[rows], y[rows], None if w is None else w[rows], free)
        cov = np.cov(draws, rowvar=False)
    else:
        cov = np.full((k, k), np.nan)
    fitted = x @ beta
    resid = y - fitted
    ww = w if w is not None else np.ones(n)
    ybar = np.average(y, weights=ww)
    r2 = 1.0 - float(np.sum(ww * resid**2) / np.sum(ww * (y - ybar) ** 2))
    params = pd.Series(beta, index=terms)
    at_zero = [t for t, b, f in zip(terms, beta, free, strict=True) if not f and b <= 1e-12]
    stats = {"r2": r2, "df_resid": float(n - k), "at_zero": at_zero}
    return Core(
        method="wls" if w is not None else "ols",
        params=params,
        cov=pd.DataFrame(cov, index=terms, columns=terms),
        df_inference=None,
        stats=stats,
        result=None,
        predictor=lambda f: design.matrix(f) @ beta,
        design=design,
        draw_mean=linear_mean,
    )
