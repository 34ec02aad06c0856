"""Reusing a finished run's outputs instead of recomputing them (``needsmodel report``).

A folder written by ``needsmodel run`` holds ``key_uncertainty.csv`` and a
manifest with the SHA-256 of the config text and of every input file. When
they match the config and data at hand and the file is unchanged, the
report reads the key intervals from it instead of drawing them again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .allocation import KeyUncertainty
from .config import Config
from .outputs import file_sha256, read_manifest

__all__ = ["Reused", "reusable_uncertainty"]


@dataclass(frozen=True)
class Reused:
    """Key intervals read from an earlier run, and a sentence saying so."""

    uncertainty: KeyUncertainty
    message: str


def _inputs(cfg: Config) -> dict[str, str]:
    d = cfg.data
    files = [p for p in (d.units, d.persons, d.dictionary, d.exposure_forecast) if p is not None]
    return {str(p): file_sha256(p) for p in files if p.is_file()}


def reusable_uncertainty(cfg: Config, folder: Path) -> Reused | None:
    """The key intervals of the run in ``folder`` if it ran this config on this data, else None."""
    u = cfg.uncertainty
    if u.method == "none" or cfg.data.persons_table is not None:
        return None  # a database table has no file hash to prove it unchanged
    manifest = read_manifest(folder)
    name = "key_uncertainty.csv"
    if manifest is None or name not in manifest.files:
        return None
    if manifest.config_sha256 != hashlib.sha256(cfg.text.encode("utf-8")).hexdigest():
        return None
    # by file name: the same folder spelled relative or absolute is the same run
    if {Path(k).name: v for k, v in manifest.inputs.items()} != {
        Path(k).name: v for k, v in _inputs(cfg).items()
    }:
        return None
    path = folder / name
    if not path.is_file() or path.is_symlink() or file_sha256(path) != manifest.files[name]:
        return None
    sep, decimal = (";", ",") if cfg.output.csv_format == "da" else (",", ".")
    table = pd.read_csv(path, sep=sep, decimal=decimal, encoding="utf-8-sig", dtype={"unit": str})
    table["unit"] = table["unit"].str.lstrip("'")  # an escaped id (see export.escape_cell)
    table["flagged"] = table["flagged"].astype(bool)
    n = len(table)
    ku = KeyUncertainty(
        method=u.method,
        replicates=u.replicates,
        failed=0,
        level=u.level,
        flag_width_pct=u.flag_width_pct,
        table=table,
        share_draws=np.empty((0, n)),
        allocation_draws=np.empty((0, n)),
    )
    return Reused(
        ku,
        f"reused the {u.replicates:,} {u.method} draws of the run at {manifest.created} "
        f"({name}); recomputed the model fit and the allocation",
    )
