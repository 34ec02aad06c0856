"""Register-scale person data: exact fits on collapsed cells and chunked sufficient statistics.

Most criteria of a national need model are categorical (education, family
type, age band, income quartile). A person-level OLS, logit or Poisson model
with categorical indicators depends on the data only through per-cell counts
and sums, so it can be fitted **exactly** on one row per combination of
categories:

* OLS / WLS: the cell means weighted by the (weighted) counts give the
  person-level coefficients; the residual variance, and HC0-HC3 and
  cluster-robust covariances, follow from per-cell sums of y and y²;
* logit: successes out of trials per cell is the same binomial likelihood;
* Poisson: summed counts with the cell's size as exposure is the same
  likelihood.

The heavy step is one ``GROUP BY`` that DuckDB runs out of core on Parquet or
CSV files, reading only the needed columns. Statsmodels fits the cells; the
person-level covariances are assembled from the cell sums (the same formulas
statsmodels uses on persons, checked against it in the tests).

Linear models with continuous indicators cannot be collapsed; for them
:func:`fit_chunked` accumulates ``X'WX`` and ``X'Wy`` over chunks of the file
(and, in a second pass, the robust "meat"), so memory does not grow with the
number of persons.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .._deferred import paused_gc
from ..collapse import (
    CellStore,
    Collapsed,
    DatabaseTable,
    check_persons,
    collapse,
    column_types,
    distinct_values,
)
from ..errors import DataError, InputError, MissingFileError, format_ids
from ..progress import progress
from ..threads import blas_limit
from .build import build_results
from .cores import Core, linear_mean, link_mean
from .cv import cv_result, group_folds
from .design import Design, level_key
from .irls import expit, irls_cells
from .methods import method_info, methods_where
from .person import predictive_ratios
from .results import NeedResults
from .spec import NeedSpec

__all__ = [
    "COLLAPSIBLE_METHODS",
    "ENGINES",
    "Collapsed",
    "collapse",
    "fit_chunked",
    "fit_collapsed",
]

COLLAPSIBLE_METHODS = methods_where(collapsible=True)


# ----------------------------------------------------------------- exact covariances


def robust_cov(
    cov_type: str,
    bread: np.ndarray,
    *,
    meat: np.ndarray | None = None,
    unit_scores: np.ndarray | None = None,
    nobs: int,
) -> np.ndarray:
    """The sandwich ``bread · meat · bread`` with statsmodels' small-sample factors.

    One helper for every register engine (cells and chunks, linear models and GLMs).

    Parameters
    ----------
    cov_type : {"HC0", "HC1", "HC2", "HC3", "cluster"}
        HC1 scales by n / (n − k); cluster by g / (g − 1) · (n − 1) / (n − k),
        as statsmodels does for the persons. HC2/HC3 come in through ``meat``
        (their squared residuals are already divided by the leverage).
    bread : ndarray
        Inverse of X'WX (linear) or of the information matrix (GLMs).
    meat : ndarray, optional
        Σ x x' e² (HC0-HC3).
    unit_scores : ndarray, optional
        Score sums per unit (units × parameters) for ``"cluster"``.
    nobs : int
        Persons.
    """
    k = bread.shape[0]
    if cov_type == "cluster":
        assert unit_scores is not None
        g = unit_scores.shape[0]
        meat = unit_scores.T @ unit_scores
        return bread @ meat @ bread * g / (g - 1) * (nobs - 1) / (nobs - k)
    assert meat is not None
    cov = bread @ meat @ bread
    return cov * nobs / (nobs - k) if cov_type == "HC1" else cov


@dataclass(frozen=True)
class _CellLink:
    """The inverse link of a GLM fitted on cells (what predictions and draws need)."""

    inverse: Any


def _linear_fit(
    spec: NeedSpec, design: Design, col: CellStore, weighted: bool
) -> tuple[pd.Series, pd.DataFrame, dict[str, Any], Any]:
    c = col.cells
    x = design.matrix(c)
    k = x.shape[1]
    sw = c["sw"].to_numpy(float)
    mean = c["swy"].to_numpy(float) / sw
    # weighted least squares on the cells (the person-level normal equations)
    root = np.sqrt(sw)
    beta = np.linalg.lstsq(x * root[:, None], mean * root, rcond=None)[0]
    res = None  # no statsmodels object: its import would double the time of a register fit
    mu = x @ beta
    n_persons = int(c["n"].sum())
    # person-level weighted residual sums of squares, per cell: Σ w (y - μ)²
    sse_c = c["swyy"].to_numpy(float) - 2 * mu * c["swy"].to_numpy(float) + mu**2 * sw
    sse = float(sse_c.sum())
    df_resid = n_persons - k
    xtwx_inv = np.linalg.inv(x.T @ (x * sw[:, None]))
    cov_type = spec.resolved_cov
    if cov_type == "nonrobust":
        cov = xtwx_inv * sse / df_resid
    elif cov_type in ("HC0", "HC1", "HC2", "HC3"):
        # Σ w² e² per cell; leverage of each person in a cell: h = w x' (X'WX)^-1 x
        ee = (
            c["swwyy"].to_numpy(float)
            - 2 * mu * c["swwy"].to_numpy(float)
            + mu**2 * c["sww"].to_numpy(float)
        )
        if cov_type in ("HC2", "HC3"):
            hx = np.einsum("ij,jk,ik->i", x, xtwx_inv, x)
            if weighted:
                raise InputError(
                    f"cov = '{cov_type}' needs each person's leverage, which depends on the "
                    "person's "
                    "weight; with person weights use HC0, HC1 or cluster on collapsed data"
                )
            power = 1 if cov_type == "HC2" else 2
            ee = ee / (1 - hx) ** power
        cov = robust_cov(cov_type, xtwx_inv, meat=x.T @ (x * ee[:, None]), nobs=n_persons)
    elif cov_type == "cluster":
        scores = col.unit_scores(x, mu, "sw")
        cov = robust_cov(cov_type, xtwx_inv, unit_scores=scores, nobs=n_persons)
    else:  # pragma: no cover - checked by NeedSpec
        raise InputError(f"cov {cov_type!r} is not available on collapsed data")
    sst = float(c["swyy"].sum() - c["swy"].sum() ** 2 / sw.sum())
    stats: dict[str, Any] = {
        "r2": 1.0 - sse / sst if sst > 0 else float("nan"),
        "adj_r2": 1.0 - (sse / df_resid) / (sst / (n_persons - 1)) if sst > 0 else float("nan"),
        "df_resid": float(df_resid),
        "scale": sse / df_resid,
    }
    if not weighted:  # Gaussian log-likelihood of the persons, as statsmodels' OLS
        llf = -n_persons / 2 * (np.log(2 * np.pi * sse / n_persons) + 1)
        stats.update(llf=llf, aic=-2 * llf + 2 * k, bic=-2 * llf + k * np.log(n_persons))
    names = design.terms
    return (
        pd.Series(beta, index=names),
        pd.DataFrame(cov, index=names, columns=names),
        stats,
        res,
    )


def _glm_fit(
    spec: NeedSpec, design: Design, col: CellStore, method: str
) -> tuple[pd.Series, pd.DataFrame, dict[str, Any], Any]:
    c = col.cells
    x = design.matrix(c)
    n = c["n"].to_numpy(float)
    sy = c["swy"].to_numpy(float)
    n_persons = int(n.sum())
    binary = method_info(method).counts == "trials"
    if binary and (np.any(sy > n + 1e-9) or not np.allclose(c["swyy"], sy)):
        raise InputError("a collapsed logit needs a 0/1 target")
    # maximum likelihood by Newton steps on the cells (checked against statsmodels' GLM on
    # the persons in the tests); no statsmodels object, whose import would double the time
    beta = irls_cells(x, sy, n, method)
    res = _CellLink(expit if binary else np.exp)
    eta = x @ beta
    mu = res.inverse(eta)
    info = x.T @ (x * (n * (mu * (1 - mu) if binary else mu))[:, None])
    bread = np.linalg.inv(info)
    syy = c["swyy"].to_numpy(float)
    cov_type = spec.resolved_cov
    k = x.shape[1]
    if cov_type == "nonrobust":
        cov = bread
    elif cov_type == "HC0":
        ee = syy - 2 * mu * sy + n * mu**2  # Σ (y - μ)² per cell
        cov = robust_cov(cov_type, bread, meat=x.T @ (x * ee[:, None]), nobs=n_persons)
    elif cov_type == "cluster":
        scores = col.unit_scores(x, mu, "n")
        cov = robust_cov(cov_type, bread, unit_scores=scores, nobs=n_persons)
    else:
        raise InputError(
            f"cov = '{cov_type}' is not available for method '{method}' (statsmodels computes only "
            "the HC0 sandwich for GLMs)"
        )
    if binary:
        # person-level Bernoulli likelihood (the two-column binomial adds log C(n, k) per cell)
        llf = float(np.sum(sy * np.log(mu) + (n - sy) * np.log1p(-mu)))
    else:
        # Σ y log μ - μ - log y! over persons, from the cell sums and Σ log y!
        llf = float(np.sum(sy * eta - n * mu) - col.log_factorial_sum)
    stats: dict[str, Any] = {}
    if binary:
        # a 0/1 target: the saturated log-likelihood is 0, so the deviances are exact on cells
        p0 = float(sy.sum() / n.sum())
        llnull = float(sy.sum() * np.log(p0) + (n.sum() - sy.sum()) * np.log1p(-p0))
        deviance, null_deviance = -2 * llf, -2 * llnull
        ee = syy - 2 * mu * sy + n * mu**2
        stats = {
            "deviance": deviance,
            "null_deviance": null_deviance,
            "deviance_r2": 1 - deviance / null_deviance if null_deviance > 0 else float("nan"),
            "pearson_chi2": float(np.sum(ee / (mu * (1 - mu)))),
            "scale": 1.0,
        }
    stats |= {
        "df_resid": float(n_persons - k),
        "llf": llf,
        **({"pseudo_r2": stats["deviance_r2"]} if "deviance_r2" in stats else {}),
        "aic": -2 * llf + 2 * k,
        "bic": -2 * llf + k * np.log(n_persons),
    }
    names = design.terms
    return pd.Series(beta, index=names), pd.DataFrame(cov, index=names, columns=names), stats, res


def _auc_from_cells(pred: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> float:
    """AUC (Mann-Whitney) from counts of positives and negatives per prediction value."""
    order = np.argsort(pred, kind="stable")
    pred, pos, neg = pred[order], pos[order], neg[order]
    uniq, inverse = np.unique(pred, return_inverse=True)
    p = np.bincount(inverse, weights=pos, minlength=len(uniq))
    q = np.bincount(inverse, weights=neg, minlength=len(uniq))
    below = np.concatenate([[0.0], np.cumsum(q)[:-1]])
    total = p.sum() * q.sum()
    return float(np.sum(p * (below + 0.5 * q)) / total) if total > 0 else float("nan")


def fit_collapsed(
    spec: NeedSpec,
    source: Path | str | pd.DataFrame | DatabaseTable,
    *,
    units: pd.DataFrame | None = None,
    weights: str | None = None,
    memory_limit: str | None = None,
) -> NeedResults:
    """Fit a person-level model exactly on collapsed cells.

    Parameters
    ----------
    spec : NeedSpec
        Person-level specification (``unit_key`` set) with method ``ols``,
        ``logit``/``binomial`` or ``poisson`` and indicators with few distinct
        values (categories, 0/1 flags, grades).
    source : path, DataFrame or DatabaseTable
        Parquet or CSV person file (read out of core by DuckDB), a table, or a
        table in a database server (collapsed on the server).
    units : DataFrame, optional
        Validated units table indexed by unit id (exposure, list of units).
    weights : str, optional
        Person weight column (WLS; ``ols`` only).

    Returns
    -------
    NeedResults
        As :func:`needsmodel.fit` on the persons: the same coefficients and
        standard errors (nonrobust, HC0-HC3 for OLS, HC0 for GLMs, cluster by
        ``spec.cluster`` = unit), the need per unit and the predictive ratios.
        ``data`` holds the unit × cell table, ``extras["cells"]`` the cells.

    Raises
    ------
    InputError
        For a method or covariance that is not exact on collapsed data (with
        the reason).
    """
    method = spec.resolved_method
    if method not in COLLAPSIBLE_METHODS:
        raise InputError(
            f"method '{method}' cannot be fitted exactly on collapsed cells; collapsing is exact "
            "for "
            f"{', '.join(COLLAPSIBLE_METHODS)} (their likelihood depends on the data only through "
            "cell counts and sums)"
        )
    if spec.unit_key is None:
        raise InputError("collapsing is for person-level models; set unit_key")
    if weights is not None and not method_info(method).is_linear:
        raise InputError("person weights are supported for ols (WLS) on collapsed data")
    if spec.resolved_cov == "cluster" and spec.cluster not in (None, spec.unit_key):
        raise InputError(
            f"on collapsed data clusters must be the units ('{spec.unit_key}'); "
            f"got '{spec.cluster}'"
        )
    collapse_args: dict[str, Any] = {
        "unit_key": spec.unit_key,
        "target": spec.target,
        "indicators": list(spec.indicators),
        "weights": weights,
        "memory_limit": memory_limit,
    }
    with CellStore(
        source, **collapse_args, log_factorial=method_info(method).counts == "exposure"
    ) as store:
        design = Design.learn(
            store.cells, spec.indicators, categorical=spec.categorical, reference=spec.reference_map
        )
        # the cell fits and the cross-validation refits are small dense algebra: one BLAS
        # thread, so that a busy second core cannot stall every product
        with blas_limit(len(store.cells), len(design.terms)):
            res = _fit_cells(spec, store, design, units=units, weighted=weights is not None)
    # the unit × cell table is fetched again only when asked for (draws of the keys)
    return replace(res, extras={**res.extras, "unit_cells": _Reload(source, collapse_args)})


@dataclass(frozen=True)
class _Reload:
    """Collapse the source again and return ``(units, unit × cell table)`` (for the NeedMap)."""

    source: Any
    args: dict[str, Any]

    def __call__(self) -> tuple[pd.Index, pd.DataFrame]:
        col = collapse(self.source, **self.args)
        return col.units, col.unit_cells


def _fit_cells(
    spec: NeedSpec,
    store: CellStore,
    design: Design,
    *,
    units: pd.DataFrame | None,
    weighted: bool,
) -> NeedResults:
    """Fit, need per unit, grouped cross-validation and statistics from collapsed cells."""
    method = spec.resolved_method
    cells = store.cells
    if spec.info.is_linear:
        params, cov, stats, res = _linear_fit(spec, design, store, weighted)
        link = None
    else:
        params, cov, stats, res = _glm_fit(spec, design, store, method)
        link = res
    x = design.matrix(cells)

    def predict(frame: pd.DataFrame) -> np.ndarray:
        eta = design.matrix(frame) @ params.to_numpy()
        return eta if link is None else np.asarray(link.inverse(eta))

    mu = predict(cells)
    per_unit = store.unit_sums()
    obs_all = pd.Series(per_unit["swy"], index=store.units)
    count_all = pd.Series(per_unit["n"], index=store.units)
    index = units.index if units is not None else store.units
    if units is not None:
        stray = sorted(set(store.units) - set(units.index))
        if stray:
            raise DataError(
                f"person file has unit id(s) {format_ids(stray)} that are not in the units table"
            )
        present_units = set(store.units)
        empty = [u for u in units.index if u not in present_units]
        if empty:
            raise DataError(f"unit(s) {format_ids(empty)} have no persons in the person file")
    observed = obs_all.reindex(index).rename("observed")
    exposure = (
        units[spec.exposure].astype(float)
        if units is not None and spec.exposure
        else count_all.reindex(index)
    ).rename("exposure")
    # grouped cross-validation by unit, exact: refit on the training units' cells
    n_units = len(store.units)
    n_cells = len(cells)
    k_folds = {"auto": min(10, n_units), "loo": n_units}.get(
        str(spec.cv), min(int(spec.cv) if str(spec.cv).isdigit() else 10, n_units)
    )
    # the folds of the person-level fit (GroupKFold over persons, units in the order of index)
    sizes = count_all.reindex(index).fillna(0).to_numpy(np.int64)
    fold_of = pd.Series(group_folds(sizes, k_folds), index=index)
    fold = fold_of.reindex(store.units).fillna(-1).to_numpy(np.int64)
    by_fold = store.fold_cell_sums(fold, k_folds)
    totals = {c: cells[c].to_numpy(float) for c in ("n", "sw", "swy", "swyy", "npos")}
    mu_fold = np.zeros((k_folds, n_cells))
    sse_oof = 0.0
    for f in range(k_folds):
        agg = {c: totals[c] - by_fold[c][f] for c in totals}
        present = agg["n"] > 0.5
        beta_f = _refit_params(method, x[present], agg, present, params.to_numpy(float))
        eta_f = x @ beta_f
        mu_f = eta_f if link is None else np.asarray(link.inverse(eta_f))
        mu_fold[f] = mu_f
        sse_oof += float(
            np.sum(by_fold["swyy"][f] - 2 * mu_f * by_fold["swy"][f] + mu_f**2 * by_fold["sw"][f])
        )
    need_oof = store.unit_totals(mu, mu_fold)
    need = pd.Series(need_oof[:, 0], index=store.units).reindex(index).rename("need")
    oof = pd.Series(need_oof[:, 1], index=store.units).reindex(index).to_numpy()
    need.index.name = observed.index.name = exposure.index.name = index.name
    cv = cv_result(f"grouped k-fold by unit (k={k_folds})", observed, oof)
    sw = totals["sw"]
    swy = totals["swy"]
    swyy = totals["swyy"]
    sse = float(np.sum(swyy - 2 * mu * swy + mu**2 * sw))
    sst = float(swyy.sum() - swy.sum() ** 2 / sw.sum())
    person_stats: dict[str, Any] = {
        "persons": store.persons,
        "r2_person": 1.0 - sse / sst if sst > 0 else float("nan"),
        "rmse_person": float(np.sqrt(sse / sw.sum())),
        "mean_observed": float(swy.sum() / sw.sum()),
        "mean_predicted": float(np.sum(mu * sw) / sw.sum()),
        "share_positive": float(cells["npos"].sum() / cells["n"].sum()),
        "cells": n_cells,
    }
    npos = totals["npos"]
    if 0 < npos.sum() < cells["n"].sum():
        person_stats["auc"] = _auc_from_cells(mu, npos, totals["n"] - npos)
    for key in ("deviance", "deviance_r2", "pseudo_r2", "llf"):
        if key in stats:
            person_stats[key] = stats[key]
    person_stats["cv_rmse_person"] = float(np.sqrt(sse_oof / sw.sum()))
    ratios = predictive_ratios(
        cells, swy, mu * sw, list(spec.indicators), design, counts=cells["n"].to_numpy()
    )
    core = Core(
        method=method,
        params=params,
        cov=cov,
        df_inference=float(stats["df_resid"]) if spec.info.is_linear else None,
        stats=stats,
        result=res,
        predictor=predict,
        design=design,
        draw_mean=linear_mean if link is None else link_mean(link),
    )
    # one row per unit with persons: the person-level data stay where they were read
    data = pd.DataFrame(
        {"persons": per_unit["n"], "weight": per_unit["sw"], "outcome": per_unit["swy"]},
        index=store.units,
    )
    return build_results(
        spec,
        core,
        need=need,
        observed=observed,
        exposure=exposure,
        data=data,
        fitted=pd.Series(mu, name="fitted"),
        resid=pd.Series(swy / sw - mu, name="resid"),
        weights=pd.Series(sw, name="weight"),
        cv=cv,
        fit_extra={"cells": n_cells, "persons": store.persons},
        person_stats=person_stats,
        predictive_ratios=ratios,
        extras={"collapsed": True, "cells": cells, "units": store.units},
    )


def _refit_params(
    method: str,
    x: np.ndarray,
    agg: dict[str, np.ndarray],
    present: np.ndarray,
    start: np.ndarray,
) -> np.ndarray:
    """Coefficients from summed cell statistics (cross-validation refits).

    GLMs are refitted by Newton steps on the cells, warm-started at the
    full-data coefficients ``start``.
    """
    sw = agg["sw"][present]
    sy = agg["swy"][present]
    if method_info(method).is_linear:
        beta, *_ = np.linalg.lstsq(x * np.sqrt(sw)[:, None], sy / np.sqrt(sw), rcond=None)
        return np.asarray(beta)
    return irls_cells(x, sy, agg["n"][present], method, start=start)


# ----------------------------------------------------------------- chunked linear fits


def fit_chunked(
    spec: NeedSpec,
    source: Path | str,
    *,
    weights: str | None = None,
    chunk_rows: int = 250_000,
    show_progress: bool | None = None,
) -> NeedResults:
    """A person-level linear model from sufficient statistics accumulated over chunks.

    Pass 1 reads the file in chunks (only the needed columns) and accumulates
    ``X'WX``, ``X'Wy``, ``y'Wy`` and each unit's ``Σ w·x``; pass 2 accumulates
    the robust meat (HC0-HC3) or the per-unit scores (cluster). Memory is
    ``O(k² + units · k)`` whatever the number of persons; the coefficients,
    standard errors and need per unit equal statsmodels' on the full data.
    Categorical indicators are found in a first scan of their distinct values.
    """

    if not spec.info.is_linear:
        raise InputError("chunked sufficient statistics are for linear models (ols)")
    if spec.unit_key is None:
        raise InputError("fit_chunked is for person-level models; set unit_key")
    path = Path(source)
    if not path.is_file():
        raise MissingFileError("file not found", path=path)
    # missing values, negative outcomes and numbers that are not finite, as for cells
    check_persons(
        path,
        unit_key=spec.unit_key,
        target=spec.target,
        indicators=list(spec.indicators),
        weights=weights,
    )
    cols = [spec.unit_key, spec.target, *spec.indicators, *([weights] if weights else [])]
    types = column_types(path)
    cat = [c for c in spec.indicators if c in spec.categorical]
    cat += [c for c in spec.indicators if c not in cat and types.get(c) in ("VARCHAR", "STRING")]
    found, total = distinct_values(path, cat)
    levels = {c: sorted(found[c], key=level_key) for c in cat}
    # a small frame holding every level of every categorical indicator, to learn the design
    rows = max([len(v) for v in levels.values()] + [1])
    sample = pd.DataFrame({c: np.resize(np.asarray(levels[c], dtype=object), rows) for c in cat})
    for c in spec.indicators:
        if c not in cat:
            sample[c] = 0.0
    design = Design.learn(sample, spec.indicators, categorical=cat, reference=spec.reference_map)
    k = len(design.terms)
    with paused_gc():
        import pyarrow.dataset as ds

    dataset = ds.dataset(
        str(path), format="parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv"
    )

    def batches() -> Any:
        for batch in dataset.to_batches(columns=cols, batch_size=chunk_rows):
            frame = pa.Table.from_batches([batch]).to_pandas()
            w = frame[weights].to_numpy(float) if weights else np.ones(len(frame))
            yield frame, design.matrix(frame), frame[spec.target].to_numpy(float), w

    xtwx = np.zeros((k, k))
    xtwy = np.zeros(k)
    ytwy = 0.0
    sw = 0.0
    swy = 0.0
    n = 0
    unit_x: dict[str, np.ndarray] = {}
    unit_y: dict[str, float] = {}
    unit_n: dict[str, float] = {}
    unit_sw: dict[str, float] = {}
    # each unit's own X'WX, X'Wy and y'Wy: the grouped cross-validation refits subtract them
    unit_xtwx: dict[str, np.ndarray] = {}
    unit_xtwy: dict[str, np.ndarray] = {}
    unit_ytwy: dict[str, float] = {}
    bar = progress(total=2 * total, desc="reading persons", unit=" persons", enabled=show_progress)
    for frame, x, y, w in batches():
        xtwx += x.T @ (x * w[:, None])
        xtwy += x.T @ (w * y)
        ytwy += float(w @ (y * y))
        sw += float(w.sum())
        swy += float(w @ y)
        n += len(y)
        codes, uniq = pd.factorize(frame[spec.unit_key].astype(str))
        sums = np.zeros((len(uniq), k))
        np.add.at(sums, codes, x * w[:, None])
        ys = np.bincount(codes, weights=w * y, minlength=len(uniq))
        ns = np.bincount(codes, minlength=len(uniq)).astype(float)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
        for i, u in enumerate(uniq):
            unit_x[u] = unit_x.get(u, np.zeros(k)) + sums[i]
            unit_y[u] = unit_y.get(u, 0.0) + ys[i]
            unit_n[u] = unit_n.get(u, 0.0) + ns[i]
            rows_u = order[bounds[i] : bounds[i + 1]]
            xu, wu, yu = x[rows_u], w[rows_u], y[rows_u]
            unit_xtwx[u] = unit_xtwx.get(u, np.zeros((k, k))) + xu.T @ (xu * wu[:, None])
            unit_xtwy[u] = unit_xtwy.get(u, np.zeros(k)) + xu.T @ (wu * yu)
            unit_ytwy[u] = unit_ytwy.get(u, 0.0) + float(wu @ (yu * yu))
            unit_sw[u] = unit_sw.get(u, 0.0) + float(wu.sum())
        bar.update(len(y))
    beta = np.linalg.solve(xtwx, xtwy)
    inv = np.linalg.inv(xtwx)
    sse = ytwy - 2 * beta @ xtwy + beta @ xtwx @ beta
    df_resid = n - k
    cov_type = spec.resolved_cov
    if cov_type == "nonrobust":
        cov = inv * sse / df_resid
        bar.update(total)
    else:
        meat = np.zeros((k, k))
        unit_score: dict[str, np.ndarray] = {}
        for frame, x, y, w in batches():
            e = y - x @ beta
            if cov_type == "cluster":
                codes, uniq = pd.factorize(frame[spec.unit_key].astype(str))
                s = np.zeros((len(uniq), k))
                np.add.at(s, codes, x * (w * e)[:, None])
                for i, u in enumerate(uniq):
                    unit_score[u] = unit_score.get(u, np.zeros(k)) + s[i]
            else:
                ee = (w * e) ** 2
                if cov_type in ("HC2", "HC3"):
                    h = np.einsum("ij,jk,ik->i", x, inv, x) * w
                    ee = ee / (1 - h) ** (1 if cov_type == "HC2" else 2)
                meat += x.T @ (x * ee[:, None])
            bar.update(len(y))
        if cov_type == "cluster":
            scores = np.vstack(list(unit_score.values()))
            cov = robust_cov(cov_type, inv, unit_scores=scores, nobs=n)
        else:
            cov = robust_cov(cov_type, inv, meat=meat, nobs=n)
    bar.close()
    names = design.terms
    params = pd.Series(beta, index=names)
    index = pd.Index(sorted(unit_x), name=spec.unit_key)
    need = pd.Series([float(unit_x[u] @ beta) for u in index], index=index, name="need")
    observed = pd.Series([unit_y[u] for u in index], index=index, name="observed")
    exposure = pd.Series([unit_n[u] for u in index], index=index, name="exposure")
    # grouped k-fold cross-validation by unit, exact: the training folds' X'WX and X'Wy
    # are the totals minus the held-out units' own
    n_units = len(index)
    k_folds = {"auto": min(10, n_units), "loo": n_units}.get(
        str(spec.cv), min(int(spec.cv) if str(spec.cv).isdigit() else 10, n_units)
    )
    fold = group_folds(np.array([unit_n[u] for u in index], dtype=np.int64), k_folds)
    oof = np.zeros(n_units)
    sse_oof = 0.0
    for f in range(k_folds):
        held = [u for u, g in zip(index, fold, strict=True) if g == f]
        a = sum((unit_xtwx[u] for u in held), np.zeros((k, k)))
        b = sum((unit_xtwy[u] for u in held), np.zeros(k))
        yy = sum(unit_ytwy[u] for u in held)
        beta_f = np.linalg.lstsq(xtwx - a, xtwy - b, rcond=None)[0]
        oof[fold == f] = [float(unit_x[u] @ beta_f) for u in held]
        sse_oof += float(yy - 2 * beta_f @ b + beta_f @ a @ beta_f)
    cv = cv_result(f"grouped k-fold by unit (k={k_folds})", observed, oof)
    sst = ytwy - swy**2 / sw
    stats = {
        "r2": 1 - sse / sst,
        "adj_r2": 1 - (sse / df_resid) / (sst / (n - 1)),
        "df_resid": float(df_resid),
        "scale": sse / df_resid,
    }
    cov_df = pd.DataFrame(cov, index=names, columns=names)
    core = Core(
        method="ols",
        params=params,
        cov=cov_df,
        df_inference=float(df_resid),
        stats=stats,
        result=None,
        predictor=lambda f: design.matrix(f) @ beta,
        design=design,
        draw_mean=linear_mean,
    )
    return build_results(
        spec,
        core,
        need=need,
        observed=observed,
        exposure=exposure,
        data=pd.DataFrame(  # one row per unit, as for collapsed fits
            {
                "persons": [unit_n[u] for u in index],
                "weight": [unit_sw[u] for u in index],
                "outcome": [unit_y[u] for u in index],
            },
            index=index,
        ),
        fitted=pd.Series(dtype=float),  # no person's row is kept
        resid=pd.Series(dtype=float),
        cv=cv,
        fit_extra={"persons": n},
        person_stats={
            "persons": n,
            "r2_person": stats["r2"],
            "rmse_person": float(np.sqrt(sse / sw)),
            "cv_rmse_person": float(np.sqrt(sse_oof / sw)),
        },
        extras={"chunked": True},
    )


ENGINES = ("auto", "memory", "duckdb")
