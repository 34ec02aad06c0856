"""One builder of :class:`~needsmodel.estimate.results.NeedResults` for every engine.

Unit-level and person-level fits in memory, fits on collapsed cells, chunked
sufficient statistics and given coefficients all hand their fitted core and
their per-unit vectors to :func:`build_results`, so that every results object
keeps the same invariants: estimates, standard errors and covariance from the
core, the need index named like the units, and fit statistics in one order
(``nobs``, ``n_params``, the core's own, the need's in-sample fit, the
cross-validated errors, then what the engine adds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from .cores import Core
from .cv import need_fit
from .results import CVResult, NeedResults
from .spec import NeedSpec

__all__ = ["build_results"]


def build_results(
    spec: NeedSpec,
    core: Core,
    *,
    need: pd.Series,
    observed: pd.Series,
    data: pd.DataFrame,
    fitted: pd.Series,
    resid: pd.Series,
    cv: CVResult | None,
    exposure: pd.Series | None = None,
    weights: pd.Series | None = None,
    fit_extra: Mapping[str, Any] | None = None,
    person_stats: Mapping[str, Any] | None = None,
    predictive_ratios: pd.DataFrame | None = None,
    extras: Mapping[str, Any] | None = None,
    refitter: Callable[..., Any] | None = None,
    df_inference: float | None = None,
    design: Any | None = None,
) -> NeedResults:
    """The results object of a fitted core.

    Parameters
    ----------
    spec, core
        The specification and the fitted model on its own scale.
    need, observed, exposure : Series
        Per unit, indexed by unit id. The need's in-sample fit is computed
        when every observed value is known.
    data, fitted, resid, weights
        The estimation rows and their fitted values (cells, persons or units;
        empty when no row is kept).
    cv : CVResult or None
        Cross-validation at unit level (``None`` for given coefficients).
    fit_extra : mapping, optional
        Statistics the engine adds after the common ones (cells, persons).
    df_inference : float, optional
        Degrees of freedom of the t distribution; the core's when not given.
    """
    fit_stats: dict[str, Any] = {"nobs": len(observed), "n_params": len(core.params)}
    fit_stats.update(core.stats)
    if observed.notna().all():
        fit_stats.update(need_fit(observed, need))
    if cv is not None:
        fit_stats.update(cv_rmse=cv.rmse, cv_mae=cv.mae)
    fit_stats.update(fit_extra or {})
    return NeedResults(
        spec=spec,
        method=core.method,
        params=core.params.rename("estimate"),
        bse=core.bse.rename("std_error"),
        cov_params=core.cov,
        df_inference=df_inference if df_inference is not None else core.df_inference,
        need=need,
        observed=observed,
        exposure=exposure,
        fitted=fitted,
        resid=resid,
        weights=weights,
        fit_stats=fit_stats,
        cv=cv,
        design=design if design is not None else core.design,
        data=data,
        core=core,
        person_stats=person_stats,
        predictive_ratios=predictive_ratios,
        extras=dict(extras or {}),
        refitter=refitter,
    )
