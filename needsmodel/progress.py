"""Progress bars for long steps (tqdm), shown only on a terminal and only after a delay.

A bar appears when a step has run for more than ``DELAY`` seconds and standard
error is a terminal, so short runs, tests and piped output stay quiet.
``NEEDSMODEL_PROGRESS=1`` forces bars on, ``=0`` off.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar


def tqdm(*args: Any, **kwargs: Any) -> Any:
    """A bar of tqdm's: its notebook bar in a notebook with ipywidgets, else its text bar.

    ``tqdm.auto`` without ipywidgets warns ("IProgress not found") on import;
    a notebook without widgets gets the text bar instead, with no warning.
    tqdm is imported at the first bar (its version lookup reads the installed
    packages' metadata), so code that draws none does not load it.
    """
    if "ipykernel" in sys.modules and importlib.util.find_spec("ipywidgets") is not None:
        import tqdm.notebook  # deferred: imports IPython and ipywidgets

        return tqdm.notebook.tqdm(*args, **kwargs)
    import tqdm as text_bars

    return text_bars.tqdm(*args, **kwargs)


__all__ = ["DELAY", "configure_duckdb", "progress", "progress_iter"]

DELAY = 2.0
T = TypeVar("T")


def _enabled(enabled: bool | None) -> bool:
    if enabled is not None:
        return enabled
    forced = os.environ.get("NEEDSMODEL_PROGRESS")
    if forced is not None:
        return forced not in ("0", "", "false", "no")
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def configure_duckdb(con: Any, enabled: bool | None = None) -> None:
    """Let DuckDB draw its own bar (after ``DELAY`` seconds) under the same rule as ours."""
    on = "true" if _enabled(enabled) else "false"
    # setting the time switches DuckDB's bar on, so it goes first
    con.execute(f"SET progress_bar_time = {int(DELAY * 1000)}")
    con.execute(f"SET enable_progress_bar = {on}")


def progress(
    *, total: int | None = None, desc: str = "", unit: str = "it", enabled: bool | None = None
) -> Any:
    """A tqdm bar to ``update`` by hand (shown after ``DELAY`` seconds on a terminal)."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        delay=DELAY,
        disable=not _enabled(enabled),
        file=sys.stderr,
    )


def progress_iter(
    items: Iterable[T],
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    enabled: bool | None = None,
) -> Iterator[T]:
    """Iterate with a tqdm bar (shown after ``DELAY`` seconds on a terminal)."""
    yield from tqdm(
        items,
        total=total,
        desc=desc,
        unit=unit,
        delay=DELAY,
        disable=not _enabled(enabled),
        file=sys.stderr,
    )
