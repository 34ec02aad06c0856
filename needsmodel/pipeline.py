"""The whole pipeline: config → data → need model → allocation → outputs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .allocate import Allocation, allocate
from .config import Config, load_config
from .data import read_table
from .estimate import NeedResults, NeedSpec, fit_persons, fit_units, prepare_units
from .estimate.fit import warn_influenceable

__all__ = ["RunResult", "file_sha256", "run", "validate"]


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes, as hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class RunResult:
    """Everything a run produced.

    Attributes
    ----------
    config : Config
        The configuration that was run.
    units : DataFrame
        The validated units table, indexed by unit id.
    results : NeedResults
        The fitted need model.
    allocation : Allocation
        The budget distributed over the units.
    inputs : dict
        SHA-256 of every input file, by path.
    """

    config: Config
    units: pd.DataFrame
    results: NeedResults
    allocation: Allocation
    inputs: dict[str, str]

    def write(self, directory: Path | str | None = None) -> list[Path]:
        """Write the keys, coefficients and workbook (see :mod:`needsmodel.export`).

        Parameters
        ----------
        directory : Path or str, optional
            Output folder (default: the config's ``[output] dir``).

        Returns
        -------
        list of Path
            The files written.
        """
        from .export import write_outputs

        return write_outputs(
            self, Path(directory) if directory is not None else self.config.output.dir
        )


def _as_config(config: Config | Path | str) -> Config:
    return config if isinstance(config, Config) else load_config(config)


def _spec(cfg: Config) -> NeedSpec:
    return NeedSpec.from_config(cfg.model, unit_key=cfg.data.unit_key)


def _load_units(cfg: Config, spec: NeedSpec) -> pd.DataFrame:
    table = read_table(cfg.data.units, id=cfg.data.id, sheet=cfg.data.sheet)
    also = (cfg.allocation.current,) if cfg.allocation.current else ()
    return prepare_units(spec, table, id=cfg.data.id, also=also, path=cfg.data.units)


def _load_persons(cfg: Config) -> pd.DataFrame | None:
    if cfg.data.persons is None:
        return None
    return read_table(cfg.data.persons, id=cfg.data.unit_key)


def _estimate(cfg: Config, spec: NeedSpec, units: pd.DataFrame) -> NeedResults:
    warn_influenceable(spec)
    persons = _load_persons(cfg)
    if persons is not None:
        return fit_persons(spec, persons, units=units, path=cfg.data.persons)
    return fit_units(spec, units)


def _input_files(cfg: Config) -> list[Path]:
    return [p for p in (cfg.data.units, cfg.data.persons) if p is not None]


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
    units = _load_units(cfg, _spec(cfg))
    persons = _load_persons(cfg)
    if persons is not None:
        from .data import validate_persons

        spec = _spec(cfg)
        cat = spec.indicators if spec.resolved_method == "cells" else spec.categorical
        validate_persons(
            persons,
            unit_key=str(spec.unit_key),
            numeric=[spec.target],
            nonnegative=[spec.target],
            categorical=[c for c in spec.indicators if c not in cat] + list(cat),
            path=cfg.data.persons,
        )
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
    units = _load_units(cfg, spec)
    results = _estimate(cfg, spec, units)
    a = cfg.allocation
    allocation = allocate(
        results.need,
        a.budget,
        exposure=results.exposure,
        current=units[a.current] if a.current else None,
        round_to=a.round_to,
    )
    inputs = {str(p): file_sha256(p) for p in _input_files(cfg)}
    result = RunResult(
        config=cfg, units=units, results=results, allocation=allocation, inputs=inputs
    )
    if write:
        result.write()
    return result
