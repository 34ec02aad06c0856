"""Person-level fit: statistics per person and predictive ratios by subgroup.

Person-level need models are judged the way health risk-equalisation models
are: R² per person is low and that is normal; what matters is that the
predictions summed over any group of persons match what the group actually
costs. The *predictive ratio* of a group is Σ predicted / Σ observed; 1 means
the group is funded exactly at its cost, below 1 under-funded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .design import Design, _as_text, level_key

__all__ = ["person_fit_stats", "predictive_ratios"]


def person_fit_stats(y: np.ndarray, mean: np.ndarray, core_stats: dict[str, Any]) -> dict[str, Any]:
    """Fit statistics at person level.

    ``r2_person`` is ``1 - SSE/SST`` of the expected value against the observed
    target; ``auc`` (for a 0/1 target or the any-cost part of a two-part model)
    is the area under the ROC curve of the prediction for ``target > 0``.
    """
    y = np.asarray(y, dtype=float)
    err = y - mean
    sst = float(((y - y.mean()) ** 2).sum())
    out: dict[str, Any] = {
        "persons": len(y),
        "r2_person": 1.0 - float((err**2).sum()) / sst if sst > 0 else float("nan"),
        "rmse_person": float(np.sqrt(np.mean(err**2))),
        "mean_observed": float(y.mean()),
        "mean_predicted": float(mean.mean()),
        "share_positive": float((y > 0).mean()),
    }
    positive = y > 0
    if 0 < positive.sum() < len(y):
        from sklearn.metrics import roc_auc_score

        out["auc"] = float(roc_auc_score(positive, mean))
    for key in ("deviance", "deviance_r2", "pseudo_r2", "deviance_any", "deviance_cost", "llf"):
        if key in core_stats:
            out[key] = core_stats[key]
    return out


def _groups(data: pd.DataFrame, column: str, design: Design | None) -> pd.Series:
    col = data[column]
    if design is not None and column in design.levels:
        return _as_text(col)
    if pd.api.types.is_numeric_dtype(col):
        values = pd.unique(col)
        if len(values) <= 10:
            return _as_text(col)
        q = pd.qcut(col, 5, duplicates="drop")
        return q.astype(str)
    return col.astype(str)


def predictive_ratios(
    data: pd.DataFrame,
    observed: np.ndarray,
    predicted: np.ndarray,
    by: Sequence[str],
    design: Design | None = None,
    counts: np.ndarray | None = None,
) -> pd.DataFrame:
    """Σ predicted / Σ observed for every level of every column in ``by``.

    Categorical columns and numeric columns with at most 10 distinct values
    are grouped by value; other numeric columns by quintile.

    ``counts`` gives the persons each row stands for (collapsed cells); by
    default every row is one person.

    Returns
    -------
    DataFrame
        Columns ``group, level, persons, observed, predicted, ratio``; the
        first row is the whole population (``group = "all"``).
    """
    obs = np.asarray(observed, dtype=float)
    pred = np.asarray(predicted, dtype=float)
    cnt = np.ones(len(data)) if counts is None else np.asarray(counts, dtype=float)
    rows: list[dict[str, Any]] = [
        {
            "group": "all",
            "level": "all",
            "persons": int(cnt.sum()),
            "observed": float(obs.sum()),
            "predicted": float(pred.sum()),
        }
    ]
    for column in by:
        codes, levels = pd.factorize(_groups(data, column, design))
        kept = codes >= 0  # a missing level forms no group, as in a groupby
        sums = {
            name: np.bincount(codes[kept], weights=values[kept], minlength=len(levels))
            for name, values in (("persons", cnt), ("observed", obs), ("predicted", pred))
        }
        for i in sorted(range(len(levels)), key=lambda j: level_key(str(levels[j]))):
            rows.append(
                {
                    "group": column,
                    "level": str(levels[i]),
                    "persons": int(sums["persons"][i]),
                    "observed": float(sums["observed"][i]),
                    "predicted": float(sums["predicted"][i]),
                }
            )
    out = pd.DataFrame(rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ratio"] = np.where(out["observed"] > 0, out["predicted"] / out["observed"], np.nan)
    return out
