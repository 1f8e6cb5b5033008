"""A throwaway PostgreSQL + PostGIS server for tests, without Docker.

initdb refuses to run as root, so as root the cluster is made and run by the `postgres` system
user in a temporary directory it owns. The server listens on a free loopback port only.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """PostgreSQL or PostGIS is not installed, or the server would not start."""


def _bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        found = shutil.which("initdb")
        if not found:
            raise PostgresUnavailable("initdb not found: install postgresql-15-postgis-3")
        return Path(found).resolve().parent
    return Path(candidates[0]).parent


def postgis_installed() -> bool:
    return bool(glob.glob("/usr/share/postgresql/*/extension/postgis.control"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TempPostgres:
    """Start with `start()`, get URLs with `url(db)`, stop with `stop()`."""

    def __init__(self):
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="shouhu-pg-"))
        self.data = self.root / "data"
        self.as_root = os.geteuid() == 0
        self.user = "postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> TempPostgres:
        if not postgis_installed():
            raise PostgresUnavailable(
                "PostGIS not installed: apt-get install postgresql-15-postgis-3"
            )
        bindir = _bindir()
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        try:
            self._run(
                str(bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                self.user,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
            )
            self._run(
                str(bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "log"),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                "start",
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise PostgresUnavailable(f"could not start PostgreSQL: {exc}\n{log}") from exc
        self._bindir = bindir
        return self

    def psql(self, sql: str, db: str = "postgres") -> str:
        deadline = time.time() + 30
        while True:
            result = self._run(
                str(self._bindir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                db,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atc",
                sql,
                check=False,
            )
            if result.returncode == 0:
                return result.stdout
            if time.time() > deadline or "starting up" not in result.stderr:
                raise PostgresUnavailable(f"psql failed: {result.stderr}")
            time.sleep(0.5)

    def create_database(self, name: str, postgis: bool = True) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        if postgis:
            self.psql("CREATE EXTENSION postgis", db=name)
        return self.url(name)

    def url(self, db: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        if hasattr(self, "_bindir"):
            self._run(
                str(self._bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)


if __name__ == "__main__":
    # Manual use: start a server and print its URL until Ctrl-C.
    server = TempPostgres().start()
    print(server.create_database("shouhu"), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
