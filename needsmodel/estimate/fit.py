"""Fitting entry point: validate, fit the method, turn predictions into need per unit."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..collapse import DatabaseTable, continuous_columns, read_database
from ..data import check_collinearity, text_columns, validate_persons, validate_units
from ..errors import DataError, InfluenceableIndicatorWarning, InputError, format_ids
from ..reading import read_table
from ..threads import blas_limit, small_algebra
from .build import build_results
from .cells import fit_cells
from .cores import Core, fit_core
from .cv import FoldNotes, cv_result, kfold_predictions, resolve_scheme
from .design import Design
from .linear import LinearProblem
from .nonneg import fit_nonnegative
from .person import person_fit_stats, predictive_ratios
from .register import COLLAPSIBLE_METHODS, ENGINES, fit_chunked, fit_collapsed
from .results import CVResult, NeedResults
from .spec import NeedSpec

__all__ = [
    "fit",
    "fit_persons",
    "fit_units",
    "model_arrays",
    "prepare_units",
    "refit_core",
    "warn_influenceable",
    "weights_unusable",
]


def warn_influenceable(spec: NeedSpec, flagged: tuple[str, ...] = ()) -> None:
    """Warn for every indicator that the unit can influence itself."""
    marked = set(spec.influenceable) | set(flagged)
    for c in spec.indicators:
        if c in marked:
            warnings.warn(
                InfluenceableIndicatorWarning(
                    f"indicator '{c}' is marked as influenceable by the unit: a unit that "
                    "raises it (more referrals, more activity, more spending) raises its own "
                    "allocation, so the model rewards behaviour instead of need. Use indicators "
                    "the unit cannot influence, or justify this one explicitly."
                ),
                stacklevel=3,
            )


def prepare_units(
    spec: NeedSpec,
    units: pd.DataFrame,
    *,
    id: str | None = None,
    also: tuple[str, ...] = (),
    keep: tuple[str, ...] = (),
    path: Path | str | None = None,
    case_sensitive_ids: bool = False,
    estimated: bool = True,
) -> pd.DataFrame:
    """Validate ``units`` for ``spec`` and return it indexed by unit id.

    Parameters
    ----------
    spec : NeedSpec
        The model whose columns are checked. For person-level models only the
        exposure (if any) is checked here.
    units : DataFrame
        The table; with ``id=None`` its index holds the unit ids.
    id : str, optional
        Id column.
    also : tuple of str
        Further numeric columns to check (e.g. the current budget).
    keep : tuple of str
        Further columns to keep as they are (e.g. display names).
    path : Path or str, optional
        File the table came from, for messages.
    case_sensitive_ids : bool
        Accept ids differing only in case as different units.
    estimated : bool
        Whether the model is estimated on these units (given coefficients and
        fixed criteria are not): only then are enough units per parameter and
        indicators that are not collinear required.
    """
    table = units
    if id is None:
        id = str(units.index.name) if units.index.name is not None else "unit"
        table = units.reset_index(names=id) if id not in units.columns else units
    if spec.is_person_level:
        expo = [spec.exposure] if spec.exposure else []
        return validate_units(
            table,
            id=id,
            numeric=[*expo, *also],
            nonnegative=expo,
            exposure=spec.exposure,
            extra=keep,
            path=path,
            case_sensitive_ids=case_sensitive_ids,
        )
    text = text_columns(table, [c for c in spec.indicators if c not in spec.categorical])
    categorical = [*spec.categorical, *text]
    numeric_inds = [c for c in spec.indicators if c not in categorical]
    return validate_units(
        table,
        id=id,
        numeric=[c for c in [*spec.numeric_columns, *also] if c not in text],
        nonnegative=spec.nonnegative_columns,
        exposure=spec.exposure,
        indicators=numeric_inds if not categorical and estimated else (),
        n_params=spec.n_params if estimated else None,
        zero_exposure=not estimated,
        extra=[*spec.extra_columns, *text, *keep],
        path=path,
        case_sensitive_ids=case_sensitive_ids,
    )


def _fit_core(
    spec: NeedSpec,
    design: Design,
    frame: pd.DataFrame,
    y: np.ndarray,
    w: np.ndarray | None,
    groups: np.ndarray | None,
    cov: str | None = None,
    notes: FoldNotes | None = None,
) -> Core:
    """Fit the spec's method; with ``notes`` (a cross-validation refit) be lenient."""
    method = spec.resolved_method
    if spec.info.kind == "cell-means":
        return fit_cells(
            design, frame, y, w, min_cell_size=spec.min_cell_size, small_cells=spec.small_cells
        )
    if notes is not None:
        notes.check(design.matrix(frame), design.terms)
    if spec.constraints == "nonnegative":
        return fit_nonnegative(design, frame, y, w, bootstrap=notes is None)
    return fit_core(
        method,
        design,
        frame,
        y,
        w,
        cov=cov or spec.resolved_cov,
        groups=groups,
        link=spec.link,
        var_power=spec.var_power,
        strict=notes is None,
    )


