"""A real, private PostgreSQL server for the tests: started from the OS packages, never mocked.

The server's programs come from the machine (Debian's ``postgresql`` package,
which ``.ci/run`` installs). A throw-away cluster is created with ``initdb`` in
a temporary folder and listens only on a Unix socket there, so it can clash
with no other server. Without the programs the tests that need it are skipped,
unless ``NEEDSMODEL_REQUIRE_POSTGRES=1`` (as in CI) makes that a failure.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["postgres_server"]


def _bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and Path(found).with_name("initdb").exists():
        return Path(found).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True):
        return Path(candidate).parent
    return None


def _unavailable(why: str) -> None:
    if os.environ.get("NEEDSMODEL_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required here but {why}")
    pytest.skip(f"no PostgreSQL server programs: {why}")


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a private server; yield its SQLAlchemy URL; stop it and delete its files."""
    bindir = _bin()
    if bindir is None:
        _unavailable("pg_ctl/initdb not found (install the OS package 'postgresql')")
    assert bindir is not None
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="needsmodel-pg-"))
    folder.chmod(0o755)
    if os.geteuid() == 0:  # the server refuses to run as root: run it as 'postgres'
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' user")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    port = "5439"
    try:
        subprocess.run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        options = f"-k {folder} -c listen_addresses='' -p {port} -F"
        subprocess.run(
            [
                *prefix,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "server.log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg://postgres@/postgres?host={folder}&port={port}"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)
