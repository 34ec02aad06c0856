"""Provenance: what is needed to reproduce a run (the metadata sheet and the report's block).

The config, the SHA-256 of every input file, the package versions and the time
of the run. Paths are given relative to the config's folder, so no machine's
layout is printed. The output folder's own record, ``manifest.json``, lives
with the code that writes the folder (:mod:`needsmodel.outputs`).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ._version import __version__
from .collapse import DatabaseTable
from .modeltext import bounds_line
from .redact import redact_passwords

if TYPE_CHECKING:
    from .runresult import RunResult

__all__ = ["metadata_frame", "redact_passwords", "relative_path"]


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:  # pragma: no cover - every dependency is installed
        return "(not installed)"


def metadata_frame(result: RunResult, when: _dt.datetime | None = None) -> pd.DataFrame:
    """What is needed to reproduce the run: config, input hashes, versions, time."""
    when = when or _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    base = Path(result.config.path).parent if result.config.path else None
    rows: list[tuple[str, str]] = [
        ("needsmodel version", __version__),
        ("run at (UTC)", when.isoformat()),
        ("config file", Path(result.config.path).name if result.config.path else "(in memory)"),
    ]
    for path, digest in result.inputs.items():
        rows.append((f"sha256 {Path(path).name}", digest))
        rows.append((f"path {Path(path).name}", relative_path(path, base)))
    rows += [("python", platform.python_version())]
    rows += [
        (name, _version(package))
        for name, package in (
            ("numpy", "numpy"),
            ("pandas", "pandas"),
            ("scipy", "scipy"),
            ("statsmodels", "statsmodels"),
            ("scikit-learn", "scikit-learn"),
        )
    ]
    basis = bounds_line(result.allocation, result.config.output.lang)
    if basis:  # the basis of floors and caps, in the config's language
        rows.append(("floors and caps", basis))
    source = result.config.data.person_source
    if isinstance(source, DatabaseTable):  # no file to hash: say where the persons were read
        rows.append(("persons from", source.where))
    text = result.config.redacted_text
    for i, line in enumerate(text.splitlines(), start=1):
        rows.append((f"config line {i}", line))
    return pd.DataFrame(rows, columns=["item", "value"])


def relative_path(path: Path | str, base: Path | None) -> str:
    """``path`` relative to ``base`` (the config's folder), so no machine's layout is printed.

    Examples
    --------
    >>> relative_path("/srv/budget/data/units.csv", Path("/srv/budget"))
    'data/units.csv'
    """
    if base is None:
        return Path(path).name
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(base).resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return Path(path).name
