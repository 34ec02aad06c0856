"""The whole pipeline: config → data → need model → allocation → outputs."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .allocation import (
    Allocation,
    CriteriaWeights,
    allocate,
    criteria_weights,
    key_uncertainty,
)
from .allocation.criteria import ADDITIVE_METHODS, intercept_need
from .collapse import DatabaseTable, check_persons, read_database
from .config import AllocationConfig, Config, check_config, dump_toml, load_config
from .data import read_table, validate_persons
from .dictionary import DataDictionary, read_dictionary
from .errors import ConfigError, DataError, format_ids
from .estimate import NeedResults, NeedSpec, fit_persons, fit_units, prepare_units
from .estimate.fit import choose_engine, fit_file, warn_influenceable, weights_unusable
from .estimate.given import GivenCoefficients, apply_persons, apply_units, read_coefficients
from .estimate.retest import Retest, retest
from .estimate.years import YearsResults, fit_years, year_labels
from .i18n import currency
from .outputs import file_sha256
from .plausibility import check_model
from .reading import check_text
from .runresult import RunResult

__all__ = ["RunResult", "file_sha256", "reallocate", "run", "validate"]


def _as_config(config: Config | Path | str) -> Config:
    cfg = config if isinstance(config, Config) else load_config(config)
    _check_files(cfg)
    return cfg


def _check_files(cfg: Config) -> None:
    """Every file the config names exists and is a regular file; else the key is named."""
    d = cfg.data
    for key, path in (
        ("units", d.units),
        ("persons", d.persons),
        ("dictionary", d.dictionary),
        ("exposure_forecast", d.exposure_forecast),
        ("coefficients", cfg.model.coefficients),
        ("coefficients_cov", cfg.model.coefficients_cov),
    ):
        if path is None:
            continue
        section = "model" if key.startswith("coefficients") else "data"
        if not path.exists():
            raise ConfigError(f"file not found: {path}", path=cfg.path, key=f"{section}.{key}")
        if not path.is_file():
            what = "a folder" if path.is_dir() else "not a regular file (a device or a pipe)"
            raise ConfigError(
                f"{path} is {what}, expected a data file",
                path=cfg.path,
                key=f"{section}.{key}",
            )


def _spec(cfg: Config) -> NeedSpec:
    return cfg.model.spec(unit_key=cfg.data.unit_key)


def _also(cfg: Config) -> tuple[str, ...]:
    return (cfg.allocation.current,) if cfg.allocation.current else ()


def _keep(cfg: Config) -> tuple[str, ...]:
    return (cfg.data.label,) if cfg.data.label else ()


def _cost_known(spec: NeedSpec, table: pd.DataFrame) -> bool:
    """Whether ``table`` holds costs: the target column is there and not entirely empty."""
    if spec.target not in table.columns:
        return False
    col = table[spec.target]
    if col.dtype == object:
        col = col.where(col.astype(str).str.strip() != "", np.nan)
    return bool(col.notna().any())


def _units(
    cfg: Config, spec: NeedSpec, table: pd.DataFrame, dictionary: DataDictionary | None
) -> tuple[pd.DataFrame, bool]:
    """The validated units table and whether it holds this year's costs.

    ``run`` and ``validate`` both come through here, so they accept the same
    tables. An applied model (given coefficients, fixed criteria) needs no
    cost column: next year's data do not have next year's costs, and an empty
    column counts as absent. An estimated model needs it.
    """
    applied = cfg.applied
    known = True
    if applied and not spec.is_person_level:
        known = _cost_known(spec, table)
        if not known:  # a stand-in for validation; never shown (observed is NaN)
            table = table.drop(columns=[spec.target], errors="ignore").assign(**{spec.target: 0.0})
    units = _prepare(cfg, spec, table, estimated=not applied)
    _check_dictionary(cfg, spec, units, dictionary, with_target=known)
    return units, known


def _prepare(
    cfg: Config, spec: NeedSpec, table: pd.DataFrame, estimated: bool = True
) -> pd.DataFrame:
    """The validated units table (ids, labels and used columns checked)."""
    d = cfg.data
    if d.label is not None and d.label in table.columns:
        check_text(table[d.label], d.label, d.units)
    return prepare_units(
        spec,
        table,
        id=d.id,
        also=_also(cfg),
        keep=_keep(cfg),
        path=d.units,
        case_sensitive_ids=d.case_sensitive_ids,
        estimated=estimated,
    )


def _read_units(cfg: Config, spec: NeedSpec) -> pd.DataFrame:
    """The units table as read (numbers converted, nothing validated yet)."""
    numeric = [] if spec.is_person_level else spec.numeric_columns
    if spec.is_person_level and spec.exposure:
        numeric = [spec.exposure]
    return read_table(
        cfg.data.units,
        id=cfg.data.id,
        columns=[*numeric, *_also(cfg)],
        options=cfg.data.read_options(),
    )


def _use_duckdb(cfg: Config, spec: NeedSpec) -> bool:
    """Whether persons are fitted out of core (the engine is chosen in estimation)."""
    source = cfg.data.person_source
    if source is None:
        return False
    return choose_engine(spec, source, cfg.data.engine, cfg.data.weights) == "duckdb"


def _check_weights(cfg: Config, spec: NeedSpec) -> None:
    """Refuse person weights that an estimation on the persons in memory would leave out."""
    d = cfg.data
    estimated = not cfg.applied and d.year is None
    if d.weights is not None and estimated and not _use_duckdb(cfg, spec):
        raise ConfigError(
            weights_unusable(d.weights, spec.resolved_method, d.engine),
            path=cfg.path,
            key="data.weights",
        )


def _read_persons(cfg: Config, spec: NeedSpec, target_optional: bool = False) -> pd.DataFrame:
    source = cfg.data.person_source
    assert source is not None
    numeric = [spec.target, *(c for c in spec.indicators if c not in spec.categorical)]
    used = [spec.unit_key, *numeric, *spec.indicators, spec.cluster, cfg.data.weights]
    if isinstance(source, DatabaseTable):
        if target_optional:
            used = [c for c in used if c != spec.target]
        return read_database(source, [c for c in dict.fromkeys(used) if c], id=str(spec.unit_key))
    if target_optional:  # given coefficients: the persons' cost is not needed
        return read_table(source, id=cfg.data.unit_key, options=cfg.data.read_options())
    return read_table(
        source,
        id=cfg.data.unit_key,
        columns=numeric,
        options=cfg.data.read_options(),
        usecols=[c for c in dict.fromkeys(used) if c],
    )


def _allocation_rows(cfg: Config, table: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """The allocation year and its rows of a units table with several years."""
    col = str(cfg.data.year)
    if col not in table.columns:
        raise DataError(f"year column '{col}' not found", path=cfg.data.units, column=col)
    years = year_labels(table[col])
    year = str(cfg.data.allocation_year) if cfg.data.allocation_year is not None else None
    if year is None:
        year = max(years.dropna().unique(), key=lambda v: (len(v), v))
    rows = table.loc[years == year]
    if rows.empty:
        raise DataError(
            f"allocation_year {year} does not occur in column '{col}'",
            path=cfg.data.units,
            column=col,
        )
    return year, rows


@dataclass(frozen=True)
class _Estimate:
    units: pd.DataFrame
    results: NeedResults
    need: pd.Series
    exposure: pd.Series | None
    years: YearsResults | None
    year: str | None = None
    retest: Retest | None = None
    #: The exposure forecast as read (units × years), kept so a re-allocation does not read it
    forecast: pd.DataFrame | None = None


def _dictionary(cfg: Config) -> DataDictionary | None:
    if cfg.data.dictionary is None:
        return None
    return read_dictionary(cfg.data.dictionary, cfg.data.read_options())


def _check_dictionary(
    cfg: Config,
    spec: NeedSpec,
    units: pd.DataFrame,
    dictionary: DataDictionary | None,
    with_target: bool = True,
) -> None:
    if dictionary is None:
        return
    used = [*spec.numeric_columns, *_also(cfg)] if not spec.is_person_level else list(_also(cfg))
    if not with_target:
        used = [c for c in used if c != spec.target]
    dictionary.check(units, used, path=cfg.data.units)


def _estimate(
    cfg: Config, spec: NeedSpec, table: pd.DataFrame, dictionary: DataDictionary | None = None
) -> _Estimate:
    d = cfg.data
    flagged = dictionary.influenceable if dictionary is not None else ()
    if d.year is not None:
        warn_influenceable(spec, flagged)
        year, rows = _allocation_rows(cfg, table)
        units = _prepare(cfg, spec, rows)
        _check_dictionary(cfg, spec, units, dictionary)
        yrs = fit_years(replace(spec, influenceable=()), table, year=d.year, id=d.id)
        need = yrs.need_for(year).reindex(units.index)
        expo = units[spec.exposure].astype(float) if spec.exposure else None
        return _Estimate(units, yrs.pooled, need, expo, yrs, year)
    if cfg.model.coefficients is not None:
        return _apply_given(cfg, spec, table, dictionary, flagged)
    if cfg.allocation.criteria is not None or cfg.allocation.criteria_amounts is not None:
        return _fixed_criteria(cfg, spec, table, dictionary, flagged)
    units = _prepare(cfg, spec, table)
    _check_dictionary(cfg, spec, units, dictionary)
    warn_influenceable(spec, flagged)
    source = d.person_source
    if source is not None:
        if _use_duckdb(cfg, spec):
            res = fit_file(
                spec,
                source,
                units=units,
                engine="duckdb",
                weights=d.weights,
                memory_limit=d.memory_limit,
            )
        else:
            _check_weights(cfg, spec)
            persons = _read_persons(cfg, spec)
            res = fit_persons(spec, persons, units=units, path=d.persons)
    else:
        res = fit_units(spec, units)
    return _Estimate(units, res, res.need, res.exposure, None)


def _apply_given(
    cfg: Config,
    spec: NeedSpec,
    table: pd.DataFrame,
    dictionary: DataDictionary | None,
    flagged: tuple[str, ...],
) -> _Estimate:
    """Need from given coefficients (``[model] coefficients``): applied, not estimated."""
    m, d = cfg.model, cfg.data
    assert m.coefficients is not None
    given = read_coefficients(m.coefficients, m.coefficients_cov)
    units, known = _units(cfg, spec, table, dictionary)
    warn_influenceable(spec, flagged)
    if d.person_level:
        persons = _read_persons(cfg, spec, target_optional=True)
        known = _cost_known(spec, persons)
        if not known:
            persons = persons.drop(columns=[spec.target], errors="ignore")
        res = apply_persons(spec, given, persons, units, path=d.persons, weights=d.weights)
    else:
        res = apply_units(spec, given, units, observed=known)
    check = None
    if known and res.has_costs:  # this year's costs: re-test the frozen model against a refit
        plain = replace(cfg, model=replace(m, coefficients=None, coefficients_cov=None))
        refit = _estimate(plain, spec, table, dictionary).results
        check = retest(res, refit)
    return _Estimate(units, res, res.need, res.exposure, None, retest=check)


def _fixed_criteria(
    cfg: Config,
    spec: NeedSpec,
    table: pd.DataFrame,
    dictionary: DataDictionary | None,
    flagged: tuple[str, ...],
) -> _Estimate:
    """Need from fixed criteria (``[allocation] criteria`` or ``criteria_amounts``).

    Weights in % of the socioeconomic pool become kroner per counted person in
    proportion (weight / counted persons); kroner per person are used as they
    are. Need is then Σ criteria kroner × counted persons, an additive model
    with these coefficients and no intercept. When the data hold the target,
    the model is also estimated, so the estimated weights can be shown next
    to the fixed ones.
    """
    a = cfg.allocation
    units, known = _units(cfg, spec, table, dictionary)
    warn_influenceable(spec, flagged)
    scale = (
        units[spec.exposure].to_numpy(dtype=float)
        if spec.exposure and spec.per_capita
        else np.ones(len(units))
    )
    counts = {c: float(np.sum(scale * units[c].to_numpy(dtype=float))) for c in spec.indicators}
    if a.criteria is not None:
        zero = [c for c in spec.indicators if counts[c] <= 0 and a.criteria[c] > 0]
        if zero:
            raise DataError(
                f"criterion {format_ids(zero)} counts no persons, so it cannot carry a weight",
                path=cfg.data.units,
                column=zero[0],
            )
        rates = {c: a.criteria[c] / counts[c] if counts[c] > 0 else 0.0 for c in spec.indicators}
        source = "[allocation] criteria"
    else:
        assert a.criteria_amounts is not None
        rates = dict(a.criteria_amounts)
        source = "[allocation] criteria_amounts"
    params = pd.Series({"Intercept": 0.0, **rates}, name="estimate")
    given = GivenCoefficients(params, None, None, source)
    res = apply_units(spec, given, units, observed=known)
    estimated = fit_units(spec, units) if known else None
    res = replace(res, extras={**res.extras, "estimated": estimated, "formula": True})
    return _Estimate(units, res, res.need, res.exposure, None)


def _check_reference_means(
    cfg: Config, units: pd.DataFrame, dictionary: DataDictionary | None
) -> None:
    """Reference means on the indicators' own scale: a share is 0-1, never a percentage."""
    means = cfg.model.reference_means or {}
    for col, value in means.items():
        share = dictionary is not None and dictionary.unit(col) == "share"
        if col in units.columns and pd.api.types.is_numeric_dtype(units[col]):
            share = share or bool(units[col].between(0, 1).all())
        if share and not 0 <= value <= 1:
            raise ConfigError(
                f"the reference mean of '{col}' is {value:g}, but '{col}' is a share (0 to 1); "
                f"give {value / 100:g} for {value:g} %",
                path=cfg.path,
                key="model.reference_means",
            )


