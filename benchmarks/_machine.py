"""Machine state for benchmark output: cores, load, BLAS threads; and a busy core on demand.

Imported by the benchmark scripts (run as ``python benchmarks/bench_*.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy  # noqa: F401  (loads the BLAS library whose threads are reported)

from needsmodel.threads import blas_settings

__all__ = ["busy_core", "describe"]

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def describe() -> str:
    """One line: cores, 1-minute load, BLAS library and threads, thread variables set."""
    load = os.getloadavg()[0]
    env = [f"{v}={os.environ[v]}" for v in THREAD_VARS if v in os.environ]
    return (
        f"machine: {os.cpu_count()} cores, load {load:.2f} (1 min); {blas_settings()}; "
        f"thread variables: {', '.join(env) if env else 'none set (library defaults)'}"
    )


@contextmanager
def busy_core(on: bool) -> Iterator[None]:
    """Keep one core busy with a spinning process while the block runs (``on``)."""
    if not on:
        yield
        return
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        print("  (another process keeps one core busy during the timings)")
        yield
    finally:
        spin.kill()
        spin.wait()
