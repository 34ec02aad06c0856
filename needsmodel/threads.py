"""Thread limits for small dense algebra.

OpenBLAS and MKL start one thread per core for every matrix product. On the
small matrices of need models (a unit table, the cells of a collapsed register,
a batch of bootstrap refits) that buys nothing on an idle machine and, on a
loaded one, makes a product wait for a busy core: a 15,600 × 25 least-squares
call measured 74 ms alone and over a second with a second process holding one
of two cores. Such algebra therefore runs with one BLAS thread; large designs
(persons fitted in memory) keep the library's default.

The limit is taken with :mod:`threadpoolctl` (a scikit-learn dependency) and
applies only to BLAS libraries, not to DuckDB's or OpenMP's own threads.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from threadpoolctl import ThreadpoolController

__all__ = ["SMALL_FLOPS", "blas_limit", "blas_settings", "small_algebra"]

#: Designs with rows × columns² at or below this run on one BLAS thread
#: (a 2,000,000 × 25 person design is 1.25e9 and keeps the default).
SMALL_FLOPS = 2e8

P = ParamSpec("P")
R = TypeVar("R")

_controller: list[Any] = []  # [ThreadpoolController, number of modules when it was made]


def _libraries() -> ThreadpoolController:
    """The loaded thread-pool libraries, rescanned only when new modules were imported.

    Scanning the process's shared libraries takes a few milliseconds, as long as
    a whole bootstrap of a small model; a new import is the only way a new BLAS
    library arrives.
    """
    if not _controller or _controller[1] != len(sys.modules):
        _controller[:] = [ThreadpoolController(), len(sys.modules)]
    return _controller[0]


@contextmanager
def _one_thread() -> Iterator[None]:
    with _libraries().limit(limits=1, user_api="blas"):
        yield


@contextmanager
def blas_limit(rows: int, cols: int) -> Iterator[int | None]:
    """One BLAS thread while the block runs if the design is small.

    Parameters
    ----------
    rows, cols : int
        Shape of the largest dense matrix the block factorises.

    Yields
    ------
    int or None
        1 when limited, None when the library default applies.
    """
    if rows * cols * cols <= SMALL_FLOPS:
        with _one_thread():
            yield 1
    else:
        yield None


def small_algebra(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function whose dense algebra is small: one BLAS thread inside it."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with _one_thread():
            return func(*args, **kwargs)

    return wrapper


def blas_settings() -> str:
    """The BLAS libraries loaded and their thread counts, for benchmark output."""
    libs = [i for i in _libraries().info() if i.get("user_api") == "blas"]
    if not libs:
        return "no BLAS library loaded"
    return ", ".join(f"{i['internal_api']} {i['num_threads']} threads" for i in libs)
