"""Large synthetic person files from the sample municipality's model.

Pupils are drawn exactly as in the bundled sample (the same family-background
and special-education model, :mod:`needsmodel.datasets._generator`), in as
many school districts as asked, plus two categorical indicators with no effect
on the outcome (``sex`` and ``siblings``), so that register-scale models with
eight categorical indicators can be tested and benchmarked. Written in chunks
to Parquet or CSV, so memory does not grow with the number of persons.

Command line::

    python -m needsmodel.datasets.synthetic --persons 2000000 --out pupils.parquet
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..progress import progress
from . import _generator as g

__all__ = ["INDICATORS", "main", "synthetic_persons", "write_synthetic"]

#: The eight categorical indicators of a synthetic person file.
INDICATORS = (
    "parents_education",
    "parents_outside_labour_market",
    "single_parent",
    "background",
    "income_quartile",
    "grade",
    "sex",
    "siblings",
)


def synthetic_persons(
    persons: int, *, districts: int | None = None, seed: int = 1, chunk: int = 250_000
) -> Iterator[pd.DataFrame]:
    """Yield chunks of synthetic pupils (about ``chunk`` rows each).

    Parameters
    ----------
    persons : int
        Total number of pupils (the last chunk is cut to hit it exactly).
    districts : int, optional
        Number of school districts (default: one per 10,000 pupils, at least 20).
    seed : int
        Seed; the same arguments give the same file.
    chunk : int
        Rows per chunk.
    """
    if persons < 1:
        raise ValueError(f"persons must be at least 1; got {persons}")
    n_d = districts if districts is not None else max(20, persons // 10_000)
    rng = np.random.default_rng(seed)
    mean = persons / n_d
    sizes = np.maximum(1, rng.integers(int(mean * 0.5), int(mean * 1.5) + 1, size=n_d))
    sizes = np.round(sizes * persons / sizes.sum()).astype(int)
    sizes[-1] += persons - sizes.sum()
    districts_all = g._Districts(
        size=sizes, z=rng.normal(0.0, 1.0, n_d), offsets=rng.normal(0.0, 0.45, (n_d, 4))
    )
    start = 0
    next_id = 1
    while start < n_d:
        stop = start
        rows = 0
        while stop < n_d and (rows == 0 or rows + sizes[stop] <= chunk):
            rows += sizes[stop]
            stop += 1
        part = g._Districts(
            size=sizes[start:stop],
            z=districts_all.z[start:stop],
            offsets=districts_all.offsets[start:stop],
        )
        crng = np.random.default_rng([seed, start])
        b = g._draw_backgrounds(crng, part)
        frame = g._pupil_frame(crng, b, stop - start)
        frame["district"] = [f"D{start + int(k[1:]):05d}" for k in frame["district"]]
        n = len(frame)
        frame["pupil_id"] = np.arange(next_id, next_id + n)
        frame["sex"] = np.where(crng.random(n) < 0.5, "girl", "boy")
        frame["siblings"] = np.minimum(crng.poisson(1.2, n), 4)
        next_id += n
        start = stop
        yield frame


def write_synthetic(
    out: Path | str,
    persons: int,
    *,
    districts: int | None = None,
    seed: int = 1,
    chunk: int = 250_000,
    show_progress: bool | None = None,
) -> Path:
    """Write a synthetic person file (``.parquet`` or ``.csv``) in chunks."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise ValueError(f"--out must end in .parquet or .csv; got {path.name}")
    tmp = path.with_name(f".{path.name}.partial")
    writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
    bar = progress(total=persons, desc="writing persons", unit=" persons", enabled=show_progress)
    try:
        for frame in synthetic_persons(persons, districts=districts, seed=seed, chunk=chunk):
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = (
                    pq.ParquetWriter(tmp, table.schema)
                    if suffix == ".parquet"
                    else pacsv.CSVWriter(tmp, table.schema)
                )
            writer.write_table(table)
            bar.update(len(frame))
        if writer is not None:
            writer.close()
            writer = None
        tmp.replace(path)
    finally:
        bar.close()
        if writer is not None:
            writer.close()
        if tmp.exists():
            tmp.unlink()
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m needsmodel.datasets.synthetic --persons N --out FILE``."""
    p = argparse.ArgumentParser(
        prog="python -m needsmodel.datasets.synthetic",
        description="Write a large synthetic pupil file from the sample municipality's model.",
    )
    p.add_argument("--persons", type=int, required=True, help="number of pupils")
    p.add_argument("--out", type=Path, required=True, help="output file (.parquet or .csv)")
    p.add_argument(
        "--districts", type=int, default=None, help="school districts (default: persons / 10,000)"
    )
    p.add_argument("--seed", type=int, default=1, help="random seed")
    p.add_argument("--chunk", type=int, default=250_000, help="rows written at a time")
    args = p.parse_args(argv)
    try:
        write_synthetic(
            args.out, args.persons, districts=args.districts, seed=args.seed, chunk=args.chunk
        )
    except (ValueError, OSError) as e:
        print(f"synthetic: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.persons:,} persons to {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
