"""Run configuration: one TOML file describes a whole run.

The file has four tables, ``[data]``, ``[model]``, ``[allocation]`` and
``[output]``. Each becomes a frozen dataclass; unknown keys, wrong types and
values outside the allowed set raise :class:`~needsmodel.errors.ConfigError`
naming the file, the key, the line, the allowed values and the closest known
key for a misspelling. Relative paths are resolved against the folder of the
config file.

Examples
--------
>>> from needsmodel import datasets
>>> cfg = load_config(datasets.sample_config_path())
>>> cfg.model.method
'wls'
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from .allocation.policy import AllocationPolicy
from .collapse import DatabaseTable, check_memory_limit
from .errors import AllocationError, ConfigError, InputError
from .estimate.methods import method_info, resolve_method
from .estimate.spec import COV_TYPES, LINKS_ALLOWED, METHODS, NeedSpec
from .reading import ReadOptions
from .redact import redact

__all__ = [
    "NO_TARGET",
    "AllocationConfig",
    "Config",
    "CsvFormat",
    "DataConfig",
    "Lang",
    "ModelConfig",
    "OutputConfig",
    "UncertaintyConfig",
    "check_config",
    "dump_toml",
    "load_config",
    "parse_config",
]

Lang = Literal["da", "en"]

#: Largest whole number (kroner, counts) a run computes with exactly: 2^53.
MAX_EXACT = 2**53

#: The name a model without a cost column gives its target (given coefficients or fixed
#: criteria applied to next year's data): a column of this name is never read.
NO_TARGET = "(no cost column)"

#: Longest phase-in a config may ask for (years).
MAX_PHASE_IN_YEARS = 50
CsvFormat = Literal["en", "da"]

# Option kinds understood by the validator (metadata["kind"]).
_STR, _PATH, _INT, _NUMBER, _BOOL, _STR_LIST, _STR_LIST0, _CHOICE, _MAP, _YEARS = (
    "str",
    "path",
    "int",
    "number",
    "bool",
    "list of str",
    "list of str (may be empty)",
    "choice",
    "table",
    "table of year = number",
)
_NUMBERS = "table of column = number"


def _dataclass_repr(obj: Any) -> str:
    """The repr a dataclass would have (its fields by name)."""
    inner = ", ".join(f"{f.name}={getattr(obj, f.name)!r}" for f in fields(obj) if f.repr)
    return f"{type(obj).__name__}({inner})"


def _opt(kind: str, default: Any = MISSING, *, choices: tuple[Any, ...] = (), doc: str = "") -> Any:
    meta = {"kind": kind, "choices": choices, "doc": doc}
    if default is MISSING:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class DataConfig:
    """``[data]``: where the units table (and optional person file) is."""

    units: Path = _opt(_PATH, doc="units table (csv, xlsx or parquet)")
    id: str = _opt(_STR, doc="column with the unit id")
    sheet: str | None = _opt(_STR, None, doc="Excel sheet name (default: the first)")

    def read_options(self) -> ReadOptions:
        """How to read the data files."""
        return ReadOptions(
            sep="\t" if self.sep in ("\\t", "tab") else self.sep,
            decimal=self.decimal,
            thousands=self.thousands,
            encoding=self.encoding,
            sheet=self.sheet,
            header_row=self.header_row,
            drop_totals=self.drop_totals,
        )

    label: str | None = _opt(_STR, None, doc="column with display names of the units")
    persons: Path | None = _opt(_PATH, None, doc="person-level table (one row per person)")
    database: str | None = _opt(
        _STR,
        None,
        doc="SQLAlchemy URL of a database holding the person table ('env:NAME': from the "
        "environment)",
    )
    persons_table: str | None = _opt(
        _STR, None, doc="person table in that database ('table' or 'schema.table')"
    )
    unit_key: str | None = _opt(_STR, None, doc="column of the person table with the unit id")
    sep: str | None = _opt(_STR, None, doc="CSV separator (default: detected)")
    decimal: str | None = _opt(
        _CHOICE, None, choices=(",", "."), doc="decimal mark (default: proved by the data)"
    )
    thousands: str | None = _opt(_STR, None, doc="thousands separator (default: the other mark)")
    encoding: str | None = _opt(_STR, None, doc="text encoding (default: UTF-8, else Windows-1252)")
    header_row: int | None = _opt(_INT, None, doc="1-based row with the column names")
    drop_totals: bool = _opt(_BOOL, False, doc="drop rows labelled 'I alt'/'Total'")
    exposure_forecast: Path | None = _opt(
        _PATH,
        None,
        doc="exposure per unit and budget year: its own file or the units workbook (columns: "
        "id, year, exposure)",
    )
    forecast_sheet: str | None = _opt(
        _STR, None, doc="sheet of the forecast workbook (needed when it is the units workbook)"
    )
    forecast_year: str = _opt(_STR, "year", doc="year column of the forecast (e.g. 'År')")
    forecast_exposure: str | None = _opt(
        _STR, None, doc="exposure column of the forecast (default: [model] exposure)"
    )
    forecast_id: str | None = _opt(
        _STR, None, doc="unit id column of the forecast (default: [data] id)"
    )
    case_sensitive_ids: bool = _opt(
        _BOOL, False, doc="ids differing only in case ('d01', 'D01') are different units"
    )
    dictionary: Path | None = _opt(
        _PATH, None, doc="data dictionary (labels, units, influenceable)"
    )
    engine: str = _opt(
        _CHOICE, "auto", choices=("auto", "memory", "duckdb"), doc="how person files are read"
    )
    weights: str | None = _opt(_STR, None, doc="person weight column (person-level OLS)")
    memory_limit: str | None = _opt(
        _STR,
        None,
        doc="DuckDB's memory for collapsing persons, e.g. '2GB' (default: 96MB, more only "
        "when needed)",
    )
    year: str | None = _opt(_STR, None, doc="year column of a units table with several years")
    allocation_year: int | None = _opt(_INT, None, doc="year to allocate (default: the latest)")

    @property
    def addresses(self) -> tuple[str, ...]:
        """The database address as written and as resolved (``env:NAME``): what to redact."""
        if self.database is None:
            return ()
        resolved = os.environ.get(self.database[4:], "") if self.database.startswith("env:") else ""
        return tuple(a for a in (self.database, resolved) if a)

    def __repr__(self) -> str:  # never print a password
        return redact(_dataclass_repr(self), self.addresses)

    @property
    def person_source(self) -> Path | DatabaseTable | None:
        """Where the persons are: a file, a database table, or nowhere (unit-level model)."""
        if self.persons_table is not None and self.database is not None:
            return DatabaseTable(self.database, self.persons_table)
        return self.persons

    @property
    def person_level(self) -> bool:
        """Whether the model is fitted on persons (a person file or table is named)."""
        return self.persons is not None or self.persons_table is not None


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """``[model]``: the need model."""

    target: str | None = _opt(
        _STR,
        None,
        doc="observed cost column (kr per year); optional with given coefficients or fixed "
        "criteria, where it re-tests the model when present",
    )
    indicators: tuple[str, ...] = _opt(_STR_LIST, doc="indicator columns")
    exposure: str | None = _opt(_STR, None, doc="exposure column (pupils, citizens)")
    method: str = _opt(_CHOICE, "auto", choices=METHODS, doc="estimator")
    cov: str = _opt(
        _CHOICE,
        "auto",
        choices=COV_TYPES,
        doc="covariance of the estimates (auto: HC3 for linear models, HC0 for GLMs)",
    )
    cluster: str | None = _opt(_STR, None, doc="cluster column when cov = 'cluster'")
    cv: str | int = _opt(_CHOICE, "auto", choices=("auto", "loo", "k"), doc="'loo', 'auto' or k")
    per_capita: bool = _opt(_BOOL, True, doc="model cost per unit of exposure")
    alpha: float = _opt(_NUMBER, 0.05, doc="1 - confidence level of the intervals")
    categorical: tuple[str, ...] = _opt(_STR_LIST0, (), doc="numeric indicators used as categories")
    reference: dict[str, Any] = _opt(_MAP, None, doc="reference level per categorical indicator")
    link: str | None = _opt(_CHOICE, None, choices=LINKS_ALLOWED, doc="GLM link function")
    var_power: float = _opt(_NUMBER, 1.5, doc="Tweedie variance power (1-2)")
    min_cell_size: int = _opt(_INT, 30, doc="cell models: smallest cell kept on its own")
    small_cells: str = _opt(_CHOICE, "merge", choices=("merge", "shrink"), doc="cell models")
    influenceable: tuple[str, ...] = _opt(
        _STR_LIST0, (), doc="indicators the unit can influence (warned about)"
    )
    coefficients: Path | None = _opt(
        _PATH, None, doc="apply these coefficients (term, estimate[, std_error]); no estimation"
    )
    coefficients_cov: Path | None = _opt(
        _PATH, None, doc="covariance matrix of the given coefficients (term × term)"
    )
    constraints: str = _opt(
        _CHOICE,
        "none",
        choices=("none", "nonnegative"),
        doc="'nonnegative': no criterion may take money from units with more of it",
    )
    reference_means: dict[str, float] | None = _opt(
        _NUMBERS, None, doc="indicator means of a reference (e.g. the country): index 1 = it"
    )

    @property
    def target_column(self) -> str:
        """The cost column, or :data:`NO_TARGET` when none is named (an applied model)."""
        return self.target if self.target is not None else NO_TARGET

    def spec(self, unit_key: str | None = None) -> NeedSpec:
        """The need model these settings describe (``unit_key``: person-level models)."""
        return NeedSpec(
            target=self.target_column,
            indicators=self.indicators,
            exposure=self.exposure,
            method=self.method,
            cov=self.cov,
            cluster=self.cluster,
            per_capita=self.per_capita,
            cv=self.cv,
            alpha=self.alpha,
            categorical=self.categorical,
            reference=self.reference,
            link=self.link,
            var_power=self.var_power,
            unit_key=unit_key,
            min_cell_size=self.min_cell_size,
            small_cells=self.small_cells,
            influenceable=self.influenceable,
            constraints=self.constraints,
        )


@dataclass(frozen=True)
class AllocationConfig:
    """``[allocation]``: how need becomes kroner."""

    budget: int = _opt(_INT, doc="the fixed budget to distribute (kr)")
    current: str | None = _opt(_STR, None, doc="column with the current budget")
    round_to: int = _opt(_INT, 1, doc="amounts are multiples of this (kr)")
    base_per_unit: float = _opt(_NUMBER, 0.0, doc="base pool: kr per unit")
    per_capita_pct: float = _opt(_NUMBER, 0.0, doc="per-capita pool: % of the budget")
    per_capita_amount: float | None = _opt(_NUMBER, None, doc="per-capita pool: kr per exposure")
    max_loss_pct: float | None = _opt(_NUMBER, None, doc="floor: largest loss in % a year")
    max_gain_pct: float | None = _opt(_NUMBER, None, doc="cap: largest gain in % a year")
    equalisation_pct: float = _opt(_NUMBER, 100.0, doc="% of the way to the target")
    phase_in_years: int = _opt(_INT, 1, doc="years to reach the target")
    transition_rule: str = _opt(
        _CHOICE,
        "pace",
        choices=("pace", "proportional"),
        doc="'pace': every unit moves toward its target, never past it; 'proportional': "
        "the former common factor",
    )
    intercept: str = _opt(
        _CHOICE,
        "per_capita",
        choices=("per_capita", "criterion"),
        doc="an additive model's intercept is paid per exposure (default) or is a criterion",
    )

    first_year: int | None = _opt(_INT, None, doc="calendar year of the budget (labels the path)")
    years: dict[str, float] | None = _opt(
        _YEARS, None, doc="frame per budget year in fixed prices, the first = budget"
    )
    growth_pct: float | None = _opt(_NUMBER, None, doc="the frame grows this % a year")
    budget_years: int = _opt(_INT, 1, doc="with growth_pct: the budget year and overslagsår")
    prices: dict[str, float] | None = _opt(
        _YEARS, None, doc="price and wage index (PL) per year; 1 in the budget year"
    )
    criteria: dict[str, float] | None = _opt(
        _NUMBERS, None, doc="fixed criteria weights, % of the socioeconomic pool"
    )
    criteria_amounts: dict[str, float] | None = _opt(
        _NUMBERS, None, doc="fixed kroner per counted person per criterion"
    )
    bounds_in: str = _opt(
        _CHOICE,
        "fixed",
        choices=("fixed", "nominal"),
        doc="with prices: floors and caps against the current budget lifted to the budget "
        "year's prices ('fixed') or as it stands ('nominal')",
    )

    def budget_and_current_year(self) -> tuple[str, str] | None:
        """The first budget year and the year before it (the current budget's), or None
        without calendar years."""
        labels = self.frames()[1]
        return (labels[0], str(int(labels[0]) - 1)) if labels else None

    def current_price_factor(self) -> float:
        """The factor lifting the current budget to the first budget year's prices (1: none)."""
        years = self.budget_and_current_year()
        if self.prices is None or self.bounds_in == "nominal" or years is None:
            return 1.0
        first, last = years
        return self.prices[first] / self.prices[last] if last in self.prices else 1.0

    def frames(self) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """Frames and labels of the budget years (empty: one year, no calendar labels)."""
        if self.years:
            labels = tuple(self.years)
            return tuple(int(v) for v in self.years.values()), labels
        n = max(self.budget_years, self.phase_in_years)
        labels = tuple(str(self.first_year + t) for t in range(n)) if self.first_year else ()
        if self.growth_pct is not None and n > 1:
            g = 1.0 + self.growth_pct / 100.0
            frames = tuple(
                int(self.budget * g**t // self.round_to * self.round_to) for t in range(n)
            )
            return (int(self.budget), *frames[1:]), labels
        if n > 1:
            return (int(self.budget),) * n, labels
        return (), labels

    def policy(self) -> AllocationPolicy:
        """The allocation policy these settings describe."""
        frames, labels = self.frames()
        return AllocationPolicy(
            budget=self.budget,
            round_to=self.round_to,
            base_per_unit=self.base_per_unit,
            per_capita_pct=self.per_capita_pct,
            per_capita_amount=self.per_capita_amount,
            max_loss_pct=self.max_loss_pct,
            max_gain_pct=self.max_gain_pct,
            equalisation_pct=self.equalisation_pct,
            phase_in_years=self.phase_in_years,
            transition_rule=self.transition_rule,
            frames=frames,
            labels=labels,
            current_price_factor=self.current_price_factor(),
        )


@dataclass(frozen=True)
class UncertaintyConfig:
    """``[uncertainty]``: intervals for every unit's share and kroner."""

    method: str = _opt(
        _CHOICE, "none", choices=("none", "bootstrap", "parametric"), doc="how to draw"
    )
    replicates: int = _opt(_INT, 2000, doc="number of draws")
    level: float = _opt(_NUMBER, 0.90, doc="interval level")
    flag_width_pct: float = _opt(_NUMBER, 10.0, doc="flag units whose interval is wider (%)")
    seed: int = _opt(_INT, 20240601, doc="random seed (same seed, same intervals)")


@dataclass(frozen=True)
class OutputConfig:
    """``[output]``: where and how results are written."""

    dir: Path = _opt(
        _PATH, Path("reports/run"), doc="output folder (default: reports/run beside the config)"
    )
    lang: str = _opt(_CHOICE, "en", choices=get_args(Lang), doc="language of labels")
    csv_format: str = _opt(
        _CHOICE,
        "en",
        choices=get_args(CsvFormat),
        doc="'en' (comma, decimal point) or 'da' (semicolon, decimal comma, BOM)",
    )
    overwrite: bool = _opt(
        _BOOL, False, doc="overwrite files with output names that needsmodel did not write"
    )
    currency: str | None = _opt(
        _STR, None, doc="the unit every amount is shown in (default: kr.), e.g. '£' or 'EUR'"
    )
    title: str | None = _opt(
        _STR, None, doc="title of the report and the workbook (default: allocation by need)"
    )
    organisation: str | None = _opt(
        _STR, None, doc="municipality or body, shown under the title and in page headers"
    )
    budget_year: int | None = _opt(
        _INT, None, doc="budget year shown under the title (default: the first budget year)"
    )

    def heading(self, lang: str, years: tuple[str, ...] = ()) -> tuple[str | None, str]:
        """The title (None: the default) and the line under it: organisation, budget year."""
        year = str(self.budget_year) if self.budget_year is not None else None
        if year is None and years and years[0].isdigit():
            year = years[0]
        parts = [p for p in (self.organisation,) if p]
        if year:
            parts.append(f"Budget {year}")  # the same word in Danish and English
        return self.title, " · ".join(parts)


@dataclass(frozen=True)
class Config:
    """A whole run: data, model, allocation and output settings.

    Attributes
    ----------
    path : Path or None
        The config file, when read from one.
    text : str
        The TOML text, stored in the export for reproducibility.
    """

    data: DataConfig
    model: ModelConfig
    allocation: AllocationConfig
    output: OutputConfig = field(default_factory=OutputConfig)
    uncertainty: UncertaintyConfig = field(default_factory=UncertaintyConfig)
    path: Path | None = None
    text: str = ""

    @property
    def applied(self) -> bool:
        """Whether the need comes from a model applied, not estimated: given coefficients
        (``[model] coefficients``) or fixed criteria (``criteria``, ``criteria_amounts``)."""
        a = self.allocation
        fixed = a.criteria is not None or a.criteria_amounts is not None
        return self.model.coefficients is not None or fixed

    @property
    def redacted_text(self) -> str:
        """The TOML text with every database password replaced by ``***``."""
        return redact(self.text, self.data.addresses)

    def __repr__(self) -> str:  # never print a password
        return redact(_dataclass_repr(self), self.data.addresses)

    def with_output_dir(self, directory: Path | str) -> Config:
        """Return a copy writing into ``directory``."""
        return replace(self, output=replace(self.output, dir=Path(directory)))


_SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "allocation": AllocationConfig,
    "output": OutputConfig,
    "uncertainty": UncertaintyConfig,
}


class _Context:
    """Locates keys in the TOML text to report line numbers."""

    def __init__(self, path: Path | None, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def line_of(self, section: str, key: str | None = None) -> int | None:
        current = None
        header = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]")
        for number, line in enumerate(self.lines, start=1):
            m = header.match(line)
            if m:
                current = m.group(1)
                if key is None and current == section:
                    return number
                continue
            if (
                key is not None
                and current == section
                and re.match(rf"^\s*{re.escape(key)}\s*=", line)
            ):
                return number
        return None

    def error(self, message: str, section: str, key: str | None = None) -> ConfigError:
        dotted = f"{section}.{key}" if key else section
        return ConfigError(message, path=self.path, key=dotted, line=self.line_of(section, key))


def _field_names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _convert(
    value: Any,
    kind: str,
    choices: tuple[Any, ...],
    where: tuple[str, str],
    ctx: _Context,
    base: Path,
) -> Any:
    section, key = where
    got = f"got {value!r} ({type(value).__name__})"
    if kind == _STR:
        if not isinstance(value, str) or not value.strip():
            raise ctx.error(f"expected a non-empty string, {got}", section, key)
        return value
    if kind == _PATH:
        if not isinstance(value, str) or not value.strip():
            raise ctx.error(f"expected a file or folder path as a string, {got}", section, key)
        if "\x00" in value or any(ord(ch) < 32 for ch in value):
            raise ctx.error(f"a path must not contain control characters, {got}", section, key)
        p = Path(value).expanduser()
        return p if p.is_absolute() else (base / p)
    if kind == _INT:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value != int(value)
        ):
            raise ctx.error(f"expected a whole number, {got}", section, key)
        if abs(value) > MAX_EXACT:
            raise ctx.error(
                f"is beyond {MAX_EXACT:,} (2^53), the largest whole number that can be "
                f"computed with exactly, {got}",
                section,
                key,
            )
        return int(value)
    if kind == _NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ctx.error(f"expected a number, {got}", section, key)
        if not math.isfinite(value):
            raise ctx.error(f"expected a finite number, {got}", section, key)
        if abs(value) > MAX_EXACT:
            raise ctx.error(f"is beyond {MAX_EXACT:,} (2^53), {got}", section, key)
        return float(value)
    if kind == _BOOL:
        if not isinstance(value, bool):
            raise ctx.error(f"expected true or false, {got}", section, key)
        return value
    if kind == _STR_LIST:
        if isinstance(value, str):
            value = [value]
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise ctx.error(f"expected a non-empty list of column names, {got}", section, key)
        dupes = sorted({v for v in value if value.count(v) > 1})
        if dupes:
            raise ctx.error(f"lists {', '.join(dupes)} more than once", section, key)
        return tuple(value)
    if kind == _STR_LIST0:
        if isinstance(value, list) and not value:
            return ()
        return _convert(value, _STR_LIST, choices, where, ctx, base)
    if kind == _MAP:
        if not isinstance(value, dict) or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in value.values()
        ):
            raise ctx.error(f"expected a table of column = level, {got}", section, key)
        return dict(value)
    if kind == _NUMBERS:
        if not isinstance(value, dict) or not value:
            raise ctx.error(f"expected a table of column = number, {got}", section, key)
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ctx.error(
                    f"the value for '{k}' must be a finite number, got {v!r}", section, key
                )
        return {str(k): float(v) for k, v in value.items()}
    if kind == _YEARS:
        if not isinstance(value, dict) or not value:
            raise ctx.error(f"expected a table of year = number, {got}", section, key)
        out: dict[str, float] = {}
        for year, v in value.items():
            if not str(year).isdigit() or not 1900 <= int(year) <= 2200:
                raise ctx.error(
                    f"keys must be calendar years (e.g. 2027 = ...), got {year!r}", section, key
                )
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ctx.error(
                    f"the value for {year} must be a finite number, got {v!r}", section, key
                )
            if v <= 0 or abs(v) > MAX_EXACT:
                raise ctx.error(
                    f"the value for {year} must be positive and at most 2^53, got {v!r}",
                    section,
                    key,
                )
            out[str(int(year))] = float(v)
        return dict(sorted(out.items()))
    if kind == _CHOICE:
        if key == "cv" and isinstance(value, int) and not isinstance(value, bool):
            if value < 2:
                raise ctx.error(f"k-fold cross-validation needs k >= 2, {got}", section, key)
            return value
        allowed = [c for c in choices if c != "k"]
        if value not in allowed:
            shown = ", ".join(repr(c) for c in allowed)
            extra = " or a whole number k >= 2" if "k" in choices else ""
            hint = _suggest(str(value), [str(c) for c in allowed])
            raise ctx.error(f"must be one of {shown}{extra}; {got}{hint}", section, key)
        return value
    raise AssertionError(kind)  # pragma: no cover


