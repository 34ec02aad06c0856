"""Person data collapsed to unit × cell sums where it lives: a file, a table in memory, a database.

A person-level OLS, logit or Poisson model with categorical indicators depends
on the persons only through per-unit, per-cell counts and sums (see
:mod:`needsmodel.estimate.register`). That ``GROUP BY`` is written **once**, as
a SQLAlchemy statement, and runs

* on embedded DuckDB for Parquet and CSV files (out of core, reading only the
  needed columns) and for DataFrames, and
* on a database server for a :class:`DatabaseTable` (PostgreSQL through
  psycopg; any SQLAlchemy dialect the server has, e.g. SQL Server through
  ``mssql+pyodbc``, Spark SQL or BigQuery through their SQLAlchemy packages),
  so that only the unit × cell table crosses the network.

The unit × cell table then gets its cell and unit codes in DuckDB on the local
machine. For a source DuckDB reads itself (a file, a DataFrame) no unit × cell
table is held at all: the cells come from one pass (a hash table of the few
thousand indicator combinations), the units and their sums from another, and
every later sum (per cross-validation fold and cell, per unit for given cell
means) is one more pass over the persons joined to their cell and unit codes.
Each such pass keeps only its small result in memory, so the memory a fit
needs is bounded by the cells and units, not the persons, and at twenty
million persons the passes are faster than building the table. Both ways are
statements of :func:`_statements`, and give the same sums.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._deferred import paused_gc
from .errors import DataError, InputError, MissingFileError, format_ids
from .progress import configure_duckdb
from .redact import redact, redact_passwords

__all__ = [
    "MEMORY_LIMIT",
    "CellStore",
    "Collapsed",
    "DatabaseTable",
    "check_memory_limit",
    "check_persons",
    "collapse",
    "column_types",
    "continuous_columns",
    "distinct_values",
    "read_database",
    "redact_passwords",
]

#: ``schema.table`` or ``table``: letters, digits, underscores (a table name is never
#: pasted into SQL unquoted, but a typo should fail here with its name, not at the server).
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")


@dataclass(frozen=True)
class DatabaseTable:
    """A person table in a database server.

    Parameters
    ----------
    url : str
        SQLAlchemy URL, e.g. ``"postgresql+psycopg://analyst@warehouse/registers"``.
        Keep the password out of it: libpq reads ``PGPASSWORD`` and ``~/.pgpass``.
        ``"env:NAME"`` takes the URL from the environment variable ``NAME``.
    table : str
        ``table`` or ``schema.table``.

    Examples
    --------
    >>> t = DatabaseTable("postgresql+psycopg://analyst:secret@db/registers", "skole.pupils")
    >>> t.where
    'postgresql+psycopg://analyst:***@db/registers, table skole.pupils'
    """

    url: str
    table: str

    def __repr__(self) -> str:  # never print a password
        return f"DatabaseTable({self.redacted_url!r}, {self.table!r})"

    def __post_init__(self) -> None:
        if not _TABLE.match(self.table):
            raise InputError(
                f"database table must be 'table' or 'schema.table' (letters, digits, _); "
                f"got {self.table!r}",
                field="persons_table",
            )
        if self.url.startswith("env:") and not os.environ.get(self.url[4:]):
            raise InputError(
                f"the database URL is taken from the environment variable {self.url[4:]!r}, "
                "which is not set",
                field="database",
            )
        if "://" not in self.resolved_url:
            raise InputError(
                "database must be a SQLAlchemy URL such as "
                f"'postgresql+psycopg://user@host/db'; got {self.redacted_url!r}",
                field="database",
            )

    @property
    def resolved_url(self) -> str:
        """The URL, read from the environment for ``env:NAME``."""
        return os.environ.get(self.url[4:], "") if self.url.startswith("env:") else self.url

    @property
    def redacted_url(self) -> str:
        """The URL with its password replaced by ``***`` (for messages and provenance)."""
        return redact(self.resolved_url, [self.resolved_url])

    @property
    def where(self) -> str:
        """Where the persons are, for messages: the redacted URL and the table."""
        return f"{self.redacted_url}, table {self.table}"

    @property
    def schema_and_name(self) -> tuple[str | None, str]:
        """``(schema, table)``."""
        schema, _, name = self.table.rpartition(".")
        return (schema or None), name

    def connect(self) -> Any:
        """A SQLAlchemy connection (the caller closes it)."""
        import sqlalchemy as sa

        try:
            engine = sa.create_engine(self.resolved_url)
            return engine.connect()
        except Exception as exc:  # driver missing, server down, login refused
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(
                f"{self.redacted_url}: cannot connect to the database: "
                + redact(first, [self.resolved_url])
            ) from exc


@dataclass(frozen=True, eq=False)
class Collapsed:
    """A person file collapsed to cells.

    Attributes
    ----------
    cells : DataFrame
        One row per combination of indicator values (row ``i`` is cell ``i``): the indicators, ``n``
        (persons), ``sw`` (sum of weights), ``swy``, ``swyy`` (weighted sums of
        y and y²), ``sww``, ``swwy``, ``swwyy`` (with squared weights, for the
        robust covariances of weighted fits), ``npos`` (persons with y > 0).
    unit_cells : DataFrame
        The same per unit and cell, as numbers: ``unit`` (position in
        :attr:`units`), ``cell``, ``n, sw, swy, swyy, npos``.
    persons : int
        Persons read.
    units : Index
        The unit ids, in code order.
    log_factorial_sum : float
        Σ log y! over all persons (for Poisson log-likelihoods), when asked for.
    """

    cells: pd.DataFrame
    unit_cells: pd.DataFrame
    persons: int
    units: pd.Index
    log_factorial_sum: float = 0.0


def _source_sql(path: Path) -> str:
    suffix = path.suffix.lower()
    literal = "'" + str(path).replace("'", "''") + "'"
    if suffix in (".parquet", ".pq"):
        return f"read_parquet({literal})"
    if suffix in (".csv", ".txt"):
        return f"read_csv({literal}, header = true)"
    raise InputError(f"{path}: collapsing reads .parquet or .csv files; got '{path.suffix}'")


def _duckdb_sql(statement: Any) -> str:
    """A SQLAlchemy statement as DuckDB SQL.

    SQLAlchemy's generic compiler suffices: the statements use only standard
    SQL (``CAST``, ``CASE``, ``count``, ``sum``, joins) and quote every name
    (:func:`_statements`), so DuckDB's own reserved words need no list. This
    spares loading a dialect package (PostgreSQL's loads its async drivers'
    modules too).
    """
    import sqlalchemy as sa

    generic = sa.engine.default.DefaultDialect()
    return str(statement.compile(dialect=generic, compile_kwargs={"literal_binds": True}))


#: DuckDB types that can hold NaN and infinities.
_FLOATING = frozenset({"FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8"})


#: DuckDB's integer and boolean types.
_INTEGRAL = frozenset(
    {"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
    | {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
)
#: DuckDB types whose equal values are equal bytes, so that they hash equally.
_HASHABLE = _INTEGRAL | {"VARCHAR"}


def _exact_type(duckdb_type: str) -> bool:
    """Whether a DuckDB type holds only finite numbers (integers, decimals, booleans)."""
    return duckdb_type in _INTEGRAL or duckdb_type.startswith("DECIMAL")


#: The rows to sum when the unit × cell sums are stored (table ``ucs``): with each
#: unit's fold, read from ``unitids`` because the folds are set after numbering.
_STORED_ROWS = "SELECT s.*, u.fold FROM ucs s JOIN unitids u ON u.code = s.unit"

#: Sums per cell (and per unit and cell) that every fit reads.
_SUMS = ("n", "sw", "swy", "swyy", "npos")
#: More sums of weighted fits (squared weights, for their robust covariances).
_WEIGHTED_SUMS = ("sww", "swwy", "swwyy")
#: Column names the collapsed tables give their own columns; no indicator may take one.
OWN_NAMES = ("unit", "cell", "cellhash", *_SUMS, *_WEIGHTED_SUMS)


def _statements(
    table: str,
    schema: str | None,
    *,
    unit_key: str,
    target: str,
    indicators: list[str],
    weights: str | None,
    floating: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """The person source's queries, as SQLAlchemy statements over the table ``table``.

    ``checks`` counts persons, missing values, negative outcomes and weights, values
    that are not finite numbers (NaN, ±infinity) in the ``floating`` columns;
    ``unit_cells`` is the unit × cell ``GROUP BY`` (run where the persons are);
    ``outcomes`` the distinct outcomes. For a source DuckDB reads itself,
    ``cells`` (the cells' sums), ``units`` (the units' counts and sums) and
    ``rows`` (each person's unit code, fold, cell code and terms of the sums,
    from joins to the local tables ``cellids`` and ``unitids``; ``rows_hashed``
    joins the cells on one hash of the indicators) give the same sums without
    a table keyed by the unit and every indicator value.
    """
    with paused_gc():
        import sqlalchemy as sa

    def name(text: str) -> Any:  # always quoted: right on every engine, whatever its keywords
        return sa.quoted_name(text, True)

    needed = [unit_key, target, *indicators, *([weights] if weights else [])]
    persons = sa.table(
        name(table),
        *(sa.column(name(c)) for c in dict.fromkeys(needed)),
        schema=None if schema is None else name(schema),
    )

    def col(name: str) -> Any:
        return persons.c[name]

    y = sa.cast(col(target), sa.Double)
    w = sa.cast(col(weights), sa.Double) if weights else sa.literal(1.0, sa.Double)
    # ids as text without surrounding spaces, as the units table and the in-memory path read them
    unit = sa.func.trim(sa.cast(col(unit_key), sa.String))
    inds = [col(c) for c in indicators]
    count = sa.func.count()
    # NaN and infinities as SQL literals that DuckDB and PostgreSQL both read
    not_finite = [sa.cast(sa.literal(v), sa.Double) for v in ("NaN", "Infinity", "-Infinity")]
    checks = sa.select(
        count,
        *(count - sa.func.count(col(c)) for c in needed),
        sa.func.sum(sa.case((y < 0, 1), else_=0)),
        sa.func.sum(sa.case((w < 0, 1), else_=0)),
        *(
            sa.func.sum(sa.case((sa.cast(col(c), sa.Double).in_(not_finite), 1), else_=0))
            for c in floating
        ),
    ).select_from(persons)

    def total(expr: Any, label: str) -> Any:
        return sa.cast(sa.func.sum(expr), sa.Double).label(label)

    sw, swy, swyy = total(w, "sw"), total(w * y, "swy"), total(w * y * y, "swyy")
    positives = sa.func.sum(sa.case((y > 0, 1), else_=0))
    sums = [
        sa.cast(count, sa.BigInteger).label("n"),
        sw,
        swy,
        swyy,
        sa.cast(positives, sa.BigInteger).label("npos"),
    ]
    weighted = (
        [total(w * w, "sww"), total(w * w * y, "swwy"), total(w * w * y * y, "swwyy")]
        if weights
        else []
    )
    unit_cells = (
        sa.select(unit.label("unit"), *inds, *sums, *weighted)
        .select_from(persons)
        .group_by(unit, *inds)
    )
    cells = sa.select(*inds, *sums, *weighted).select_from(persons).group_by(*inds)
    units = sa.select(unit.label("unit"), sums[0], sw, swy).select_from(persons).group_by(unit)
    cellids = sa.table(
        name("cellids"),
        *(sa.column(name(c)) for c in indicators),
        sa.column(name("cell")),
        sa.column(name("cellhash")),
    )
    unitids = sa.table(
        name("unitids"), sa.column(name("unit")), sa.column(name("code")), sa.column(name("fold"))
    )
    joined = persons.join(cellids, sa.and_(*(col(c) == cellids.c[c] for c in indicators))).join(
        unitids, unitids.c.unit == unit
    )
    # the same join on one hash of the indicators (see _unit_cell_table for when it is exact)
    hashed = persons.join(cellids, cellids.c.cellhash == sa.func.hash(*inds)).join(
        unitids, unitids.c.unit == unit
    )
    # one row per person, narrow: 4-byte codes and counts, no weight for unit weights
    narrow = [
        sa.literal(1, sa.Integer).label("n"),
        *([w.label("sw")] if weights else []),
        (w * y).label("swy"),
        (w * y * y).label("swyy"),
        sa.case((y > 0, 1), else_=0).label("npos"),
    ]
    rows = sa.select(unitids.c.code.label("unit"), unitids.c.fold, cellids.c.cell, *narrow)
    outcomes = sa.select(y.label("y"), sa.cast(count, sa.BigInteger).label("k")).select_from(
        persons
    )
    outcomes = outcomes.group_by(y)
    return {
        "checks": checks,
        "unit_cells": unit_cells,
        "cells": cells,
        "units": units,
        "rows": rows.select_from(joined),
        "rows_hashed": rows.select_from(hashed),
        "outcomes": outcomes,
        "needed": needed,
        "floating": list(floating),
        "weights": weights,
    }


def _require_columns(needed: list[str], present: list[str], where: str) -> None:
    """Raise :class:`DataError` naming the needed columns ``where`` lacks."""
    missing = [c for c in needed if c not in present]
    if missing:
        raise DataError(
            f"column(s) {format_ids(missing)} not found in {where} (columns: {', '.join(present)})",
            column=missing[0],
        )


@contextmanager
def _file_connection(path: Path | str) -> Iterator[tuple[Any, str]]:
    """A fresh DuckDB connection and the SQL that reads ``path`` (closed afterwards)."""
    import duckdb

    p = Path(path)
    if not p.is_file():
        raise MissingFileError("file not found", path=p)
    con = duckdb.connect()
    try:
        configure_duckdb(con)
        yield con, _source_sql(p)
    finally:
        con.close()


def _file_query(path: Path | str, sql: str) -> Any:
    """Run ``sql`` (``{src}`` stands for the file) on a fresh DuckDB; fetch everything."""
    with _file_connection(path) as (con, src):
        cur = con.execute(sql.format(src=src))
        return cur.description, cur.fetchall()


def column_types(path: Path | str) -> dict[str, str]:
    """Column → DuckDB type name (upper case) of a Parquet or CSV file."""
    description, _ = _file_query(path, "SELECT * FROM {src} LIMIT 0")
    return {d[0]: str(d[1]).upper() for d in description}


def distinct_values(path: Path | str, columns: list[str]) -> tuple[dict[str, list[str]], int]:
    """The distinct values (as text) of ``columns`` in a file, and its number of rows."""
    with _file_connection(path) as (con, src):
        out = {
            c: [str(v) for v in con.execute(f"SELECT DISTINCT {_q(c)} FROM {src}").fetchnumpy()[c]]
            for c in columns
        }
        row = con.execute(f"SELECT COUNT(*) FROM {src}").fetchone()
    return out, int(row[0]) if row else 0


def continuous_columns(path: Path | str, columns: list[str], limit: int = 50) -> list[str]:
    """Numeric columns of a file with more than ``limit`` distinct values (approximately)."""
    if not columns:
        return []
    types = column_types(path)
    numeric = [c for c in columns if types.get(c) not in ("VARCHAR", "STRING", None)]
    if not numeric:
        return []
    counts = ", ".join(f"approx_count_distinct({_q(c)})" for c in numeric)
    _, rows = _file_query(path, f"SELECT {counts} FROM {{src}}")
    return [c for c, k in zip(numeric, rows[0], strict=True) if k > limit]


def _table_columns(source: DatabaseTable, conn: Any | None) -> list[str]:
    return list(_table_types(source, conn))


def _table_types(source: DatabaseTable, conn: Any | None) -> dict[str, Any]:
    """Column → SQLAlchemy type of a database table (DataError when it does not exist)."""
    import sqlalchemy as sa

    own = conn is None
    conn = source.connect() if conn is None else conn
    try:
        schema, name = source.schema_and_name
        inspector = sa.inspect(conn)
        if not inspector.has_table(name, schema=schema):
            raise DataError(f"{source.where}: table not found in the database")
        return {str(c["name"]): c["type"] for c in inspector.get_columns(name, schema=schema)}
    finally:
        if own:
            conn.close()


def read_database(source: DatabaseTable, columns: list[str], *, id: str) -> pd.DataFrame:
    """Read the named columns of a database table into memory (``id`` as text).

    For models that need the persons themselves (two-part, Gamma, the
    bootstrap); collapsible models should use :func:`collapse` instead.
    """
    import sqlalchemy as sa

    conn = source.connect()
    try:
        _require_columns(columns, _table_columns(source, conn), source.where)
        schema, name = source.schema_and_name
        stmt = sa.select(
            *(
                sa.cast(sa.column(c, is_literal=False), sa.String).label(c)
                if c == id
                else sa.column(c, is_literal=False)
                for c in dict.fromkeys(columns)
            )
        ).select_from(sa.table(name, schema=schema))
        try:
            frame = pd.read_sql_query(stmt, conn)
        except sa.exc.SQLAlchemyError as exc:
            first = str(exc).strip().splitlines()[0]
            raise DataError(f"{source.where}: the database refused the query: {first}") from exc
    finally:
        conn.close()
    frame[id] = frame[id].astype(str).str.strip()
    return frame


_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


def check_memory_limit(value: str) -> str:
    """A DuckDB memory limit such as ``"512MB"`` or ``"2GB"``, checked.

    Examples
    --------
    >>> check_memory_limit("2GB")
    '2GB'
    """
    if not isinstance(value, str) or not _MEMORY.match(value):
        raise InputError(
            f"memory_limit must be a size such as '512MB' or '2GB'; got {value!r}",
            field="memory_limit",
        )
    return value.strip()


class _Session:
    """A person source opened for queries: DuckDB locally, plus a server connection if any."""

    def __init__(
        self,
        source: Path | str | pd.DataFrame | DatabaseTable,
        *,
        unit_key: str,
        target: str,
        indicators: list[str],
        weights: str | None,
        memory_limit: str | None = None,
    ) -> None:
        with paused_gc():
            import duckdb

        self.source = source
        self.con = duckdb.connect()
        self.remote: Any = None
        #: whether another pass over the persons is cheap (columns read, not text parsed)
        self.columnar = True
        #: whether the persons were parsed into the local table ``persons_read``
        self.read_once = False
        #: column → DuckDB type of a source DuckDB reads itself
        self.types: dict[str, str] = {}
        configure_duckdb(self.con)
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{check_memory_limit(memory_limit)}'")
        try:
            schema: str | None = None
            if isinstance(source, DatabaseTable):
                self.where = source.where
                self.remote = source.connect()
                import sqlalchemy as sa

                table_types = _table_types(source, self.remote)
                columns = list(table_types)
                floating = [c for c, t in table_types.items() if isinstance(t, sa.Float)]
                # integers and decimals: never NaN or infinite
                exact = [
                    c
                    for c, t in table_types.items()
                    if isinstance(t, sa.Integer | sa.Boolean)
                    or (isinstance(t, sa.Numeric) and not isinstance(t, sa.Float))
                ]
                schema, name = source.schema_and_name
            else:
                name = "persons"
                if isinstance(source, pd.DataFrame):
                    self.con.register(name, source)
                    self.where = "the person table"
                else:
                    path = Path(source)
                    if not path.is_file():
                        raise MissingFileError("file not found", path=path)
                    self.where = f"the person file {path}"
                    self.columnar = path.suffix.lower() in (".parquet", ".pq")
                    self.con.execute(
                        f"CREATE TEMP VIEW {name} AS SELECT * FROM {_source_sql(path)}"
                    )
                described = self.con.execute(f"SELECT * FROM {name} LIMIT 0").description
                columns = [d[0] for d in described]
                self.types = {d[0]: str(d[1]).upper() for d in described}
                floating = [c for c, t in self.types.items() if t in _FLOATING]
                exact = [c for c, t in self.types.items() if _exact_type(t)]
            own = [c for c in indicators if c in OWN_NAMES]
            if own:
                raise DataError(
                    f"indicator column '{own[0]}' in {self.where} has a name that the collapsed "
                    f"fit gives its own columns ({', '.join(OWN_NAMES)}); rename the column",
                    column=own[0],
                )
            # the outcome and the weights are read as numbers whatever their type; an
            # indicator only when its type can hold NaN (else it is a category's label)
            numbers = list(dict.fromkeys([target, *([weights] if weights else [])]))
            checked = [c for c in numbers if c not in exact]
            checked += [c for c in floating if c in indicators and c not in numbers]
            self._statements = partial(
                _statements,
                unit_key=unit_key,
                target=target,
                indicators=indicators,
                weights=weights,
                floating=checked,
            )
            self.st = self._statements(name, schema)
            _require_columns(self.st["needed"], columns, self.where)
        except BaseException:
            self.close()
            raise
        self.target = target

    def read_text_once(self) -> None:
        """Parse a text file once into a local table of the needed columns.

        The collapse reads the persons several times; each pass over a CSV file
        would parse all of its text again, a pass over the table reads columns.
        Beyond DuckDB's memory limit the table spills to its temporary folder.
        """
        if self.columnar or self.remote is not None:
            return
        needed = ", ".join(_q(c) for c in dict.fromkeys(self.st["needed"]))
        self.con.execute(f"CREATE TEMP TABLE persons_read AS SELECT {needed} FROM persons")
        self.st = self._statements("persons_read", None)
        self.columnar = True
        self.read_once = True

    def run(self, name: str) -> Any:
        """Run one of the statements where the persons are; a cursor-like result."""
        import duckdb
        import sqlalchemy as sa

        try:
            if self.remote is not None:
                return self.remote.execute(self.st[name])
            return self.con.execute(_duckdb_sql(self.st[name]))
        except sa.exc.SQLAlchemyError as exc:
            first = str(exc).strip().splitlines()[0]
            raise DataError(f"{self.where}: the database refused the query: {first}") from exc
        except duckdb.ConversionException as exc:  # e.g. text in the outcome column
            first = str(exc).strip().splitlines()[0]
            raise DataError(
                f"{self.where}: the outcome and weight columns must hold numbers ({first})"
            ) from exc

    def check(self) -> int:
        """Persons, after checking for missing values and negative outcomes."""
        row = self.run("checks").fetchone()
        assert row is not None
        needed, floating = self.st["needed"], self.st["floating"]
        total, nulls = row[0], row[1 : 1 + len(needed)]
        negative, negative_weights = row[1 + len(needed)], row[2 + len(needed)]
        if not total:
            raise DataError(f"{self.where} has no persons (no rows)")
        for c, k in zip(needed, nulls, strict=True):
            if k:
                raise DataError(f"column '{c}' has {k} missing value(s) in {self.where}", column=c)
        for c, k in zip(floating, row[3 + len(needed) :], strict=True):
            if k:
                raise DataError(
                    f"column '{c}' has {k} value(s) in {self.where} that are not finite numbers "
                    "(NaN or infinite)",
                    column=c,
                )
        if negative:
            raise DataError(
                f"column '{self.target}' must not be negative; {negative} person(s) are in "
                f"{self.where}",
                column=self.target,
            )
        if negative_weights:
            weights = self.st["weights"]
            raise DataError(
                f"person weights in column '{weights}' must not be negative; {negative_weights} "
                f"person(s) are in {self.where}",
                column=weights,
            )
        return int(total or 0)

    def close(self) -> None:
        if self.remote is not None:
            self.remote.close()
            self.remote = None
        self.con.close()

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_persons(
    source: Path | str | pd.DataFrame | DatabaseTable,
    *,
    unit_key: str,
    target: str,
    indicators: list[str] | tuple[str, ...],
    weights: str | None = None,
) -> int:
    """Check a person source where it lives (columns, missing values, negative outcomes).

    Returns the number of persons. One pass over the data, no rows fetched.
    """
    with _Session(
        source, unit_key=unit_key, target=target, indicators=list(indicators), weights=weights
    ) as session:
        return session.check()


def _unit_cell_table(
    session: _Session, indicators: list[str], weights: str | None, log_factorial: bool
) -> tuple[int, float, pd.DataFrame, pd.Index]:
    """Check the persons and number their cells and units in the session's DuckDB.

    Afterwards ``cellids`` holds the cells with their codes, ``unitids`` the
    units with their codes, counts, sums and cross-validation folds (-1 until
    set), and the view ``ucc`` the rows to sum by unit code, fold and cell
    code: for a database source the server's unit × cell sums, for a text
    file parsed into ``persons_read`` its unit × cell sums (either kept in the
    table ``ucs``; ``persons_read`` is dropped), otherwise the persons (nothing
    is stored; every query over it is a pass over the persons).

    Returns the number of persons, Σ log y! (0 unless ``log_factorial``), the
    cells (row ``i`` is cell ``i``) and the unit ids (position = unit code).
    """
    total = session.check()
    log_factorial_sum = 0.0
    if log_factorial:  # Σ k·log y! over the distinct outcomes y (k persons each)
        counts = session.run("outcomes").fetchall()
        log_factorial_sum = float(sum(k * math.lgamma(v + 1.0) for v, k in counts))
    con = session.con
    inds = ", ".join(_q(c) for c in indicators)
    names = [*_SUMS, *(_WEIGHTED_SUMS if weights else ())]
    on_persons = session.remote is None  # else the sums come from the server's GROUP BY
    if not on_persons:
        # the GROUP BY ran on the server: keep its result here and number it
        result = session.run("unit_cells")
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        con.register("uc_frame", frame)
        con.execute("CREATE TEMP TABLE uc AS SELECT * FROM uc_frame")
        con.unregister("uc_frame")
        del frame
        session.remote.close()
        session.remote = None
        sums = ", ".join(f"SUM({c}) AS {c}" for c in names)
        cells_sql = f"SELECT {inds}, {sums} FROM uc GROUP BY {inds}"
        units_sql = "SELECT unit, SUM(n) AS n, SUM(sw) AS sw, SUM(swy) AS swy FROM uc GROUP BY unit"
        narrow = ["CAST(uc.n AS INTEGER) AS n", *(["uc.sw"] if weights else [])]
        narrow += ["uc.swy", "uc.swyy", "CAST(uc.npos AS INTEGER) AS npos"]
        coded_sql = (
            f"SELECT u.code AS unit, c.cell, {', '.join(narrow)} FROM uc "
            f"JOIN cellids c USING ({inds}) JOIN unitids u USING (unit)"
        )
        rows_sql = _STORED_ROWS
    else:
        # passes over the persons: the cells, the units; later sums join persons to codes
        cells_sql = _duckdb_sql(session.st["cells"])
        units_sql = _duckdb_sql(session.st["units"])
        coded_sql = None
    # a person's cell can be found by one hash of the indicators instead of all of them
    # (a third of the join's time) when the cells' hashes differ, since every person's
    # values are one of the cells; only for types whose equal values are plainly equal
    # bytes (integers, booleans, text), not for floating point or anything else
    hash_cells = on_persons and all(session.types.get(c) in _HASHABLE for c in indicators)
    cellhash = f"hash({inds})" if hash_cells else "NULL"
    con.execute(
        f"CREATE TEMP TABLE cellids AS SELECT *, {cellhash} AS cellhash, "
        f"CAST(ROW_NUMBER() OVER (ORDER BY {inds}) - 1 AS INTEGER) AS cell FROM ({cells_sql})"
    )
    if on_persons:
        distinct = "SELECT count(DISTINCT cellhash) = count(*) FROM cellids"
        hashed = hash_cells and bool(con.execute(distinct).fetchall()[0][0])
        rows_sql = _duckdb_sql(session.st["rows_hashed" if hashed else "rows"])
        if session.read_once:
            # the persons were parsed into a local table anyway: keep their (smaller)
            # unit × cell sums in its place
            per = ["CAST(SUM(n) AS INTEGER) AS n", *(["SUM(sw) AS sw"] if weights else [])]
            per += ["SUM(swy) AS swy", "SUM(swyy) AS swyy", "CAST(SUM(npos) AS INTEGER) AS npos"]
            coded_sql = f"SELECT unit, cell, {', '.join(per)} FROM ({rows_sql}) GROUP BY unit, cell"
            rows_sql = _STORED_ROWS
    cells = con.execute(f"SELECT {inds}, cell, {', '.join(names)} FROM cellids ORDER BY cell").df()
    con.execute(
        "CREATE TEMP TABLE unitids AS SELECT unit, n, sw, swy, "
        f"CAST(ROW_NUMBER() OVER (ORDER BY unit) - 1 AS INTEGER) AS code, "
        f"CAST(-1 AS INTEGER) AS fold FROM ({units_sql})"
    )
    units = con.execute("SELECT unit FROM unitids ORDER BY code").fetchnumpy()["unit"]
    if coded_sql is not None:
        con.execute(f"CREATE TEMP TABLE ucs AS {coded_sql}")
        con.execute("DROP TABLE IF EXISTS uc")
        con.execute("DROP TABLE IF EXISTS persons_read")
    con.execute(f"CREATE TEMP VIEW ucc AS {rows_sql}")
    for c in ("n", "npos"):
        cells[c] = cells[c].astype(np.int64)
    for c in ("sw", "swy", "swyy"):
        cells[c] = cells[c].astype(float)
    if not weights:  # unit weights: the squared-weight sums are the plain ones
        cells["sww"], cells["swwy"], cells["swwyy"] = cells["sw"], cells["swy"], cells["swyy"]
    return total, log_factorial_sum, cells, pd.Index([str(u) for u in units])


#: DuckDB's memory for the passes of a register fit (their hash tables of cells,
#: units and folds × cells); beyond it DuckDB spills to a temporary folder, so
#: memory does not grow with the number of persons. 64MB saves 5-15 MB of peak
#: memory and costs 0.1-0.2 s at twenty million persons.
MEMORY_LIMIT = "96MB"
#: Limits tried in turn when a collapse does not fit (then DuckDB's own default).
ESCALATION = (MEMORY_LIMIT, "1GB", "4GB")


class CellStore:
    """A person source with numbered cells and units, summed in DuckDB as asked.

    Only cell-level and unit-level arrays are fetched into Python: the cells,
    the sums per unit, the sums per cross-validation fold and cell, the need
    per unit for given cell means, the score sums per unit for clustered
    covariances. For a file or DataFrame each of these after the first two is
    one pass over the persons, holding only its own small result; for a
    database table the server's unit × cell sums are kept instead. Beyond
    ``memory_limit`` DuckDB spills to a temporary folder, so peak memory is
    bounded by the number of cells and units, not of persons. Use as a
    context manager (the folder is deleted on close).

    Parameters
    ----------
    source, unit_key, target, indicators, weights, log_factorial
        As :func:`collapse`.
    memory_limit : str, optional
        DuckDB memory limit (default :data:`MEMORY_LIMIT`).
    """

    def __init__(
        self,
        source: Path | str | pd.DataFrame | DatabaseTable,
        *,
        unit_key: str,
        target: str,
        indicators: list[str] | tuple[str, ...],
        weights: str | None = None,
        memory_limit: str | None = None,
        log_factorial: bool = False,
    ) -> None:
        import duckdb

        # without a limit of the caller's: start small, and let DuckDB have more only when
        # a pass does not fit even with spilling (a few operators cannot spill)
        limits = [memory_limit] if memory_limit else [*ESCALATION, None]
        for i, limit in enumerate(limits):
            self._spill = tempfile.mkdtemp(prefix="needsmodel-cells-")
            # deleted on close, or when the store is dropped unclosed, or at exit
            self._remove_spill = weakref.finalize(self, shutil.rmtree, self._spill, True)
            try:
                self._session = _Session(
                    source,
                    unit_key=unit_key,
                    target=target,
                    indicators=list(indicators),
                    weights=weights,
                    memory_limit=limit,
                )
            except BaseException:
                self._remove_spill()
                raise
            try:
                con = self._session.con
                spill = self._spill.replace("'", "''")
                con.execute(f"SET temp_directory = '{spill}'")
                con.execute("SET preserve_insertion_order = false")
                self._session.read_text_once()
                self.persons, self.log_factorial_sum, self.cells, units = _unit_cell_table(
                    self._session, list(indicators), weights, log_factorial
                )
                self.units = units.rename(unit_key)
                # the rows have no weight when every person weighs 1
                self._weighted = weights is not None
                self._sw = "ucc.sw" if self._weighted else "CAST(ucc.n AS DOUBLE)"
                self.memory_limit = limit
                #: the limits the later passes may still step up to
                self._limits = limits[i + 1 :]
                self._folds = 0  # set by fold_cell_sums
                return
            except duckdb.OutOfMemoryException as exc:
                self.close()
                if i + 1 < len(limits):
                    continue
                raise InputError(
                    f"collapsing {self._session.where} needs more memory than the memory limit "
                    f"of {limit} allows (DuckDB: {str(exc).splitlines()[0]}); raise memory_limit",
                    field="memory_limit",
                ) from exc
            except BaseException:
                self.close()
                raise

    @property
    def con(self) -> Any:
        return self._session.con

    def _register(self, name: str, columns: dict[str, np.ndarray]) -> None:
        self.con.register(name, pd.DataFrame(columns))

    def _table(self, name: str, columns: dict[str, np.ndarray]) -> None:
        """Replace DuckDB's temporary table ``name`` by the arrays ``columns``.

        A table has statistics (a registered DataFrame has none), so DuckDB
        can join to it on a dense integer key without hashing it.
        """
        self._register("arrays", columns)
        try:
            self._execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM arrays")
        finally:
            self.con.unregister("arrays")

    def _fetch(self, sql: str) -> dict[str, Any]:
        """A query's result as arrays (see :meth:`_execute`)."""
        return self._execute(sql, fetch=True)

    def _execute(self, sql: str, *, fetch: bool = False) -> Any:
        """Run a statement; when it does not fit, step the memory limit up and retry.

        Raises
        ------
        InputError
            When it does not fit in the largest limit allowed (the caller's own,
            if given), naming ``memory_limit``.
        """
        import duckdb

        while True:
            try:
                result = self.con.execute(sql)
                return dict(result.fetchnumpy()) if fetch else None
            except duckdb.OutOfMemoryException as exc:
                if not self._limits:
                    raise InputError(
                        f"summing {self._session.where} needs more memory than the memory limit "
                        f"of {self.memory_limit or 'DuckDB'} allows (DuckDB: "
                        f"{str(exc).splitlines()[0]}); raise memory_limit",
                        field="memory_limit",
                    ) from exc
                self.memory_limit = self._limits.pop(0)
                if self.memory_limit is None:
                    self.con.execute("RESET memory_limit")
                else:
                    self.con.execute(f"SET memory_limit = '{self.memory_limit}'")

    def unit_sums(self) -> dict[str, np.ndarray]:
        """``n``, ``sw``, ``swy`` per unit (position = unit code; summed when numbered)."""
        got = self.con.execute("SELECT n, sw, swy FROM unitids ORDER BY code").fetchnumpy()
        return {c: np.asarray(got[c], dtype=float) for c in ("n", "sw", "swy")}

    def fold_cell_sums(self, fold: np.ndarray, k: int) -> dict[str, np.ndarray]:
        """Sums per fold and cell (``k × cells`` arrays); ``fold[code]`` is a unit's fold.

        A unit with fold -1 is left out. The folds are kept for :meth:`unit_totals`.
        """
        if len(fold) != len(self.units):
            raise ValueError(f"one fold per unit expected ({len(self.units)}); got {len(fold)}")
        self._register("folds", {"unit": np.arange(len(fold)), "fold": fold.astype(np.int32)})
        try:
            self._execute("UPDATE unitids SET fold = f.fold FROM folds f WHERE code = f.unit")
        finally:
            self.con.unregister("folds")
        self._folds = k
        got = self._fetch(
            "SELECT fold, cell, SUM(n) AS n, "
            + ("SUM(sw) AS sw, " if self._weighted else "")
            + "SUM(swy) AS swy, SUM(swyy) AS swyy, SUM(npos) AS npos FROM ucc "
            "WHERE fold >= 0 GROUP BY fold, cell"
        )
        if not self._weighted:  # every weight is 1: the weight sums are the counts
            got["sw"] = got["n"]
        f = np.asarray(got["fold"], dtype=np.int64)
        c = np.asarray(got["cell"], dtype=np.int64)
        out = {}
        for name in ("n", "sw", "swy", "swyy", "npos"):
            a = np.zeros((k, len(self.cells)))
            a[f, c] = np.asarray(got[name], dtype=float)
            out[name] = a
        return out

    def unit_totals(self, per_cell: np.ndarray, per_fold_cell: np.ndarray) -> np.ndarray:
        """Per unit: Σ ``sw × per_cell[cell]`` and Σ ``sw × per_fold_cell[fold, cell]``.

        The sums run over the unit's cells. Returns a ``units × 2`` array (the
        folds are those of the last :meth:`fold_cell_sums`).
        """
        k, n_cells = per_fold_cell.shape
        if n_cells != len(self.cells) or k != self._folds:
            raise ValueError(
                f"per_fold_cell must be folds × cells ({self._folds} × {len(self.cells)}); "
                f"got {k} × {n_cells}"
            )
        # one row per (fold + 1, cell), key (fold + 1) · cells + cell; units without a fold
        # (fold -1) get the fold means 0
        self._table(
            "means",
            {
                "key": np.arange((k + 1) * n_cells, dtype=np.int64),
                "m": np.tile(np.asarray(per_cell, dtype=float), k + 1),
                "mf": np.vstack([np.zeros(n_cells), per_fold_cell]).ravel(),
            },
        )
        got = self._fetch(
            f"SELECT ucc.unit, SUM({self._sw} * mm.m) AS a, SUM({self._sw} * mm.mf) AS b "
            f"FROM ucc JOIN means mm ON mm.key = (CAST(ucc.fold AS BIGINT) + 1) * {n_cells} "
            "+ ucc.cell GROUP BY ucc.unit"
        )
        out = np.zeros((len(self.units), 2))
        codes = np.asarray(got["unit"], dtype=np.int64)
        out[codes, 0] = np.asarray(got["a"], dtype=float)
        out[codes, 1] = np.asarray(got["b"], dtype=float)
        return out

    def unit_scores(self, x: np.ndarray, mu: np.ndarray, scale: str) -> np.ndarray:
        """Per unit, Σ over its cells of ``x[cell] · (swy − mu[cell] · scale)`` (units × k).

        ``scale`` is ``"sw"`` (linear models) or ``"n"`` (GLMs): the score sums
        of a cluster-robust covariance with the units as clusters.
        """
        if scale not in ("sw", "n"):
            raise ValueError(f"scale must be 'sw' or 'n'; got {scale!r}")
        k = x.shape[1]
        cols = {"cell": np.arange(len(mu)), "mu": mu}
        cols.update({f"x{j}": x[:, j] for j in range(k)})
        self._table("design", cols)
        by = self._sw if scale == "sw" else "ucc.n"
        sums = ", ".join(f"SUM((ucc.swy - d.mu * {by}) * d.x{j}) AS s{j}" for j in range(k))
        got = self._fetch(
            f"SELECT ucc.unit, {sums} FROM ucc JOIN design d USING (cell) GROUP BY ucc.unit"
        )
        out = np.zeros((len(self.units), k))
        codes = np.asarray(got["unit"], dtype=np.int64)
        for j in range(k):
            out[codes, j] = np.asarray(got[f"s{j}"], dtype=float)
        return out

    def unit_cells(self) -> pd.DataFrame:
        """The whole unit × cell table, as numbers (as many rows as there can be persons)."""
        raw = self._fetch(
            f"SELECT unit, cell, SUM(n) AS n, SUM({self._sw}) AS sw, SUM(swy) AS swy, "
            "SUM(swyy) AS swyy, SUM(npos) AS npos FROM ucc GROUP BY unit, cell ORDER BY unit, cell"
        )
        return pd.DataFrame(
            {
                "unit": np.asarray(raw["unit"], dtype=np.int64),
                "cell": np.asarray(raw["cell"], dtype=np.int64),
                "n": np.asarray(raw["n"], dtype=np.int64),
                "sw": np.asarray(raw["sw"], dtype=float),
                "swy": np.asarray(raw["swy"], dtype=float),
                "swyy": np.asarray(raw["swyy"], dtype=float),
                "npos": np.asarray(raw["npos"], dtype=np.int64),
            }
        )

    def close(self) -> None:
        """Close DuckDB and delete its spill folder."""
        try:
            self._session.close()
        finally:
            self._remove_spill()

    def __enter__(self) -> CellStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def collapse(
    source: Path | str | pd.DataFrame | DatabaseTable,
    *,
    unit_key: str,
    target: str,
    indicators: list[str] | tuple[str, ...],
    weights: str | None = None,
    memory_limit: str | None = None,
    log_factorial: bool = False,
) -> Collapsed:
    """Collapse a person file, table or database table to unit × cell sums.

    Parameters
    ----------
    source : path, DataFrame or DatabaseTable
        Parquet or CSV file (read out of core by DuckDB; only the needed
        columns), a DataFrame, or a table in a database server (the ``GROUP BY``
        runs on the server; only the unit × cell table is fetched).
    unit_key, target, indicators : str
        Columns.
    weights : str, optional
        Person weight column.
    memory_limit : str, optional
        DuckDB memory limit (e.g. ``"4GB"``); DuckDB spills to disk beyond it.
    log_factorial : bool
        Also sum ``log y!`` over all persons, for Poisson log-likelihoods.

    Returns
    -------
    Collapsed
        The cells and the whole unit × cell table in memory; a fit that needs
        only cell- and unit-level sums uses :class:`CellStore` instead.
    """
    with CellStore(
        source,
        unit_key=unit_key,
        target=target,
        indicators=indicators,
        weights=weights,
        memory_limit=memory_limit,
        log_factorial=log_factorial,
    ) as store:
        return Collapsed(
            cells=store.cells,
            unit_cells=store.unit_cells(),
            persons=store.persons,
            units=store.units,
            log_factorial_sum=store.log_factorial_sum,
        )


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