def reference_index(results: NeedResults, means: dict[str, float]) -> pd.Series:
    """Need per unit of exposure relative to a reference unit with ``means`` (1 = the reference).

    The reference's need per unit of exposure is the model's prediction at the
    reference means of the indicators (e.g. the country's shares); for a
    linear per-capita model it is exactly the need of a unit with those shares.
    """
    spec = results.spec
    if spec.is_person_level:
        raise ConfigError(
            "reference_means are for unit-level models; a person-level model's reference is "
            "a reference population"
        )
    cat = [c for c in spec.indicators if c in results.design.categorical]
    if cat:
        raise ConfigError(f"reference_means need numeric indicators; '{cat[0]}' is categorical")
    frame = pd.DataFrame([{c: means[c] for c in spec.indicators}])
    rate = float(results.predict(frame).iloc[0])
    if not rate > 0:
        raise ConfigError(f"the reference's predicted need per unit of exposure is {rate:.4g}")
    expo = results.exposure
    per = results.need / expo if (expo is not None and spec.per_capita) else results.need
    return (per / rate).rename("index_reference")


def _criteria(
    cfg: Config, est: _Estimate, allocation: Allocation, scale: pd.Series | None = None
) -> tuple[CriteriaWeights | None, str]:
    if est.results.method not in ADDITIVE_METHODS:
        return None, (
            f"criteria weights need an additive model (ols or wls); method "
            f"'{est.results.method}' is multiplicative"
        )
    pools = allocation.pools.set_index("pool")["amount"]
    cw = criteria_weights(
        est.results,
        float(pools["needs"]),
        year=est.year,
        fold=_fold(cfg),
        intercept=cfg.allocation.intercept,
        unit_scale=scale,
    )
    estimated = est.results.extras.get("estimated")
    if estimated is not None:  # fixed weights: the estimated ones beside them
        ew = criteria_weights(estimated, float(pools["needs"]), intercept=cfg.allocation.intercept)
        table = cw.table.assign(
            estimated_weight_pct=cw.table["criterion"].map(
                ew.table.set_index("criterion")["weight_pct"]
            )
        )
        cw = replace(cw, table=table)
    return cw, ""