def _build(cls: type, table: Any, section: str, ctx: _Context, base: Path) -> Any:
    if not isinstance(table, Mapping):
        raise ctx.error(f"expected a table [{section}], got {type(table).__name__}", section)
    known = {f.name: f for f in fields(cls)}
    unknown = [k for k in table if k not in known]
    if unknown:
        k = unknown[0]
        names = ", ".join(repr(u) for u in unknown)
        raise ctx.error(
            f"unknown key{'s' if len(unknown) > 1 else ''} {names}{_suggest(k, list(known))}; "
            f"allowed keys: {', '.join(known)}",
            section,
            k,
        )
    values: dict[str, Any] = {}
    for name, f in known.items():
        if name in table:
            meta = f.metadata
            values[name] = _convert(
                table[name], meta["kind"], meta["choices"], (section, name), ctx, base
            )
        elif f.default is MISSING and f.default_factory is MISSING:
            raise ctx.error(f"missing required key '{name}' ({f.metadata['doc']})", section)
    return cls(**values)


def parse_config(
    text: str, path: Path | str | None = None, base: Path | str | None = None
) -> Config:
    """Parse and validate a config from TOML text.

    Parameters
    ----------
    text : str
        The TOML document.
    path : Path or str, optional
        File the text came from (for messages).
    base : Path or str, optional
        Folder relative paths are resolved against (default: the folder of
        ``path``, else the working directory).

    Raises
    ------
    ConfigError
        On a TOML syntax error or an invalid key or value.
    """
    p = Path(path) if path is not None else None
    root = Path(base) if base is not None else (p.parent if p is not None else Path.cwd())
    ctx = _Context(p, text)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise ConfigError(
            f"not valid TOML: {e}", path=p, line=int(m.group(1)) if m else None
        ) from e
    unknown = [k for k in raw if k not in _SECTIONS]
    if unknown:
        k = unknown[0]
        raise ConfigError(
            f"unknown table [{k}]{_suggest(k, list(_SECTIONS))}; allowed tables: "
            + ", ".join(f"[{s}]" for s in _SECTIONS),
            path=p,
            key=k,
            line=ctx.line_of(k),
        )
    for required in ("data", "model", "allocation"):
        if required not in raw:
            raise ConfigError(f"missing table [{required}]", path=p)
    parts = {
        name: _build(cls, raw.get(name, {}), name, ctx, root) for name, cls in _SECTIONS.items()
    }
    if "dir" not in raw.get("output", {}):
        # the default folder is relative to the config's folder like every path in it, so that
        # run and report write beside the config whatever the working directory
        parts["output"] = replace(parts["output"], dir=root / "reports" / "run")
    cfg = Config(path=p, text=text, **parts)
    _check_consistency(cfg, ctx)
    return cfg


