"""A throwaway PostgreSQL server for tests and benchmarks: own data directory, own port, unprivileged.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user
(created when the machine has none).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

SERVICE_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    configured = os.environ.get("AIDGRAPH_PG_BINDIR")
    candidates = [configured] if configured else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql "
        "(e.g. apt-get install postgresql) or set AIDGRAPH_PG_BINDIR"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ThrowawayPostgres:
    """initdb + pg_ctl start on a free loopback port; `stop()` removes everything it made.

    `halt()` and `resume()` stop the server and start it again on the same port and data, as a
    restart of a deployment's database does to the connections a hub holds.
    """

    def __init__(self, user: str = "aidgraph") -> None:
        self.bindir = find_bindir()
        self.user = user
        self.port = _free_port()
        self.base = Path(tempfile.mkdtemp(prefix="aidgraph-pg-"))
        self.data = self.base / "data"
        self._as_root = os.geteuid() == 0

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> ThrowawayPostgres:
        if self._as_root:
            _ensure_service_user()
            account = pwd.getpwnam(SERVICE_USER)
            os.chown(self.base, account.pw_uid, account.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", self.user, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"
        )
        self.resume()
        return self

    def halt(self, *, mode: str = "fast") -> None:
        """Stop the server, keeping its data: `fast` ends every session (what a restart does), `immediate` crashes."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def resume(self) -> None:
        """Start the server (again) on its port and data."""
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            # pg_stat_statements lets tests count the statements a request really sends
            "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.base / "server.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(
                self._command("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"), capture_output=True
            )
        shutil.rmtree(self.base, ignore_errors=True)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        with psycopg.connect(_libpq(self.admin_url), autocommit=True) as connection:
            clause = f" TEMPLATE {template}" if template else ""
            connection.execute(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.bindir / program), *args]
        return ["runuser", "-u", SERVICE_USER, "--", *command] if self._as_root else command

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(self._command(program, *args), capture_output=True, text=True)
        if result.returncode != 0:
            log = self.base / "server.log"
            detail = log.read_text() if log.exists() else ""
            raise PostgresUnavailable(f"{program} failed ({result.returncode}): {result.stderr.strip()}\n{detail}")


def _ensure_service_user() -> None:
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER], check=True
        )


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")