def _fold(cfg: Config) -> tuple[str, ...]:
    """Terms folded into the intercept: the year effects of a pooled several-year model."""
    return (str(cfg.data.year),) if cfg.data.year else ()


def _input_files(cfg: Config) -> list[Path]:
    d, m = cfg.data, cfg.model
    files = (
        d.units,
        d.persons,
        d.dictionary,
        d.exposure_forecast,
        m.coefficients,
        m.coefficients_cov,
    )
    return [p for p in files if p is not None]


def _exposure_forecast(cfg: Config, units: pd.DataFrame) -> pd.DataFrame | None:
    """The exposure forecast, read (:func:`_read_forecast`) and checked to hold the budget
    year (:func:`_check_forecast_year`)."""
    forecast = _read_forecast(cfg, units)
    if forecast is not None:
        _check_forecast_year(cfg, forecast)
    return forecast


def _forecast_where(cfg: Config) -> Path | str:
    """The forecast's file (and sheet), for messages."""
    d = cfg.data
    path = d.exposure_forecast
    assert path is not None
    return path if d.forecast_sheet is None else f"{path}, sheet '{d.forecast_sheet}'"


def _check_forecast_year(cfg: Config, forecast: pd.DataFrame) -> None:
    """A forecast that cannot apply is refused, never ignored: it must hold the budget year."""
    labels = cfg.allocation.policy().year_labels
    if labels[0] not in forecast.columns:
        raise DataError(
            f"the exposure forecast has no values for the budget year {labels[0]}; it has "
            f"year(s) {format_ids(list(map(str, forecast.columns)))}",
            path=_forecast_where(cfg),
            column=cfg.data.forecast_year,
        )