def _check_consistency(cfg: Config, ctx: _Context) -> None:
    m, a, d = cfg.model, cfg.allocation, cfg.data
    if d.persons is not None and d.persons_table is not None:
        raise ctx.error(
            "persons come from a file (persons) or a database table (persons_table), not both",
            "data",
            "persons_table",
        )
    if (d.database is None) != (d.persons_table is None):
        raise ctx.error(
            "a person table in a database needs both database = <URL> and persons_table = <table>",
            "data",
            "database" if d.database is None else "persons_table",
        )
    if d.memory_limit is not None:
        try:
            check_memory_limit(d.memory_limit)
        except InputError as exc:
            raise ctx.error(str(exc), "data", "memory_limit") from exc
    if d.database is not None:
        try:
            _ = d.person_source
        except InputError as exc:
            raise ctx.error(str(exc), "data", exc.field or "database") from exc
    if d.person_level != (d.unit_key is not None):
        raise ctx.error(
            "a person-level model needs both persons = <file> and unit_key = <column>",
            "data",
            "persons" if not d.person_level else "unit_key",
        )
    if d.header_row is not None and d.header_row < 1:
        raise ctx.error(
            f"must be 1 or more (rows count from 1), got {d.header_row}", "data", "header_row"
        )
    if d.sep is not None and len(d.sep) != 1 and d.sep not in ("\\t", "tab"):
        raise ctx.error(f"must be one character (or 'tab'), got {d.sep!r}", "data", "sep")
    if d.decimal is not None and d.thousands == d.decimal:
        raise ctx.error("thousands separator and decimal mark must differ", "data", "thousands")
    if d.year is not None and d.person_level:
        raise ctx.error(
            "several years are supported for unit-level models; drop year or persons",
            "data",
            "year",
        )
    if d.year is not None:  # a several-year model is estimated: nothing given is dropped
        for option, value, section in (
            ("coefficients", m.coefficients, "model"),
            ("criteria", a.criteria, "allocation"),
            ("criteria_amounts", a.criteria_amounts, "allocation"),
        ):
            if value is not None:
                raise ctx.error(
                    f"[data] year estimates a pooled model with year effects; it cannot be "
                    f"combined with [{section}] {option} (nothing would be estimated); drop one",
                    section,
                    option,
                )
    if d.allocation_year is not None and d.year is None:
        raise ctx.error("allocation_year needs [data] year = <column>", "data", "allocation_year")
    if d.weights is not None and not d.person_level:
        raise ctx.error("person weights need [data] persons", "data", "weights")
    # the model's own settings (method, covariance, cluster, categories, alpha) are checked
    # once, by NeedSpec, at the end; its error names the key
    if a.years is not None:
        first = next(iter(a.years))
        if int(a.years[first]) != a.budget:
            raise ctx.error(
                f"the first year's frame ({first} = {a.years[first]:,.0f}) must equal budget "
                f"({a.budget:,})",
                "allocation",
                "years",
            )
        if a.growth_pct is not None or a.budget_years != 1:
            raise ctx.error(
                "give frames per year or growth_pct with budget_years, not both",
                "allocation",
                "years",
            )
        if a.first_year is not None and str(a.first_year) != first:
            raise ctx.error(
                f"first_year {a.first_year} is not the first of years ({first})",
                "allocation",
                "first_year",
            )
        if len(a.years) < a.phase_in_years:
            raise ctx.error(
                f"phase_in_years = {a.phase_in_years} needs a frame for each year; years gives "
                f"{len(a.years)}",
                "allocation",
                "years",
            )
    if a.growth_pct is not None and a.growth_pct <= -100:
        raise ctx.error(
            f"must be above -100 (a frame cannot shrink by 100 % or more a year), got "
            f"{a.growth_pct:g}",
            "allocation",
            "growth_pct",
        )
    if a.growth_pct is not None and (a.budget_years < 2 or a.first_year is None):
        raise ctx.error(
            "growth_pct needs budget_years (2 or more) and first_year", "allocation", "growth_pct"
        )
    if not 1 <= a.budget_years <= MAX_PHASE_IN_YEARS:
        raise ctx.error(
            f"must be between 1 and {MAX_PHASE_IN_YEARS}, got {a.budget_years}",
            "allocation",
            "budget_years",
        )
    if a.prices is not None:
        labels = a.frames()[1]
        missing = [y for y in labels if y not in a.prices]
        if not labels or missing:
            raise ctx.error(
                "a price index needs calendar years (years or first_year) and a value for each"
                + (f"; missing {', '.join(missing)}" if missing else ""),
                "allocation",
                "prices",
            )
    years = a.budget_and_current_year()
    if a.prices is not None and a.bounds_in == "fixed" and a.current is not None and years:
        first, last = years
        bounded = a.max_loss_pct is not None or a.max_gain_pct is not None
        if bounded and last not in a.prices:
            raise ctx.error(
                f"floors and caps apply in fixed prices: the current budget is lifted to "
                f"{first} prices by the index of its own year; add {last} to prices, or set "
                'bounds_in = "nominal"',
                "allocation",
                "prices",
            )
    if d.exposure_forecast is not None and m.exposure is None:
        raise ctx.error("an exposure forecast needs [model] exposure", "data", "exposure_forecast")
    if d.exposure_forecast is None:
        for name in ("forecast_sheet", "forecast_exposure", "forecast_id"):
            if getattr(d, name) is not None:
                raise ctx.error(f"{name} needs exposure_forecast", "data", name)
    else:
        if not a.frames()[1]:
            raise ctx.error(
                "an exposure forecast is given by calendar year: set [allocation] first_year "
                "(or years) so the budget years have calendar years",
                "data",
                "exposure_forecast",
            )
        same = d.exposure_forecast.resolve() == d.units.resolve()
        if same and (d.forecast_sheet is None or d.forecast_sheet == d.sheet):
            raise ctx.error(
                "the forecast is in the units workbook: name its own sheet with forecast_sheet",
                "data",
                "forecast_sheet",
            )
    if not 1 <= a.phase_in_years <= MAX_PHASE_IN_YEARS:
        raise ctx.error(
            f"must be between 1 and {MAX_PHASE_IN_YEARS} years, got {a.phase_in_years}",
            "allocation",
            "phase_in_years",
        )
    if a.budget <= 0:
        raise ctx.error(f"must be positive, got {a.budget}", "allocation", "budget")
    if a.round_to <= 0:
        raise ctx.error(
            f"must be a positive whole number of kroner, got {a.round_to}", "allocation", "round_to"
        )
    if a.budget % a.round_to:
        raise ctx.error(
            f"budget {a.budget} is not a multiple of round_to {a.round_to}, so rounded "
            "amounts cannot sum to it exactly",
            "allocation",
            "budget",
        )
    try:
        a.policy()
    except AllocationError as e:
        key = e.field if e.field in _field_names(AllocationConfig) else None
        raise ctx.error(str(e), "allocation", key) from e
    if a.current is None:
        for rule in ("max_loss_pct", "max_gain_pct"):
            if getattr(a, rule) is not None:
                raise ctx.error(
                    f"{rule} works against the current budget; set current", "allocation", rule
                )
        if a.equalisation_pct < 100 or a.phase_in_years > 1:
            raise ctx.error("transition rules need the current budget; set current", "allocation")
    u = cfg.uncertainty
    if m.coefficients is not None and u.method == "bootstrap":
        raise ctx.error(
            "the bootstrap refits the model on resampled data, but given coefficients are "
            'not estimated here; use method = "parametric" (with std_error or '
            "coefficients_cov)",
            "uncertainty",
            "method",
        )
    if a.criteria is not None and a.criteria_amounts is not None:
        raise ctx.error(
            "give criteria (weights in %) or criteria_amounts (kr per person), not both",
            "allocation",
            "criteria",
        )
    fixed = a.criteria or a.criteria_amounts
    if fixed is not None:
        key = "criteria" if a.criteria is not None else "criteria_amounts"
        if m.coefficients is not None:
            raise ctx.error(
                "give fixed criteria or given coefficients, not both", "allocation", key
            )
        unknown = sorted(set(fixed) - set(m.indicators))
        missing = sorted(set(m.indicators) - set(fixed))
        if unknown or missing:
            raise ctx.error(
                f"fixed criteria must name every indicator once; unknown: {unknown or 'none'}, "
                f"missing: {missing or 'none'}",
                "allocation",
                key,
            )
        method = resolve_method(m.method, exposure=m.exposure is not None, person_level=False)
        if not method_info(method).additive or d.person_level or m.categorical:
            raise ctx.error(
                "fixed criteria are for additive unit-level models with numeric indicators "
                "(method wls or ols)",
                "allocation",
                key,
            )
        if any(v < 0 for v in fixed.values()):
            raise ctx.error("fixed criteria must not be negative", "allocation", key)
        if a.criteria_amounts is not None and (a.per_capita_pct or a.per_capita_amount):
            raise ctx.error(
                "criteria_amounts are paid as stated and the per-capita pool takes the rest of "
                "the budget; drop per_capita_pct and per_capita_amount",
                "allocation",
                "criteria_amounts",
            )
        if a.criteria is not None and abs(sum(a.criteria.values()) - 100.0) > 1e-6:
            raise ctx.error(
                f"criteria weights must sum to 100 %; they sum to {sum(a.criteria.values()):g}",
                "allocation",
                "criteria",
            )
    if m.reference_means is not None:
        unknown = sorted(set(m.reference_means) - set(m.indicators))
        missing = sorted(set(m.indicators) - set(m.reference_means))
        if unknown or missing:
            raise ctx.error(
                f"reference_means must give every indicator; unknown: {unknown or 'none'}, "
                f"missing: {missing or 'none'}",
                "model",
                "reference_means",
            )
    if m.coefficients_cov is not None and m.coefficients is None:
        raise ctx.error("coefficients_cov needs coefficients", "model", "coefficients_cov")
    if not 0 < u.level < 1:
        raise ctx.error(f"must be between 0 and 1, got {u.level}", "uncertainty", "level")
    if not 10 <= u.replicates <= 100_000:
        raise ctx.error(
            f"must be between 10 and 100,000, got {u.replicates}", "uncertainty", "replicates"
        )
    if not 0 <= u.seed < 2**63:
        raise ctx.error(
            f"must be a whole number from 0 to 2^63 - 1, got {u.seed}", "uncertainty", "seed"
        )
    if m.target is None and not cfg.applied:
        raise ctx.error(
            "missing required key 'target' (the observed cost column the model is estimated "
            "on); only a model applied with [model] coefficients or fixed criteria runs "
            "without one",
            "model",
        )
    for what, col in (("an indicator", m.indicators), ("the target", (m.target_column,))):
        if d.id in col:
            raise ctx.error(
                f"the id column '{d.id}' is listed as {what}; an id names a unit, it is not data",
                "model",
                "indicators" if what == "an indicator" else "target",
            )
    if m.exposure is not None and m.exposure == d.id:
        raise ctx.error(f"the id column '{d.id}' is used as exposure", "model", "exposure")
    try:
        m.spec(unit_key=d.unit_key)
    except InputError as e:
        key = e.field if e.field in _field_names(ModelConfig) else None
        raise ctx.error(str(e), "model", key) from e