def _groups(spec: NeedSpec, frame: pd.DataFrame) -> np.ndarray | None:
    if spec.resolved_cov != "cluster" or spec.cluster is None:
        return None
    return np.asarray(pd.factorize(frame[spec.cluster])[0])


def _learn_design(spec: NeedSpec, frame: pd.DataFrame, path: Path | str | None = None) -> Design:
    cells = spec.info.kind == "cell-means"
    design = Design.learn(
        frame,
        spec.indicators,
        categorical=spec.indicators if cells else spec.categorical,
        reference=spec.reference_map,
    )
    if not cells and design.categorical:
        x = design.frame(frame).drop(columns="Intercept")
        check_collinearity(x, list(x.columns), path=path)
    return design


def _unit_cv(
    spec: NeedSpec,
    design: Design,
    units: pd.DataFrame,
    y: np.ndarray,
    w: np.ndarray | None,
    scale: np.ndarray,
    mean: np.ndarray,
    observed: pd.Series,
) -> CVResult:
    n = len(units)
    k = resolve_scheme(spec.cv, n)
    if k is None and spec.info.is_linear:
        prob = LinearProblem(
            x=design.matrix(units),
            y=y,
            w=w if w is not None else np.ones(n),
            scale=scale,
            observed=observed.to_numpy(),
        )
        pred = prob.loo_need(mean)
        if np.isnan(pred).any():  # leverage 1: fall back to explicit refits
            bad = np.flatnonzero(np.isnan(pred))
            pred[bad] = kfold_predictions(prob.fit_predict, n, n)[bad]
        return cv_result("leave-one-out", observed, pred)

    notes = FoldNotes()

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        wt = None if w is None else w[train]
        core = _fit_core(spec, design, units.iloc[train], y[train], wt, None, "nonrobust", notes)
        return core.predict(units.iloc[test]) * scale[test]

    folds = n if k is None else k
    scheme = "leave-one-out" if k is None else f"k-fold (k={k})"
    pred = kfold_predictions(fit_predict, n, folds)
    return cv_result(scheme, observed, pred, notes.text())