def _read_forecast(cfg: Config, units: pd.DataFrame) -> pd.DataFrame | None:
    """Exposure per unit (rows) and budget year (columns) from ``[data] exposure_forecast``.

    The forecast is its own file or a sheet of the units workbook
    (``forecast_sheet``); its id, year and exposure columns are named in the
    config (``forecast_id``, ``forecast_year``, ``forecast_exposure``), so
    Danish headers work. Messages name the file and the sheet.
    """
    d, m = cfg.data, cfg.model
    path = d.exposure_forecast
    if path is None or m.exposure is None:
        return None
    key = d.forecast_id or d.id
    year_col = d.forecast_year
    expo_col = d.forecast_exposure or m.exposure
    opts = replace(d.read_options(), sheet=d.forecast_sheet)
    where = _forecast_where(cfg)
    table = read_table(path, id=key, columns=[year_col, expo_col], options=opts)
    for col in (key, year_col, expo_col):
        if col not in table.columns:
            raise DataError(
                f"the exposure forecast needs columns '{key}', '{year_col}' and '{expo_col}' "
                f"(forecast_id, forecast_year, forecast_exposure); '{col}' is missing; columns: "
                f"{', '.join(map(str, table.columns))}",
                path=where,
                column=col,
            )
    years = year_labels(table[year_col])
    values = pd.to_numeric(table[expo_col], errors="coerce")
    bad = values.isna() | (values < 0) | ~np.isfinite(values.fillna(0.0))
    if bad.any():
        rows = [f"row {i + 2}" for i in np.flatnonzero(bad.to_numpy())]
        raise DataError(
            f"column '{expo_col}' must hold non-negative numbers; not in {format_ids(rows)}",
            path=where,
            column=expo_col,
            ids=rows,
        )
    frame = pd.DataFrame({"unit": table[key].astype(str), "year": years, "value": values})
    dup = frame.duplicated(["unit", "year"], keep=False)
    if dup.any():
        pairs = [
            f"{u} {y}" for u, y in frame.loc[dup, ["unit", "year"]].drop_duplicates().to_numpy()
        ]
        raise DataError(
            f"the exposure forecast has more than one row for {format_ids(pairs)}",
            path=where,
            column=year_col,
            ids=pairs,
        )
    wide = frame.pivot(index="unit", columns="year", values="value")
    stray = sorted(set(wide.index) - set(units.index.astype(str)))
    if stray:
        raise DataError(
            f"the exposure forecast has unit(s) {format_ids(stray)} that are not in the units "
            "table",
            path=where,
            column=key,
            ids=stray,
        )
    wide.index = wide.index.astype(str)
    return wide.reindex(units.index.astype(str)).set_axis(units.index)