def check_config(cfg: Config) -> None:
    """Apply the cross-option rules to a config built or changed in Python.

    Raises
    ------
    ConfigError
        Naming the key, as for a config file.
    """
    _check_consistency(cfg, _Context(cfg.path, cfg.text))


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON's escapes are TOML's
    if isinstance(v, Path):
        return _toml_value(str(v))
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        inner = ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items())
        return "{ " + inner + " }"
    return repr(v)


def _toml_key(k: Any) -> str:
    text = str(k)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else _toml_value(text)


def dump_toml(config: Mapping[str, Any]) -> str:
    """A config (tables of plain values) as TOML text, readable by :func:`parse_config`."""
    lines: list[str] = []
    for section, values in config.items():
        if not isinstance(values, Mapping):
            continue
        lines.append(f"[{section}]")
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)


def load_config(path: Path | str) -> Config:
    """Read and validate a TOML run configuration.

    Parameters
    ----------
    path : Path or str
        The ``.toml`` file. Relative paths inside it are resolved against its
        folder.

    Raises
    ------
    ConfigError
        If the file is missing, not TOML, or has an invalid key or value.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError("config file not found" if not p.exists() else "not a file", path=p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"config must be UTF-8 text ({e.reason} at byte {e.start})", path=p
        ) from e
    return parse_config(text, path=p)
