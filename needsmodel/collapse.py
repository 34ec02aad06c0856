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
machine, the same way for every source.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, InputError, MissingFileError, format_ids
from .progress import configure_duckdb

__all__ = [
    "Collapsed",
    "DatabaseTable",
    "check_persons",
    "collapse",
    "read_database",
    "redact_passwords",
    "source_columns",
]

#: ``schema.table`` or ``table``: letters, digits, underscores (a table name is never
#: pasted into SQL unquoted, but a typo should fail here with its name, not at the server).
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")


def redact_passwords(text: str) -> str:
    """``text`` with the password of any ``scheme://user:password@host`` URL replaced by ``***``.

    Examples
    --------
    >>> redact_passwords('database = "postgresql://analyst:s3cret@db/registers"')
    'database = "postgresql://analyst:***@db/registers"'
    """
    return re.sub(r"(://[^:/@\s\"']+):[^@/\s\"']*@", r"\1:***@", text)


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
        return redact_passwords(self.resolved_url)

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
                f"{self.redacted_url}: cannot connect to the database: {first}"
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
    """A SQLAlchemy statement as DuckDB SQL (DuckDB speaks PostgreSQL's dialect)."""
    from sqlalchemy.dialects import postgresql

    literal = {"literal_binds": True}
    return str(statement.compile(dialect=postgresql.dialect(), compile_kwargs=literal))


def _statements(
    frm: Any,
    *,
    unit_key: str,
    target: str,
    indicators: list[str],
    weights: str | None,
) -> dict[str, Any]:
    """The checks, the unit × cell ``GROUP BY`` and the distinct outcomes, as SQLAlchemy."""
    import sqlalchemy as sa

    def col(name: str) -> Any:
        return sa.column(name, is_literal=False)

    needed = [unit_key, target, *indicators, *([weights] if weights else [])]
    y = sa.cast(col(target), sa.Double)
    w = sa.cast(col(weights), sa.Double) if weights else sa.literal(1.0, sa.Double)
    count = sa.func.count()
    checks = sa.select(
        count,
        *(count - sa.func.count(col(c)) for c in needed),
        sa.func.sum(sa.case((y < 0, 1), else_=0)),
    ).select_from(frm)

    def total(expr: Any, label: str) -> Any:
        return sa.cast(sa.func.sum(expr), sa.Double).label(label)

    sums = [
        sa.cast(count, sa.BigInteger).label("n"),
        total(w, "sw"),
        total(w * y, "swy"),
        total(w * y * y, "swyy"),
        sa.cast(sa.func.sum(sa.case((y > 0, 1), else_=0)), sa.BigInteger).label("npos"),
    ]
    if weights:
        sums += [total(w * w, "sww"), total(w * w * y, "swwy"), total(w * w * y * y, "swwyy")]
    unit_cells = (
        sa.select(
            sa.cast(col(unit_key), sa.String).label("unit"), *(col(c) for c in indicators), *sums
        )
        .select_from(frm)
        .group_by(col(unit_key), *(col(c) for c in indicators))
    )
    outcomes = sa.select(y.label("y"), sa.cast(count, sa.BigInteger).label("k")).select_from(frm)
    outcomes = outcomes.group_by(y)
    return {"checks": checks, "unit_cells": unit_cells, "outcomes": outcomes, "needed": needed}


def source_columns(source: Path | str | pd.DataFrame | DatabaseTable) -> list[str]:
    """Column names of a person source, without reading its rows."""
    if isinstance(source, pd.DataFrame):
        return [str(c) for c in source.columns]
    if isinstance(source, DatabaseTable):
        return _table_columns(source, None)
    import duckdb

    path = Path(source)
    if not path.is_file():
        raise MissingFileError("file not found", path=path)
    con = duckdb.connect()
    try:
        return [d[0] for d in con.execute(f"SELECT * FROM {_source_sql(path)} LIMIT 0").description]
    finally:
        con.close()


