"""Iteratively reweighted least squares on collapsed cells (binomial and Poisson).

The cross-validation of a collapsed register fit refits the model once per
fold on the training units' cell sums. Each refit starts from the full-data
coefficients, which are close to the fold's, so a few Newton steps on the
cell design suffice; building a statsmodels GLM for each fold costs more than
the algebra. The main fit stays a statsmodels GLM (its result object is part
of :class:`~needsmodel.NeedResults`); this solver is checked against it in
``tests/estimate/test_irls.py``.
"""

from __future__ import annotations

import numpy as np

from ..errors import EstimationError
from .methods import methods_where

__all__ = ["expit", "irls_cells"]


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-x))``, without overflow for large ``-x``.

    Agrees with :func:`scipy.special.expit` to a few units in the last place
    (``tests/estimate/test_irls.py``). Written with NumPy because importing
    :mod:`scipy.special` costs a tenth of a second (SciPy's array-API layer
    loads ``numpy.f2py``), more than a register fit spends on its cells.

    Examples
    --------
    >>> expit(np.array([-800.0, 0.0, 2.0])).round(6).tolist()
    [0.0, 0.5, 0.880797]
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(x))
    d = 1.0 + e
    return np.where(x >= 0.0, 1.0 / d, e / d)


def irls_cells(
    x: np.ndarray,
    sy: np.ndarray,
    n: np.ndarray,
    family: str,
    *,
    start: np.ndarray | None = None,
    tol: float = 1e-11,
    dev_tol: float = 1e-14,
    max_iter: int = 100,
) -> np.ndarray:
    """Maximum-likelihood coefficients of a logit or log-linear Poisson model on cells.

    Parameters
    ----------
    x : ndarray
        Cell design (cells × parameters).
    sy : ndarray
        Sum of the target per cell (positives for the logit, counts for Poisson).
    n : ndarray
        Persons per cell (trials for the logit, exposure for Poisson).
    family : {"binomial", "poisson"}
        Logit link with ``n`` trials, or log link with exposure ``n``.
    start : ndarray, optional
        Starting coefficients (warm start); by default the mean-only model.
    tol : float
        Converged when no coefficient moves more than ``tol × (1 + |β|)``.
    dev_tol : float
        Also converged when the log-likelihood changes by less than
        ``dev_tol × (|llf| + 0.1)`` (quasi-separation: a category with none or
        all of the outcome, whose coefficient has no finite maximum).
    max_iter : int
        Newton steps before giving up.

    Returns
    -------
    ndarray
        The coefficients.

    Raises
    ------
    EstimationError
        If the iterations do not converge or leave finite values.
    """
    trials = methods_where(counts="trials")
    exposure = methods_where(counts="exposure")
    if family not in (*trials, *exposure):
        raise EstimationError(
            f"irls_cells fits {', '.join(map(repr, (*trials, *exposure)))}; got {family!r}"
        )
    binary = family in trials
    n = np.asarray(n, dtype=float)
    sy = np.asarray(sy, dtype=float)
    offset = 0.0 if binary else np.log(n)
    if start is None:
        rate = sy.sum() / n.sum()
        beta = np.linalg.lstsq(
            x,
            np.full(len(n), np.log(rate / (1 - rate)) if binary else np.log(rate)),
            rcond=None,
        )[0]
    else:
        beta = np.asarray(start, dtype=float).copy()
    # a column without any nonzero cell (a category absent from the training
    # folds) is not identified: its coefficient is 0, as in statsmodels'
    # minimum-norm solution, and the Newton steps run on the other columns
    active = np.any(x != 0, axis=0)
    if not active.all():
        x = x[:, active]
        beta = beta[active]
    llf_old = -np.inf
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        for _ in range(max_iter):
            eta = x @ beta
            if binary:
                p = expit(eta)
                w = n * p * (1.0 - p)
                score = sy - n * p
                llf = float(np.sum(sy * eta - n * np.logaddexp(0.0, eta)))
            else:
                mu = np.exp(eta + offset)
                w = mu
                score = sy - mu
                llf = float(np.sum(sy * (eta + offset) - mu))
            if not np.isfinite(llf):
                break
            # the likelihood has stopped moving: converged, or a category without
            # (or with only) positives whose coefficient drifts off towards -inf
            # (+inf) while its predictions settle at 0 (1), as statsmodels also stops
            if abs(llf - llf_old) <= dev_tol * (abs(llf) + 0.1):
                return _expand(beta, active)
            llf_old = llf
            info = x.T @ (x * w[:, None])
            grad = x.T @ score
            try:
                step = np.linalg.solve(info, grad)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(info, grad, rcond=None)[0]
            beta = beta + step
            if not np.all(np.isfinite(beta)):
                break
            if np.max(np.abs(step) / (1.0 + np.abs(beta))) < tol:
                return _expand(beta, active)
    raise EstimationError(
        f"the {family} refit on cells did not converge in {max_iter} steps "
        "(collinear cells in the training folds?)"
    )


def _expand(beta: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Coefficients of all columns: the fitted ones, 0 for columns without data."""
    out = np.zeros(len(active))
    out[active] = beta
    return out
