"""Applying a model estimated elsewhere: given coefficients, no estimation.

Danish practice applies coefficients estimated on other data year after year:
a national reference model, a VIVE/KORA report's special-education model, or
last year's own fit frozen for three budget years. :func:`read_coefficients`
reads a table ``term, estimate`` (optionally ``std_error``, or a covariance
matrix in a second file) in the form every run writes as
``coefficients.csv`` (with a ``(smearing)`` row for a log-linear model), and
:func:`apply_units` / :func:`apply_persons` apply it to the units or persons at
hand with the same design rules as a fit: the same categorical levels and
reference levels (the reference is the one level of the data without a term),
the method's link (identity, log with the smearing factor, a GLM's inverse
link). A term without a column, a level the coefficients never saw, a missing
intercept or a data column without a term are refused with the term named.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import MAX_MAGNITUDE, validate_persons
from ..errors import DataError, InputError, format_ids
from ..reading import read_table
from .build import build_results
from .cores import Core, linear_mean, link_mean, make_link, smeared_mean
from .design import Design, _as_text, level_key
from .methods import method_info, methods_where
from .results import TIDY_COLUMNS, NeedResults
from .spec import NeedSpec

__all__ = [
    "SMEARING_TERM",
    "GivenCoefficients",
    "apply_persons",
    "apply_units",
    "coefficient_provenance",
    "covariance_fault",
    "read_coefficients",
    "read_covariance",
]

#: The row of a coefficient table that holds a log-linear model's smearing factor.
SMEARING_TERM = "(smearing)"
_TERM = re.compile(r"^(?P<col>.+)\[(?P<level>[^\]]*)\]$")
_APPLICABLE = methods_where(given_coefficients=True)


@dataclass(frozen=True)
class GivenCoefficients:
    """A model estimated elsewhere.

    Attributes
    ----------
    params : Series
        Estimate by term.
    cov : DataFrame or None
        Covariance of the estimates (from a covariance file, or the squared
        standard errors on the diagonal), None when neither is given.
    smearing : float or None
        Smearing factor of a log-linear model.
    source : str
        Where the coefficients came from (for messages and the report).
    table : DataFrame or None
        The file's own columns of :data:`~needsmodel.estimate.results.TIDY_COLUMNS`
        by term (standard errors, p-values, intervals as the estimating run
        wrote them), so that a run applying them writes them back unchanged.
    provenance : mapping
        What is known of the run that estimated them (:func:`coefficient_provenance`).
    """

    params: pd.Series
    cov: pd.DataFrame | None
    smearing: float | None
    source: str
    table: pd.DataFrame | None = None
    provenance: Mapping[str, str] = field(default_factory=dict)


def read_coefficients(path: Path | str, covariance: Path | str | None = None) -> GivenCoefficients:
    """Read a coefficient table (``term, estimate[, std_error, ...]``) and an optional covariance.

    Raises
    ------
    DataError
        For a missing ``term`` or ``estimate`` column, a term listed twice, a
        non-numeric estimate, or a covariance matrix that does not match the
        terms.
    """
    p = Path(path)
    table = read_table(p, id="term", columns=["estimate", "std_error"])
    for col in ("term", "estimate"):
        if col not in table.columns:
            raise DataError(
                f"a coefficient table needs columns 'term' and 'estimate'; '{col}' is missing",
                path=p,
                column=col,
            )
    terms = table["term"].astype(str)
    dup = sorted(set(terms[terms.duplicated()]))
    if dup:
        raise DataError(f"term(s) {format_ids(dup)} listed twice", path=p, column="term", ids=dup)
    est = pd.to_numeric(table["estimate"], errors="coerce")
    if est.isna().any():
        bad = terms[est.isna()].tolist()
        raise DataError(
            f"estimate is not a number for term(s) {format_ids(bad)}", path=p, column="estimate"
        )
    huge = est.abs() > MAX_MAGNITUDE
    if huge.any() or not np.isfinite(est).all():
        bad = terms[huge | ~np.isfinite(est)].tolist()
        raise DataError(
            f"estimate of term(s) {format_ids(bad)} is beyond {MAX_MAGNITUDE:.0e} (or not finite): "
            "no need in kroner can be computed from it; check the coefficient file",
            path=p,
            column="estimate",
            ids=bad,
        )
    est.index = pd.Index(terms, name="term")
    smearing = None
    if SMEARING_TERM in est.index:
        smearing = float(est[SMEARING_TERM])
        est = est.drop(SMEARING_TERM)
    cov = None
    if covariance is not None:
        cov = read_covariance(covariance, list(est.index))
    elif "std_error" in table.columns:
        se = pd.to_numeric(table.set_index("term")["std_error"], errors="coerce")
        se = se.drop(SMEARING_TERM, errors="ignore").reindex(est.index)
        if (se < 0).any():
            bad = list(se.index[se < 0])
            raise DataError(
                f"std_error is negative for term(s) {format_ids(bad)}", path=p, column="std_error"
            )
        if se.notna().all():
            cov = pd.DataFrame(np.diag(se.to_numpy() ** 2), index=est.index, columns=est.index)
    own = table.set_index(terms.rename("term")).drop(index=SMEARING_TERM, errors="ignore")
    own = own[[c for c in TIDY_COLUMNS if c in own.columns]].apply(pd.to_numeric, errors="coerce")
    return GivenCoefficients(
        est.rename("estimate").astype(float),
        cov,
        smearing,
        str(p),
        table=own,
        provenance=coefficient_provenance(p),
    )


def read_covariance(path: Path | str, terms: list[str]) -> pd.DataFrame:
    """Read a covariance matrix (term × term) and check it before any use.

    The first column holds the terms, headed ``term`` or left blank (as pandas
    writes an index); every term needs a row and a column; the values must be
    finite numbers, the matrix symmetric and positive semi-definite.

    Raises
    ------
    DataError
        Naming the file and what is wrong.
    """
    cp = Path(path)
    ctab = read_table(cp, id="term")
    if "term" not in ctab.columns:
        first = str(ctab.columns[0])
        if first != "column 1" and not first.startswith("Unnamed"):
            raise DataError(
                f"a covariance matrix needs its terms in a first column headed 'term' (or left "
                f"blank); found '{first}'",
                path=cp,
                column=first,
            )
        ctab = ctab.rename(columns={ctab.columns[0]: "term"})
    ctab = ctab.set_index("term")
    ctab.index = ctab.index.astype(str)
    ctab.columns = ctab.columns.astype(str)
    missing = sorted(set(terms) - set(ctab.index) | (set(terms) - set(ctab.columns)))
    if missing:
        raise DataError(
            f"the covariance matrix has no row or column for term(s) {format_ids(missing)}",
            path=cp,
            ids=missing,
        )
    values = ctab.loc[terms, terms].apply(pd.to_numeric, errors="coerce")
    bad = [t for t in terms if not np.isfinite(values[t].to_numpy(dtype=float)).all()]
    if bad:
        raise DataError(
            f"the covariance matrix holds a missing value or text in column(s) {format_ids(bad)}",
            path=cp,
            ids=bad,
        )
    fault = covariance_fault(values.to_numpy(dtype=float))
    if fault:
        raise DataError(f"the covariance matrix {fault}", path=cp)
    return values.astype(float)


def covariance_fault(m: np.ndarray) -> str | None:
    """What makes ``m`` no covariance matrix (not symmetric, not positive semi-definite), or
    None. Tolerances are relative to the largest entry.

    Examples
    --------
    >>> covariance_fault(np.array([[1.0, 0.5], [0.5, 1.0]])) is None
    True
    >>> covariance_fault(np.array([[1.0, 2.0], [2.0, 1.0]]))[:30]
    'is not positive semi-definite '
    """
    scale = max(float(np.abs(m).max()), 1e-300)
    if not np.allclose(m, m.T, rtol=1e-6, atol=1e-9 * scale):
        return "is not symmetric"
    low = float(np.linalg.eigvalsh((m + m.T) / 2).min())
    if low < -1e-8 * scale:
        return (
            f"is not positive semi-definite (smallest eigenvalue {low:.4g}); is it a "
            "correlation matrix or mislabelled?"
        )
    return None


def coefficient_provenance(path: Path | str) -> dict[str, str]:
    """Where a coefficient file came from: its name and SHA-256, and the run that wrote it.

    A run's output folder holds ``manifest.json`` with the SHA-256 of every
    file it wrote; when the coefficient file still sits there unchanged, the
    config, the date and the needsmodel version of that run are returned too.

    Examples
    --------
    >>> from needsmodel import datasets
    >>> sorted(coefficient_provenance(datasets.sample_dir() / "dictionary.csv"))
    ['file', 'sha256']
    """
    p = Path(path)
    digest = hashlib.sha256(p.read_bytes()).hexdigest()
    out = {"file": p.name, "sha256": digest}
    manifest = p.parent / "manifest.json"
    try:
        record = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return out
    if not isinstance(record, dict) or record.get("tool") != "needsmodel":
        return out
    files = record.get("files")
    if isinstance(files, dict) and files.get(p.name) == digest:
        for key in ("config", "created", "version"):
            if isinstance(record.get(key), str):
                out[f"estimated_{key}"] = record[key]
        if "estimated_config" in out:  # its name: no machine's folder layout is printed
            out["estimated_config"] = Path(out["estimated_config"]).name
    return out


def _design(spec: NeedSpec, given: GivenCoefficients, frame: pd.DataFrame) -> Design:
    """The design the coefficients imply for the indicators of ``frame``."""
    terms = list(given.params.index)
    if "Intercept" not in terms:
        raise InputError(f"{given.source}: the coefficients have no 'Intercept' term")
    levels: dict[str, tuple[str, ...]] = {}
    refs: dict[str, str] = {}
    used = {"Intercept"}
    for c in spec.indicators:
        dummies = [t for t in terms if (m := _TERM.match(t)) and m.group("col") == c]
        if not dummies:
            if c not in terms:
                raise InputError(f"{given.source}: no coefficient for indicator '{c}'")
            used.add(c)
            continue
        term_levels = [_TERM.match(t).group("level") for t in dummies]  # type: ignore[union-attr]
        used.update(dummies)
        data_levels = sorted(set(_as_text(frame[c].dropna())), key=level_key)
        rest = [lv for lv in data_levels if lv not in term_levels]
        ref = str(spec.reference_map[c]) if c in spec.reference_map else None
        if ref is None:
            if len(rest) > 1:
                raise InputError(
                    f"{given.source}: level(s) {format_ids(rest)} of '{c}' have no coefficient "
                    "(only one, the reference level, may be without one); set [model] reference"
                )
            ref = rest[0] if rest else "(reference)"
        unknown = [lv for lv in rest if lv != ref]
        if unknown:
            raise InputError(
                f"{given.source}: level(s) {format_ids(unknown)} of '{c}' have no coefficient and "
                f"are not the reference level {ref!r}"
            )
        levels[c] = tuple(term_levels)
        refs[c] = ref
    stray = [t for t in terms if t not in used]
    if stray:
        raise InputError(
            f"{given.source}: term(s) {format_ids(stray)} match no indicator of the model "
            f"({', '.join(spec.indicators)})"
        )
    design = Design(tuple(spec.indicators), levels, refs, True)
    # the coefficients in the design's column order
    missing = [t for t in design.terms if t not in given.params.index]
    if missing:  # pragma: no cover - every design term comes from the table
        raise InputError(f"{given.source}: no coefficient for {format_ids(missing)}")
    return design


def _core(spec: NeedSpec, given: GivenCoefficients, design: Design) -> Core:
    method = spec.resolved_method
    if method not in _APPLICABLE:
        raise InputError(
            f"given coefficients can be applied for methods {', '.join(_APPLICABLE)}; "
            f"'{method}' has more than one set of coefficients or none"
        )
    beta = given.params.reindex(design.terms).to_numpy(dtype=float)
    if given.smearing is not None and method_info(method).kind != "log-linear":
        raise InputError(
            f"{given.source}: the coefficients have a '{SMEARING_TERM}' row, so they are a "
            f"log-linear model's; set [model] method = \"loglinear\" (method is '{method}')"
        )
    if method_info(method).kind == "log-linear":
        if given.smearing is None:
            raise InputError(
                f"{given.source}: a log-linear model needs its smearing factor as a row "
                f"'{SMEARING_TERM}'"
            )
        mean = smeared_mean(given.smearing)
    elif method_info(method).is_glm:
        mean = link_mean(make_link(spec.link or str(method_info(method).default_link)))
    else:
        mean = linear_mean

    def predictor(f: pd.DataFrame) -> np.ndarray:
        return np.asarray(mean(design.matrix(f), beta[None, :])[:, 0], dtype=float)

    params = pd.Series(beta, index=design.terms)
    cov = (
        given.cov.loc[design.terms, design.terms]
        if given.cov is not None
        else pd.DataFrame(np.nan, index=design.terms, columns=design.terms)
    )
    stats = {"smearing": given.smearing} if given.smearing is not None else {}
    return Core(method, params, cov, None, stats, None, predictor, design, draw_mean=mean)


def _results(
    spec: NeedSpec,
    core: Core,
    data: pd.DataFrame,
    mean: np.ndarray,
    need: pd.Series,
    observed: pd.Series,
    given: GivenCoefficients,
    **fields: object,
) -> NeedResults:
    return build_results(
        spec,
        core,
        need=need,
        observed=observed,
        data=data,
        fitted=pd.Series(mean, index=data.index, name="fitted"),
        resid=pd.Series(np.full(len(data), np.nan), index=data.index, name="resid"),
        cv=None,
        extras={
            "given": given.source,
            "given_table": given.table,
            "given_from": dict(given.provenance),
        },
        **fields,  # type: ignore[arg-type]
    )


def apply_units(
    spec: NeedSpec, given: GivenCoefficients, units: pd.DataFrame, *, observed: bool = True
) -> NeedResults:
    """Need per unit from given coefficients (a unit-level model), without estimation.

    ``units`` is a validated units table indexed by unit id; its target column,
    when present and complete, is used only to show the fit. With
    ``observed=False`` the target column is a stand-in (next year's data have
    no costs yet) and no fit statistic is computed.
    """
    design = _design(spec, given, units)
    core = _core(spec, given, design)
    mean = core.predict(units)
    expo = units[spec.exposure].astype(float) if spec.exposure else None
    scale = expo.to_numpy() if (expo is not None and spec.per_capita) else np.ones(len(units))
    need = pd.Series(mean * scale, index=units.index, name="need")
    cost = (
        units[spec.target].astype(float)
        if spec.target in units.columns and observed
        else pd.Series(np.nan, index=units.index, dtype=float)
    ).rename("observed")
    weights = expo.rename("weight") if (expo is not None and spec.weighted) else None
    return _results(spec, core, units, mean, need, cost, given, exposure=expo, weights=weights)


def apply_persons(
    spec: NeedSpec,
    given: GivenCoefficients,
    persons: pd.DataFrame,
    units: pd.DataFrame,
    path: Path | str | None = None,
    weights: str | None = None,
) -> NeedResults:
    """Need per unit from given coefficients of a person-level model: Σ over its persons.

    With person ``weights`` each person counts as many times as its weight, in
    the need and in the observed cost, as in a fit on collapsed cells.
    """
    key = str(spec.unit_key)
    text = [
        c
        for c in spec.indicators
        if c in persons.columns and not pd.api.types.is_numeric_dtype(persons[c])
    ]
    cat = list(dict.fromkeys([*spec.categorical, *text]))
    target = [spec.target] if spec.target in persons.columns else []
    weight = [weights] if weights else []
    data = validate_persons(
        persons,
        unit_key=key,
        numeric=[*(c for c in spec.indicators if c not in cat), *target, *weight],
        nonnegative=weight,
        categorical=cat,
        path=path,
    )
    w = data[weights].to_numpy(dtype=float) if weights else np.ones(len(data))
    unit_of = data[key].astype(str)
    stray = sorted(set(unit_of) - set(units.index.astype(str)))
    if stray:
        raise DataError(
            f"person table has unit id(s) {format_ids(stray)} not in the units table",
            path=path,
            column=key,
            ids=stray,
        )
    empty = sorted(set(units.index.astype(str)) - set(unit_of))
    if empty:  # as a fit refuses them: a unit without persons would silently get 0 kr
        raise DataError(
            f"unit(s) {format_ids(empty)} have no persons in the person table, so their need "
            "cannot be computed from persons; add their persons or drop the units",
            path=path,
            column=key,
            ids=empty,
        )
    design = _design(spec, given, data)
    core = _core(spec, given, design)
    mean = core.predict(data)
    index = units.index
    need = (
        pd.Series(np.asarray(mean) * w)
        .groupby(unit_of.to_numpy())
        .sum()
        .reindex(index.astype(str))
        .fillna(0.0)
    )
    need.index = index
    need = need.astype(float).rename("need")
    if spec.target in data.columns:
        observed = (
            (pd.to_numeric(data[spec.target], errors="coerce") * w)
            .groupby(unit_of.to_numpy())
            .sum()
            .reindex(index.astype(str))
        )
        observed.index = index
    else:
        observed = pd.Series(np.nan, index=index)
    expo = (
        units[spec.exposure].astype(float)
        if spec.exposure
        else unit_of.value_counts().reindex(index.astype(str)).set_axis(index).astype(float)
    )
    res = _results(
        spec, core, data, mean, need, observed.rename("observed"), given,
        exposure=expo.rename("exposure"), weights=None, person_stats={"persons": len(data)},
    )  # fmt: skip
    return res