def _allocation_step(
    cfg: Config, est: _Estimate, dictionary: DataDictionary | None
) -> tuple[Allocation, CriteriaWeights | None, str]:
    """Need → kroner: forecasts, pools, transition, prices, criteria and the reference index.

    The one allocation step of :func:`run` and :func:`reallocate`, so that a
    re-allocation equals a fresh run of the changed config amount for amount.
    """
    a = cfg.allocation
    policy = a.policy()
    need, exposure = est.need, est.exposure
    forecast = est.forecast
    if forecast is not None:
        _check_forecast_year(cfg, forecast)
    first = policy.year_labels[0]
    scale = None
    rate = None
    if forecast is not None and exposure is not None:  # it holds the budget year (checked)
        # need per unit of exposure from the model, kept for the later years (a unit with no
        # pupils in the budget year still has its rate when pupils are forecast later)
        rate = pd.Series(need / exposure, name="rate")
        # the budget year's own pupils: need per pupil times the forecast
        ahead = forecast[first].astype(float)
        if ahead.isna().any():
            raise DataError(
                f"the exposure forecast has no {first} value for unit(s) "
                f"{format_ids(list(ahead.index[ahead.isna()]))}",
                path=cfg.data.exposure_forecast,
            )
        scale = ahead / exposure
        need = pd.Series(need * scale, name=str(need.name))
        exposure = pd.Series(ahead, name=str(exposure.name))
    if a.criteria_amounts is not None:  # kroner per counted person, paid as stated
        policy = replace(policy, needs_amount=float(need.sum()))
    per_exposure = None
    if a.intercept == "per_capita" and est.results.method in ADDITIVE_METHODS:
        per_exposure = intercept_need(est.results, year=est.year, fold=_fold(cfg), unit_scale=scale)
    allocation = allocate(
        need,
        policy,
        exposure=exposure,
        current=est.units[a.current] if a.current else None,
        per_exposure_need=per_exposure,
        exposure_path=forecast,
        need_rate=rate,
        prices=a.prices,
    )
    criteria, note = _criteria(cfg, est, allocation, scale)
    if cfg.model.reference_means is not None:
        _check_reference_means(cfg, est.units, dictionary)
        ref = reference_index(est.results, cfg.model.reference_means)
        table = allocation.table.copy()
        table.insert(
            list(table.columns).index("index") + 1,
            "index_reference",
            ref.reindex(est.need.index).to_numpy(),
        )
        allocation = replace(allocation, table=table)
    return allocation, criteria, note


