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

__all__ = ["irls_cells"]


def irls_cells(
    x: np.ndarray,
    sy: np.ndarray,
    n: np.ndarray,
    family: str,
    *,
    start: np.ndarray | None = None,
    tol: float = 1e-11,
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
    max_iter : int
        Newton steps before giving up.

    Returns
    -------
    ndarray
        The coefficients.

    Raises
    ------
    EstimationError
        If the iterations do not converge or leave finite values (separation).
    """
    if family not in ("binomial", "poisson"):
        raise EstimationError(f"irls_cells fits 'binomial' or 'poisson'; got {family!r}")
    n = np.asarray(n, dtype=float)
    sy = np.asarray(sy, dtype=float)
    offset = np.log(n) if family == "poisson" else 0.0
    if start is None:
        rate = sy.sum() / n.sum()
        beta = np.linalg.lstsq(
            x,
            np.full(len(n), np.log(rate / (1 - rate)) if family == "binomial" else np.log(rate)),
            rcond=None,
        )[0]
    else:
        beta = np.asarray(start, dtype=float).copy()
    for _ in range(max_iter):
        eta = x @ beta
        if family == "binomial":
            p = 1.0 / (1.0 + np.exp(-eta))
            w = n * p * (1.0 - p)
            score = sy - n * p
        else:
            mu = np.exp(eta + offset)
            w = mu
            score = sy - mu
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
            return beta
    raise EstimationError(
        f"the {family} refit on cells did not converge in {max_iter} steps "
        "(a category with all or none of the outcome in the training folds?)"
    )
