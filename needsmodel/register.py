"""Register-scale estimation (moved to :mod:`needsmodel.estimate.register`).

Kept so that ``needsmodel.register`` and ``from needsmodel.register import ...``
go on working: the names are those of :mod:`needsmodel.estimate.register`, and
:func:`fit_file` (which chooses the engine) of :mod:`needsmodel.estimate.fit`.
"""

from __future__ import annotations

from .estimate.fit import DUCKDB_BYTES, choose_engine, fit_file
from .estimate.register import (
    COLLAPSIBLE_METHODS,
    ENGINES,
    Collapsed,
    collapse,
    fit_chunked,
    fit_collapsed,
)

__all__ = [
    "COLLAPSIBLE_METHODS",
    "DUCKDB_BYTES",
    "ENGINES",
    "Collapsed",
    "choose_engine",
    "collapse",
    "fit_chunked",
    "fit_collapsed",
    "fit_file",
]