def validate(config: Config | Path | str) -> pd.DataFrame:
    """Check a config and its data without fitting or writing anything.

    Returns
    -------
    DataFrame
        The validated units table.

    Raises
    ------
    ConfigError, DataError
        On the first problem found.
    """
    cfg = _as_config(config)
    spec = _spec(cfg)
    table = _read_units(cfg, spec)
    if cfg.data.year is not None:
        _, table = _allocation_rows(cfg, table)
    units, _ = _units(cfg, spec, table, _dictionary(cfg))
    _check_weights(cfg, spec)
    source = cfg.data.person_source
    if isinstance(source, DatabaseTable) and _use_duckdb(cfg, spec):
        # checked where the persons are: one query, no rows fetched
        check_persons(
            source,
            unit_key=str(spec.unit_key),
            target=spec.target,
            indicators=spec.indicators,
            weights=cfg.data.weights,
        )
    elif source is not None:
        applied = cfg.applied
        persons = _read_persons(cfg, spec, target_optional=applied)
        cost = [spec.target] if not applied or _cost_known(spec, persons) else []
        cat = spec.indicators if spec.info.kind == "cell-means" else spec.categorical
        validate_persons(
            persons,
            unit_key=str(spec.unit_key),
            numeric=cost,
            nonnegative=cost,
            categorical=[*dict.fromkeys([*spec.indicators, *cat])],
            path=cfg.data.persons,
        )
    _exposure_forecast(cfg, units)
    return units


def run(config: Config | Path | str, *, write: bool = False) -> RunResult:
    """Run a whole allocation from a config.

    Parameters
    ----------
    config : Config or path
        A loaded config or the path of a TOML file.
    write : bool
        Also write the outputs into the config's output folder.

    Returns
    -------
    RunResult

    Examples
    --------
    >>> import needsmodel as nm
    >>> result = nm.run(nm.datasets.sample_config_path())
    >>> int(result.allocation.table["allocation"].sum())
    130000000
    """
    cfg = _as_config(config)
    spec = _spec(cfg)
    dictionary = _dictionary(cfg)
    table = _read_units(cfg, spec)
    est = _estimate(cfg, spec, table, dictionary)
    est = replace(est, forecast=_read_forecast(cfg, est.units))
    return _finish(cfg, est, dictionary, write=write)


