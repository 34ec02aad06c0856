"""Cross-validation of need models.

Out-of-sample predictions come from scikit-learn's fold splitters; each
estimator supplies a ``fit_predict(train, test)`` function that refits on the
training rows and predicts need (kr) for the test rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..errors import EstimationError
from .results import CVResult, NeedResults

__all__ = [
    "baseline_cv_rmse",
    "cv_result",
    "group_folds",
    "kfold_predictions",
    "need_fit",
    "resolve_scheme",
    "split_cv_rmse",
]

FitPredict = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: Seed of the fold assignment, so cross-validation is reproducible.
CV_SEED = 20240601


def resolve_scheme(cv: str | int, n: int) -> int | None:
    """Number of folds for ``cv`` with ``n`` units; ``None`` means leave-one-out.

    ``"auto"`` is leave-one-out up to 100 units, else 10 folds.
    """
    if cv == "loo":
        return None
    if cv == "auto":
        return None if n <= 100 else 10
    k = int(cv)
    if k >= n:
        return None
    return k


def kfold_predictions(
    fit_predict: FitPredict,
    n: int,
    k: int,
    groups: np.ndarray | None = None,
    seed: int = CV_SEED,
) -> np.ndarray:
    """Out-of-fold predictions for ``n`` rows in ``k`` folds.

    Parameters
    ----------
    fit_predict : callable
        ``fit_predict(train_rows, test_rows) -> predictions for test_rows``.
    n : int
        Number of rows.
    k : int
        Number of folds.
    groups : array, optional
        Group label per row; rows of a group are kept in the same fold
        (``GroupKFold``), e.g. persons of one unit.
    seed : int
        Seed of the shuffled fold assignment (ungrouped case).
    """
    from sklearn.model_selection import GroupKFold, KFold

    pred = np.full(n, np.nan)
    idx = np.arange(n)
    if groups is None:
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed).split(idx)
    else:
        splitter = GroupKFold(n_splits=k).split(idx, groups=groups)
    for train, test in splitter:
        pred[test] = fit_predict(train, test)
    return pred


def group_folds(sizes: np.ndarray, k: int) -> np.ndarray:
    """The fold of each group when rows are split by ``GroupKFold`` (groups of ``sizes`` rows).

    Collapsed fits use it to put each unit in the fold the person-level fit
    puts its persons in, so that both give the same cross-validated error.
    It is scikit-learn's rule for ``GroupKFold(k)`` without shuffling, applied
    to the group sizes instead of one label per person: groups from the largest
    (ties: the later group first), each to the fold with the fewest rows so far
    (ties: the lowest fold). Groups of size 0 get fold -1. Tested equal to
    ``GroupKFold`` in ``tests/estimate/test_cv_folds.py``.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    present = np.flatnonzero(sizes > 0)
    if k > len(present):
        raise EstimationError(
            f"cannot make {k} cross-validation folds from {len(present)} groups with rows"
        )
    fold = np.full(len(sizes), -1, dtype=np.int64)
    weight = sizes[present]
    order = np.argsort(weight, kind="stable")[::-1]
    rows = np.zeros(k)
    for g in order:
        lightest = int(np.argmin(rows))
        rows[lightest] += weight[g]
        fold[present[g]] = lightest
    return fold


def cv_result(
    scheme: str, observed: pd.Series, predictions: np.ndarray, note: str = ""
) -> CVResult:
    """Summarise out-of-sample predictions against observed cost."""
    err = observed.to_numpy(dtype=float) - predictions
    return CVResult(
        scheme=scheme,
        rmse=float(np.sqrt(np.mean(err**2))),
        mae=float(np.mean(np.abs(err))),
        predictions=pd.Series(predictions, index=observed.index, name="need_cv"),
        note=note,
    )


def need_fit(observed: pd.Series, need: pd.Series | np.ndarray) -> dict[str, float]:
    """In-sample fit of the need per unit: ``r2_need`` and ``rmse`` against observed cost."""
    obs = observed.to_numpy(dtype=float)
    err = obs - np.asarray(need, dtype=float)
    sst = float(((obs - obs.mean()) ** 2).sum())
    return {
        "r2_need": 1.0 - float((err**2).sum()) / sst if sst > 0 else float("nan"),
        "rmse": float(np.sqrt(np.mean(err**2))),
    }


class FoldNotes:
    """Collects, over the folds, the design columns absent from a training fold."""

    def __init__(self) -> None:
        self.folds = 0
        self.terms: set[str] = set()

    def check(self, x_train: np.ndarray, terms: list[str]) -> None:
        """Record the all-zero columns of one training fold's design matrix."""
        absent = [
            t for t, present in zip(terms, np.any(x_train != 0, axis=0), strict=True) if not present
        ]
        if absent:
            self.folds += 1
            self.terms.update(absent)

    def text(self) -> str:
        """A sentence for :attr:`CVResult.note` (empty if nothing was absent)."""
        if not self.folds:
            return ""
        return (
            f"{self.folds} training fold(s) had no rows with {', '.join(sorted(self.terms))}; "
            "there the effect was taken as the reference level's"
        )


def split_cv_rmse(observed: np.ndarray, exposure: np.ndarray | None = None) -> float | None:
    """Leave-one-out RMSE (kr per unit) of a plain split by ``exposure`` (equal without one).

    Each unit's prediction is its exposure times the cost per exposure of the
    other units, or the mean of the others' cost. None for fewer than 3 units.
    """
    obs = np.asarray(observed, dtype=float)
    n = obs.size
    if n < 3:
        return None
    if exposure is not None:
        e = np.asarray(exposure, dtype=float)
        pred = e * (obs.sum() - obs) / (e.sum() - e)
    else:
        pred = (obs.sum() - obs) / (n - 1)
    return float(np.sqrt(np.mean((obs - pred) ** 2)))


def baseline_cv_rmse(results: NeedResults) -> float | None:
    """Leave-one-out RMSE (kr per unit) of a plain per-exposure split: no indicators at all.

    Each unit's need is its exposure times the cost per exposure of the other
    units (the intercept-only weighted model), or the mean of the others'
    cost without exposure (:func:`split_cv_rmse`). None for person-level models.
    """
    if results.level != "unit":
        return None
    expo = results.exposure
    use = expo is not None and results.spec.per_capita and bool(results.spec.exposure)
    return split_cv_rmse(
        results.observed.to_numpy(dtype=float),
        expo.to_numpy(dtype=float) if use and expo is not None else None,
    )