def _table_columns(source: DatabaseTable, conn: Any | None) -> list[str]:
    import sqlalchemy as sa

    own = conn is None
    conn = source.connect() if conn is None else conn
    try:
        schema, name = source.schema_and_name
        inspector = sa.inspect(conn)
        if not inspector.has_table(name, schema=schema):
            raise DataError(f"{source.where}: table not found in the database")
        return [str(c["name"]) for c in inspector.get_columns(name, schema=schema)]
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
        present = _table_columns(source, conn)
        missing = [c for c in columns if c not in present]
        if missing:
            raise DataError(
                f"column(s) {format_ids(missing)} not found in {source.where} "
                f"(columns: {', '.join(present)})",
                column=missing[0],
            )
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
        import duckdb
        import sqlalchemy as sa

        self.source = source
        self.con = duckdb.connect()
        self.remote: Any = None
        configure_duckdb(self.con)
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        try:
            if isinstance(source, DatabaseTable):
                self.where = source.where
                self.remote = source.connect()
                columns = _table_columns(source, self.remote)
                schema, name = source.schema_and_name
                frm: Any = sa.table(name, schema=schema)
            else:
                if isinstance(source, pd.DataFrame):
                    self.con.register("persons_frame", source)
                    self.where, frm_sql = "the person table", "persons_frame"
                else:
                    path = Path(source)
                    if not path.is_file():
                        raise MissingFileError("file not found", path=path)
                    self.where, frm_sql = f"the person file {path}", _source_sql(path)
                described = self.con.execute(f"SELECT * FROM {frm_sql} LIMIT 0").description
                columns = [d[0] for d in described]
                frm = sa.text(frm_sql)
            self.st = _statements(
                frm, unit_key=unit_key, target=target, indicators=indicators, weights=weights
            )
            missing = [c for c in self.st["needed"] if c not in columns]
            if missing:
                raise DataError(
                    f"column(s) {format_ids(missing)} not found in {self.where} "
                    f"(columns: {', '.join(columns)})",
                    column=missing[0],
                )
        except BaseException:
            self.close()
            raise
        self.target = target

    def run(self, name: str) -> Any:
        """Run one of the statements where the persons are; a cursor-like result."""
        import sqlalchemy as sa

        try:
            if self.remote is not None:
                return self.remote.execute(self.st[name])
            return self.con.execute(_duckdb_sql(self.st[name]))
        except sa.exc.SQLAlchemyError as exc:
            first = str(exc).strip().splitlines()[0]
            raise DataError(f"{self.where}: the database refused the query: {first}") from exc

    def check(self) -> int:
        """Persons, after checking for missing values and negative outcomes."""
        row = self.run("checks").fetchone()
        assert row is not None
        total, *nulls, negative = row
        if not total:
            raise DataError(f"{self.where} has no persons (no rows)")
        for c, k in zip(self.st["needed"], nulls, strict=True):
            if k:
                raise DataError(f"column '{c}' has {k} missing value(s) in {self.where}", column=c)
        if negative:
            raise DataError(
                f"column '{self.target}' must not be negative; {negative} person(s) are in "
                f"{self.where}",
                column=self.target,
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
    """
    indicators = list(indicators)
    with _Session(
        source,
        unit_key=unit_key,
        target=target,
        indicators=indicators,
        weights=weights,
        memory_limit=memory_limit,
    ) as session:
        total = session.check()
        log_factorial_sum = 0.0
        if log_factorial:  # Σ k·log y! over the distinct outcomes y (k persons each)
            counts = session.run("outcomes").fetchall()
            log_factorial_sum = float(sum(k * math.lgamma(v + 1.0) for v, k in counts))
        con = session.con
        if session.remote is not None:  # the GROUP BY ran on the server; keep its result here
            result = session.run("unit_cells")
            frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            con.register("uc_frame", frame)
            con.execute("CREATE TEMP TABLE uc AS SELECT * FROM uc_frame")
            con.unregister("uc_frame")
            del frame
            session.remote.close()
            session.remote = None
        else:
            con.execute(f"CREATE TEMP TABLE uc AS {_duckdb_sql(session.st['unit_cells'])}")
        return _coded(con, unit_key, indicators, weights, total, log_factorial_sum)


def _coded(
    con: Any,
    unit_key: str,
    indicators: list[str],
    weights: str | None,
    total: int,
    log_factorial_sum: float,
) -> Collapsed:
    """Cell and unit codes for the unit × cell table ``uc`` (in DuckDB, for every source)."""
    inds = ", ".join(_q(c) for c in indicators)
    con.execute(
        f"CREATE TEMP TABLE cellids AS SELECT {inds}, "
        f"ROW_NUMBER() OVER (ORDER BY {inds}) - 1 AS cell FROM (SELECT DISTINCT {inds} FROM uc)"
    )
    sums = "SUM(n) AS n, SUM(sw) AS sw, SUM(swy) AS swy, SUM(swyy) AS swyy, SUM(npos) AS npos"
    if weights:
        sums += ", SUM(sww) AS sww, SUM(swwy) AS swwy, SUM(swwyy) AS swwyy"
    cells = con.execute(
        f"SELECT {inds}, c.cell, {sums} FROM uc JOIN cellids c USING ({inds}) "
        f"GROUP BY {inds}, c.cell ORDER BY c.cell"
    ).df()
    con.execute(
        "CREATE TEMP TABLE unitids AS SELECT unit, ROW_NUMBER() OVER (ORDER BY unit) - 1 AS code "
        "FROM (SELECT DISTINCT unit FROM uc)"
    )
    units = con.execute("SELECT unit FROM unitids ORDER BY code").fetchnumpy()["unit"]
    # numbers only: the unit × cell table can have as many rows as there are persons
    raw = con.execute(
        "SELECT u.code AS unit, c.cell, uc.n, uc.sw, uc.swy, uc.swyy, uc.npos "
        f"FROM uc JOIN cellids c USING ({inds}) JOIN unitids u USING (unit) ORDER BY u.code, c.cell"
    ).fetchnumpy()
    unit_cells = pd.DataFrame(
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
    for c in ("n", "npos"):
        cells[c] = cells[c].astype(np.int64)
    for c in ("sw", "swy", "swyy"):
        cells[c] = cells[c].astype(float)
    if not weights:  # unit weights: the squared-weight sums are the plain ones
        cells["sww"], cells["swwy"], cells["swwyy"] = cells["sw"], cells["swy"], cells["swyy"]
    return Collapsed(
        cells=cells,
        unit_cells=unit_cells,
        persons=total,
        units=pd.Index([str(u) for u in units], name=unit_key),
        log_factorial_sum=log_factorial_sum,
    )


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