def model_arrays(
    spec: NeedSpec, frame: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Target on the model scale, weights and scale of the estimation rows.

    Unit level: ``y = target / exposure`` for per-capita models, weights the
    exposure when the model is weighted, scale the exposure. Person level:
    ``y = target``, no weights, scale 1.
    """
    target = frame[spec.target].to_numpy(dtype=float)
    n = len(frame)
    if spec.is_person_level:
        return target, None, np.ones(n)
    expo = frame[spec.exposure].to_numpy(dtype=float) if spec.exposure else None
    scale = expo if (spec.per_capita and expo is not None) else np.ones(n)
    return target / scale, (expo if spec.weighted else None), scale


def refit_core(results: NeedResults, rows: np.ndarray, notes: FoldNotes | None = None) -> Core:
    """Refit a fitted model's method on some of its rows (bootstrap, cross-validation).

    Point estimates only (non-robust covariance); a category absent from the
    rows takes the reference level's value, recorded in ``notes``.
    """
    frame = results.data.iloc[rows]
    y, w, _ = model_arrays(results.spec, frame)
    return _fit_core(
        results.spec, results.design, frame, y, w, None, "nonrobust", notes or FoldNotes()
    )


@small_algebra
def fit_units(spec: NeedSpec, units: pd.DataFrame) -> NeedResults:
    """Fit a unit-level model to a validated units table (indexed by unit id)."""
    design = _learn_design(spec, units)
    observed = units[spec.target].astype(float).rename("observed")
    n = len(units)
    y, w, scale = model_arrays(spec, units)
    if n < len(design.terms) + 2:
        raise DataError(
            f"{n} units is too few for a model with {len(design.terms)} parameters; "
            f"need at least {len(design.terms) + 2}"
        )
    core = _fit_core(spec, design, units, y, w, _groups(spec, units))
    mean = core.predict(units)
    need = pd.Series(mean * scale, index=units.index, name="need")
    cv = _unit_cv(spec, design, units, y, w, scale, mean, observed)
    return _results(
        spec,
        core,
        design,
        units,
        y,
        mean,
        need,
        observed,
        cv,
        exposure=units[spec.exposure].astype(float) if spec.exposure else None,
        weights=pd.Series(w, index=units.index, name="weight") if w is not None else None,
    )


def _results(
    spec: NeedSpec,
    core: Core,
    design: Design,
    data: pd.DataFrame,
    y: np.ndarray,
    mean: np.ndarray,
    need: pd.Series,
    observed: pd.Series,
    cv: CVResult,
    **fields: Any,
) -> NeedResults:
    """The results object of a fitted core: estimates, fit per unit, rows' fitted values."""
    return build_results(
        spec,
        core,
        need=need,
        observed=observed,
        data=data,
        fitted=pd.Series(mean, index=data.index, name="fitted"),
        resid=pd.Series(y - mean, index=data.index, name="resid"),
        cv=cv,
        design=design,
        refitter=refit_core,
        **fields,
    )


def _person_folds(spec: NeedSpec, n_units: int) -> int:
    if spec.cv == "loo":
        return n_units
    if spec.cv == "auto":
        return min(10, n_units)
    return min(int(spec.cv), n_units)


def fit_persons(
    spec: NeedSpec,
    persons: pd.DataFrame,
    *,
    units: pd.DataFrame | None = None,
    path: Path | str | None = None,
) -> NeedResults:
    """Fit a person-level model and sum each person's prediction to their unit.

    Parameters
    ----------
    spec : NeedSpec
        Specification with ``unit_key`` set.
    persons : DataFrame
        One row per person: the unit key, the target and the indicators.
    units : DataFrame, optional
        Validated units table indexed by unit id (for the exposure and the list
        of units). Without it the units are those that occur among the persons
        and the exposure is the number of persons.
    path : Path or str, optional
        File of the person table, for messages.
    """
    assert spec.unit_key is not None
    key = spec.unit_key
    categorical = spec.indicators if spec.info.kind == "cell-means" else spec.categorical
    text = text_columns(persons, [c for c in spec.indicators if c not in categorical])
    numeric = [spec.target, *(c for c in spec.indicators if c not in categorical and c not in text)]
    extra = [*categorical, *text, *spec.extra_columns]

    data = validate_persons(
        persons,
        unit_key=key,
        numeric=numeric,
        nonnegative=[spec.target],
        categorical=extra,
        path=path,
    )
    unit_of = data[key].to_numpy()
    if units is not None:
        known = set(units.index)
        stray = sorted(set(unit_of) - known)
        if stray:
            raise DataError(
                f"person table has unit id(s) {format_ids(stray)} in '{key}' that are not "
                "in the units table",
                path=path,
                column=key,
                ids=stray,
            )
        empty = [u for u in units.index if u not in set(unit_of)]
        if empty:
            raise DataError(
                f"unit(s) {format_ids(empty)} have no persons in the person table, so their need "
                "cannot be estimated",
                path=path,
                column=key,
                ids=empty,
            )
        index = units.index
    else:
        index = pd.Index(list(dict.fromkeys(unit_of)), name=key)
    design = _learn_design(spec, data, path)
    y = data[spec.target].to_numpy(dtype=float)
    groups = _groups(spec, data)
    core = _fit_core(spec, design, data, y, None, groups)
    mean = core.predict(data)

    def to_units(values: np.ndarray) -> pd.Series:
        return pd.Series(values).groupby(unit_of).sum().reindex(index).astype(float)

    need = to_units(mean).rename("need")
    observed = to_units(y).rename("observed")
    need.index.name = observed.index.name = index.name
    if units is not None and spec.exposure:
        exposure = units[spec.exposure].astype(float)
    else:
        exposure = pd.Series(unit_of).value_counts().reindex(index).astype(float)
        exposure.index.name = index.name
    exposure = exposure.rename("exposure")

    k = _person_folds(spec, len(index))
    codes = pd.Index(index).get_indexer(unit_of)

    notes = FoldNotes()

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        c = _fit_core(spec, design, data.iloc[train], y[train], None, None, "nonrobust", notes)
        return c.predict(data.iloc[test])

    oof = kfold_predictions(fit_predict, len(data), k, groups=codes)
    cv = cv_result(
        f"grouped k-fold by unit (k={k})", observed, to_units(oof).to_numpy(), notes.text()
    )
    pstats = person_fit_stats(y, mean, core.stats)
    pstats["cv_rmse_person"] = float(np.sqrt(np.mean((y - oof) ** 2)))
    return _results(
        spec,
        core,
        design,
        data,
        y,
        mean,
        need,
        observed,
        cv,
        exposure=exposure,
        weights=None,
        person_stats=pstats,
        predictive_ratios=predictive_ratios(data, y, mean, list(spec.indicators), design),
    )


def fit(
    spec: NeedSpec,
    data: pd.DataFrame | Path | str | DatabaseTable,
    *,
    id: str | None = None,
    units: pd.DataFrame | None = None,
    engine: str = "auto",
) -> NeedResults:
    """Fit a need model.

    Parameters
    ----------
    spec : NeedSpec
        What to estimate. With ``spec.unit_key`` set, ``data`` is a person table
        and the model is fitted on persons and summed to units.
    data : DataFrame or path
        The units table (one row per unit; its index holds the unit ids unless
        ``id`` names a column), or the person table for person-level models —
        also as the path of a Parquet or CSV person file, read out of core (see
        :mod:`needsmodel.register`).
    id : str, optional
        Id column of the units table (``units`` for person-level models).
    units : DataFrame, optional
        Person-level models: the units table, for the list of units and the
        exposure.
    engine : {"auto", "memory", "duckdb"}
        For a person file: ``"duckdb"`` fits OLS, logit and Poisson exactly on
        collapsed cells (linear models with continuous indicators from chunked
        sufficient statistics); ``"memory"`` reads the needed columns and fits
        on persons; ``"auto"`` chooses DuckDB for those methods.

    Returns
    -------
    NeedResults
        Coefficients, fit statistics and the predicted need per unit.

    Raises
    ------
    DataError
        If a table is not usable for the model.
    EstimationError
        If the model cannot be estimated (no convergence, separation).

    Warns
    -----
    InfluenceableIndicatorWarning
        If an indicator is marked as influenceable by the unit.

    Examples
    --------
    >>> import needsmodel as nm
    >>> units = nm.datasets.load_sample()
    >>> spec = nm.NeedSpec("special_ed_cost", ["parents_low_education"], exposure="pupils")
    >>> res = nm.fit(spec, units, id="district")
    >>> round(float(res.need.sum()) / float(units["special_ed_cost"].sum()), 6)
    1.0
    """
    warn_influenceable(spec)
    if isinstance(data, str | Path | DatabaseTable):
        if not spec.is_person_level:
            raise InputError(
                "a file path is read as a person file; set unit_key (or read units first)"
            )
        clean_units = prepare_units(spec, units, id=id) if units is not None else None
        return fit_file(spec, data, units=clean_units, engine=engine)
    if spec.is_person_level:
        clean_units = prepare_units(spec, units, id=id) if units is not None else None
        with blas_limit(len(data), len(spec.indicators) + 1):
            return fit_persons(spec, data, units=clean_units)
    return fit_units(spec, prepare_units(spec, data, id=id))


def fit_file(
    spec: NeedSpec,
    path: Path | str | DatabaseTable,
    *,
    units: pd.DataFrame | None = None,
    engine: str = "auto",
    weights: str | None = None,
    memory_limit: str | None = None,
) -> NeedResults:
    """Fit a person-level model to a Parquet or CSV person file.

    ``engine = "duckdb"`` (or ``"auto"`` for OLS, logit and Poisson): exact fit on
    collapsed cells, or — for OLS with continuous indicators — from chunked
    sufficient statistics. ``engine = "memory"``: read only the needed columns
    and fit on persons (any method). A :class:`~needsmodel.collapse.DatabaseTable`
    is collapsed on its server; with ``"memory"`` (or a method that needs the
    persons) its needed columns are read into memory.
    """
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(map(repr, ENGINES))}; got {engine!r}")
    method = spec.resolved_method
    fast = method in COLLAPSIBLE_METHODS
    if engine == "duckdb" and not fast:
        raise InputError(
            f"engine 'duckdb' fits {', '.join(COLLAPSIBLE_METHODS)} exactly on collapsed cells; "
            "method "
            f"'{method}' needs the persons: use engine = 'memory'"
        )
    if weights is not None and (engine == "memory" or not fast):
        raise InputError(weights_unusable(weights, method, engine))
    needed = [c for c in (spec.unit_key, spec.target, *spec.indicators, spec.cluster, weights) if c]
    if isinstance(path, DatabaseTable):
        if engine == "memory" or not fast:
            persons = read_database(path, list(dict.fromkeys(needed)), id=str(spec.unit_key))
            with blas_limit(len(persons), len(spec.indicators) + 1):
                return fit_persons(spec, persons, units=units)
        return fit_collapsed(spec, path, units=units, weights=weights, memory_limit=memory_limit)
    p = Path(path)
    if engine == "memory" or not fast:
        persons = read_table(
            p, id=spec.unit_key, columns=[spec.target], usecols=list(dict.fromkeys(needed))
        )
        with blas_limit(len(persons), len(spec.indicators) + 1):
            return fit_persons(spec, persons, units=units, path=p)
    numeric = [c for c in spec.indicators if c not in spec.categorical]
    if spec.info.is_linear and continuous_columns(p, numeric):
        return fit_chunked(spec, p, weights=weights)
    return fit_collapsed(spec, p, units=units, weights=weights, memory_limit=memory_limit)


