"""Databases for the sql data source: DuckDB and SQLite files, and a real PostgreSQL server.

The server is started once per session with ``initdb``/``pg_ctl`` in a temporary folder on a
free loopback port (as the ``postgres`` or ``nobody`` user when the tests run as root: initdb
refuses root), and always stopped. Without a server binary the PostgreSQL cases skip and say why
(``make test`` installs Debian's ``postgresql`` when it can).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

BACKENDS = ("duckdb", "sqlite", "postgresql")
_numbers = itertools.count()


def _server_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def _as_user() -> list[str]:
    """The command prefix that runs a server binary as a non-root user (nothing if not root)."""
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"]
    pytest.skip("running as root and no 'postgres' or 'nobody' user to run initdb as")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """``postgresql://ecomlm@127.0.0.1:PORT``: a server of this session, stopped at its end."""
    bindir = _server_bin()
    if bindir is None:
        pytest.skip(
            "no PostgreSQL server binary (pg_ctl, initdb) on PATH or in /usr/lib/postgresql; "
            "`make test` installs Debian's postgresql package when run as root"
        )
    prefix = _as_user()
    folder = Path(tempfile.mkdtemp(prefix="ecomlm-pg-"))
    if prefix:
        shutil.chown(folder, user=prefix[2])
    data, port = folder / "data", _free_port()
    run = {"check": True, "capture_output": True, "timeout": 60}
    subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "ecomlm", "--auth=trust",
         "-E", "UTF8", "--no-sync"],
        **run,
    )  # fmt: skip
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = False
    try:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
             "-l", str(folder / "log"), "-w", "start"],
            **run,
        )  # fmt: skip
        started = True
        yield f"postgresql://ecomlm@127.0.0.1:{port}"
    finally:
        if started:
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(folder, ignore_errors=True)


def _new_database(server: str) -> str:
    from adbc_driver_postgresql import dbapi

    name = f"t{os.getpid()}_{next(_numbers)}"
    with dbapi.connect(f"{server}/postgres", autocommit=True) as con, con.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


@pytest.fixture(params=BACKENDS)
def uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each backend."""
    if request.param == "postgresql":
        return _new_database(request.getfixturevalue("pg_server"))
    suffix = "duckdb" if request.param == "duckdb" else "sqlite"
    return f"{request.param}:///{tmp_path / ('shop.' + suffix)}"
