"""Citizen-group (cell) models: mean cost per combination of categories.

Persons are grouped by their categorical indicators (age band × sex × living
alone, say); each group's need is its mean cost. This is the saturated dummy
regression — every combination its own parameter — and its fitted values are
exactly the cell means. Cells smaller than ``min_cell_size`` are unreliable:

- ``small_cells = "merge"`` gives a small cell the mean of its smallest
  *parent* group that is large enough, where the parent drops the last
  indicator, then the one before, up to the overall mean;
- ``small_cells = "shrink"`` gives every cell the credibility-weighted mean
  ``(n * own + k * parent) / (n + k)`` with ``k = min_cell_size`` and the parent
  as above (an empirical-Bayes compromise that leaves large cells almost
  unchanged).

Every cell's treatment is reported in :attr:`Core.result` (the cell table).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .cores import Core
from .design import Design, _as_text

__all__ = ["SMALL_CELL_RULES", "fit_cells"]

SMALL_CELL_RULES = ("merge", "shrink")


def _keys(frame: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: _as_text(frame[c]).to_numpy() for c in cols}, index=frame.index)


def _label(cols: tuple[str, ...], key: tuple[str, ...]) -> str:
    if not cols:
        return "all"
    return ", ".join(f"{c}={v}" for c, v in zip(cols, key, strict=True))


class _Hierarchy:
    """Weighted sums by the first L indicators, for L = all ... 0."""

    def __init__(self, keys: pd.DataFrame, y: np.ndarray, w: np.ndarray) -> None:
        self.cols = tuple(keys.columns)
        self.levels: list[dict[tuple[str, ...], tuple[float, float, float, int]]] = []
        base = keys.assign(_w=w, _wy=w * y, _wyy=w * y * y, _n=1)
        for depth in range(len(self.cols), -1, -1):
            by = list(self.cols[:depth])
            if by:
                g = base.groupby(by, sort=True)[["_w", "_wy", "_wyy", "_n"]].sum()
                idx = [k if isinstance(k, tuple) else (k,) for k in g.index]
            else:
                g = base[["_w", "_wy", "_wyy", "_n"]].sum().to_frame().T
                idx = [()]
            self.levels.append(
                {
                    k: (float(r[0]), float(r[1]), float(r[2]), int(r[3]))
                    for k, r in zip(idx, g.to_numpy(), strict=True)
                }
            )

    def stats(self, key: tuple[str, ...], depth: int) -> tuple[float, float, float, int] | None:
        return self.levels[len(self.cols) - depth].get(key[:depth])

    def parent(self, key: tuple[str, ...], min_n: int, below: int) -> tuple[int, float, float, int]:
        """The smallest group above depth ``below`` with at least ``min_n`` persons."""
        for depth in range(below - 1, -1, -1):
            s = self.stats(key, depth)
            if s is not None and (s[3] >= min_n or depth == 0):
                w, wy, wyy, n = s
                mean = wy / w
                var = max(wyy / w - mean * mean, 0.0) * n / max(n - 1, 1)
                return depth, mean, var, n
        raise AssertionError("unreachable")  # pragma: no cover


def fit_cells(
    design: Design,
    frame: pd.DataFrame,
    y: np.ndarray,
    w: np.ndarray | None,
    *,
    min_cell_size: int = 30,
    small_cells: str = "merge",
) -> Core:
    """Fit a cell model: the (merged or shrunk) mean of ``y`` per cell.

    Parameters
    ----------
    design : Design
        Its indicators define the cells (all are used as categories).
    frame : DataFrame
        Persons.
    y : ndarray
        Cost per person.
    w : ndarray, optional
        Person weights.
    min_cell_size : int
        Cells with fewer persons are merged or shrunk.
    small_cells : {"merge", "shrink"}
        What to do with small cells.
    """
    if small_cells not in SMALL_CELL_RULES:
        raise InputError(f"small_cells must be 'merge' or 'shrink'; got {small_cells!r}")
    if min_cell_size < 1:
        raise InputError(f"min_cell_size must be at least 1; got {min_cell_size}")
    cols = design.indicators
    keys = _keys(frame, cols)
    ww = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
    hier = _Hierarchy(keys, np.asarray(y, dtype=float), ww)
    full = len(cols)
    rows: list[dict[str, Any]] = []
    estimate: dict[tuple[str, ...], float] = {}
    for key, (sw, swy, swyy, n) in hier.levels[0].items():
        mean = swy / sw
        var = max(swyy / sw - mean * mean, 0.0) * n / max(n - 1, 1)
        se = float(np.sqrt(var / n))
        rule = "own"
        est = mean
        if small_cells == "merge" and n < min_cell_size:
            depth, pmean, pvar, pn = hier.parent(key, min_cell_size, full)
            est, se = pmean, float(np.sqrt(pvar / pn))
            rule = f"merged into {_label(cols[:depth], key[:depth])} ({pn} persons)"
        elif small_cells == "shrink":
            depth, pmean, _, pn = hier.parent(key, min_cell_size, full)
            z = n / (n + min_cell_size)
            est = z * mean + (1 - z) * pmean
            se = z * se
            rule = f"shrunk {1 - z:.0%} toward {_label(cols[:depth], key[:depth])}"
        estimate[key] = est
        rows.append(
            {
                "cell": _label(cols, key),
                **dict(zip(cols, key, strict=True)),
                "persons": n,
                "mean": mean,
                "sd": float(np.sqrt(var)),
                "estimate": est,
                "std_error": se,
                "small": n < min_cell_size,
                "rule": rule,
            }
        )
    table = pd.DataFrame(rows)
    params = pd.Series(table["estimate"].to_numpy(), index=table["cell"].to_numpy())
    cov = pd.DataFrame(
        np.diag(table["std_error"].to_numpy() ** 2), index=params.index, columns=params.index
    )

    lookup = pd.Series(
        list(estimate.values()), index=pd.MultiIndex.from_tuples(list(estimate), names=cols)
    )

    def predict(f: pd.DataFrame) -> np.ndarray:
        k = _keys(f, cols)
        out = lookup.reindex(pd.MultiIndex.from_frame(k)).to_numpy(dtype=float, copy=True)
        for i in np.flatnonzero(np.isnan(out)):  # combinations not seen in estimation
            out[i] = hier.parent(tuple(k.iloc[i]), min_cell_size, full + 1)[1]
        return out

    n_small = int(table["small"].sum())
    stats = {
        "cells": len(table),
        "small_cells": n_small,
        "persons_in_small_cells": int(table.loc[table["small"], "persons"].sum()),
        "min_cell_size": min_cell_size,
        "df_resid": float(len(y) - len(table)),
    }
    return Core(
        method="cells",
        params=params,
        cov=cov,
        df_inference=float(max(len(y) - len(table), 1)),
        stats=stats,
        result=table,
        predictor=predict,
        design=design,
    )