#: Person files above this size go through DuckDB (when the method allows it).
DUCKDB_BYTES = 50_000_000


def weights_unusable(weights: str, method: str, engine: str) -> str:
    """Why person weights cannot be used with this method and engine."""
    how = (
        f"engine '{engine}' fits the persons in memory without them"
        if engine == "memory"
        else f"method '{method}' needs the persons, and is fitted without them"
    )
    return (
        f"person weights ('{weights}') are fitted on collapsed cells or in chunks, for ols with "
        f"engine 'auto' or 'duckdb'; {how}"
    )


def choose_engine(
    spec: NeedSpec, path: Path | DatabaseTable, engine: str = "auto", weights: str | None = None
) -> str:
    """Where a person file is fitted: ``"duckdb"`` (exact on cells) or ``"memory"``.

    ``"auto"`` collapses Parquet files and CSV files above 50 MB when the method
    can be collapsed, and every file with person ``weights`` (only the cells
    and the chunked sums use them); the one place the engine is chosen.
    """
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(map(repr, ENGINES))}; got {engine!r}")
    if engine != "auto":
        return engine
    if spec.resolved_method not in COLLAPSIBLE_METHODS:
        return "memory"
    if isinstance(path, DatabaseTable) or weights is not None:  # collapse (on the server)
        return "duckdb"
    big = path.suffix.lower() in (".parquet", ".pq") or path.stat().st_size > DUCKDB_BYTES
    return "duckdb" if big else "memory"