def _finish(
    cfg: Config,
    est: _Estimate,
    dictionary: DataDictionary | None,
    *,
    write: bool = False,
    inputs: dict[str, str] | None = None,
) -> RunResult:
    """The allocation step of a run and its record: everything after the estimation."""
    allocation, criteria, note = _allocation_step(cfg, est, dictionary)
    u = cfg.uncertainty
    uncertainty = None
    if u.method != "none":
        uncertainty = key_uncertainty(
            est.results,
            allocation,
            method=u.method,
            replicates=u.replicates,
            level=u.level,
            flag_width_pct=u.flag_width_pct,
            seed=u.seed,
            year=est.year,
        )
    if inputs is None:
        inputs = {str(p): file_sha256(p) for p in _input_files(cfg)}
    flagged = (*cfg.model.influenceable, *(dictionary.influenceable if dictionary else ()))
    with currency(cfg.output.currency):  # the guards' sentences name amounts
        guards = check_model(
            est.results,
            criteria_table=criteria.table if criteria is not None else None,
            dictionary=dictionary,
            influenceable=flagged,
        )
    result = RunResult(
        config=cfg,
        units=est.units,
        results=est.results,
        allocation=allocation,
        inputs=inputs,
        years=est.years,
        criteria=criteria,
        criteria_note=note,
        uncertainty=uncertainty,
        dictionary=dictionary,
        guards=tuple(guards),
        retest=est.retest,
        state=est,
    )
    if write:
        result.write()
    return result


#: Allocation options that change the need itself: a re-allocation re-runs their step.
_NEED_OPTIONS = frozenset({"criteria", "criteria_amounts"})


def reallocate(result: RunResult, **changes: Any) -> RunResult:
    """A finished run's allocation again, with other ``[allocation]`` values; no refit.

    The allocation step is the one :func:`run` uses (forecasts, several budget
    years and prices, pools, floors and caps, phase-in, fixed criteria, the
    reference index), and the key intervals are drawn again when the run had
    them, so the result equals a fresh ``needsmodel run`` of the changed config
    amount for amount. The returned run's config (and its TOML text) holds the
    changed values, so that saving it reproduces the scenario.

    Parameters
    ----------
    result : RunResult
        A run (:func:`run`).
    **changes
        ``[allocation]`` options by name, e.g. ``max_loss_pct=3``,
        ``per_capita_pct=20``, ``budget=135_000_000``, ``years={...}``.

    Raises
    ------
    ConfigError
        For an option that is not an ``[allocation]`` option (a model setting
        needs a refit: run the changed config), or a combination the config
        rules refuse, naming the key.

    Examples
    --------
    >>> import needsmodel as nm
    >>> base = nm.run(nm.datasets.sample_config_path())
    >>> tighter = nm.reallocate(base, max_loss_pct=2, max_gain_pct=4)
    >>> int(tighter.allocation.table["allocation"].sum())
    130000000
    """
    cfg = result.config
    known = {f.name for f in fields(AllocationConfig)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ConfigError(
            f"reallocate changes [allocation] options only; {', '.join(unknown)} "
            f"{'is' if len(unknown) == 1 else 'are'} not one (a model setting needs a refit: "
            "run the changed config); allowed: " + ", ".join(sorted(known)),
            path=cfg.path,
        )
    allocation = replace(cfg.allocation, **changes)
    new = replace(cfg, allocation=allocation, text=_with_allocation(cfg.text, changes))
    check_config(new)
    est = result.state
    if not isinstance(est, _Estimate) or _NEED_OPTIONS & set(changes):
        return run(new)  # fixed criteria set the need itself: the whole run, same code path
    return _finish(new, est, result.dictionary, inputs=dict(result.inputs))


def _with_allocation(text: str, changes: Mapping[str, Any]) -> str:
    """The config's TOML text with ``changes`` in its ``[allocation]`` table (as the scenario's
    own config: running it reproduces the re-allocation)."""
    raw = tomllib.loads(text) if text else {}
    table = dict(raw.get("allocation", {}))
    for key, value in changes.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    raw["allocation"] = table
    return dump_toml(raw)
