"""The `aidgraph` command as an operator uses it: demo, ingest, rejected, schema, clients, keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from aidgraph.db import create_engine
from auth.clients import verify_client
from auth.server import load_ring
from schema import sdl


def _aidgraph(*args: str, cwd: Path, database: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIDGRAPH_DATABASE_URL": database}
    return subprocess.run(
        [sys.executable, "-m", "aidgraph.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_demo_ingest_and_rejected_rows_from_the_command_line(store_url: str, tmp_path: Path) -> None:
    # given a small demo written by the command
    demo = _aidgraph("demo", "--out", "demo", "--households", "300", "--seed", "3", cwd=tmp_path, database=store_url)
    assert demo.returncode == 0, demo.stderr
    manifest = json.loads((tmp_path / "demo" / "manifest.json").read_text())
    # when every department is ingested
    ingest = _aidgraph("ingest", "all", "demo", cwd=tmp_path, database=store_url)
    # then each file reports read / accepted / rejected / changed / closed, adding up
    assert ingest.returncode == 0, ingest.stderr
    rows = [line.split() for line in ingest.stdout.splitlines() if line.strip().endswith(tuple("0123456789"))]
    assert len(rows) == 19
    assert all(int(read) == int(accepted) + int(rejected) for _file, read, accepted, rejected, *_ in rows)
    assert sum(int(row[3]) for row in rows) == len(manifest["bad_rows"])
    # and `rejected` lists each bad row with its place and reason
    rejected = _aidgraph("rejected", cwd=tmp_path, database=store_url)
    assert f"{len(manifest['bad_rows'])} rejected rows" in rejected.stderr
    first = manifest["bad_rows"][0]
    assert f"{first['department']}/{first['file']}:{first['line']}: " in rejected.stdout
    # and ingesting again changes nothing
    again = _aidgraph("ingest", "all", "demo", cwd=tmp_path, database=store_url)
    assert all(
        line.split()[-2:] == ["0", "0"]
        for line in again.stdout.splitlines()
        if line.strip().endswith(tuple("0123456789"))
    )


def test_unknown_department_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    result = _aidgraph("ingest", "welfare", str(tmp_path), cwd=tmp_path, database=f"sqlite:///{tmp_path}/s.db")
    assert result.returncode == 2
    assert "unknown department 'welfare'" in result.stderr and "civil_affairs" in result.stderr


def test_version_is_the_installed_packages(tmp_path: Path) -> None:
    # given the package as installed, when asked for its version
    result = _aidgraph("--version", cwd=tmp_path, database=f"sqlite:///{tmp_path}/s.db")
    # then it prints it, as pip knows it, and succeeds
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"aidgraph {version('aidgraph')}\n"


def test_schema_command_prints_the_sdl(tmp_path: Path) -> None:
    result = _aidgraph("schema", cwd=tmp_path, database=f"sqlite:///{tmp_path}/s.db")
    assert result.stdout == sdl()


def test_clients_are_added_listed_and_disabled_from_the_command_line(store_url: str, tmp_path: Path) -> None:
    # when a client is added
    added = _aidgraph(
        "clients", "add", "civil-affairs-nanan", "--department", "civil_affairs", "--roles", "civil-affairs,auditor",
        "--regions", "350583", "--purposes", "assistance-review,comparison", cwd=tmp_path, database=store_url,
    )  # fmt: skip
    # then its secret is printed once, with the warning that it will not be shown again
    assert added.returncode == 0, added.stderr
    secret = next(line.split(": ", 1)[1] for line in added.stdout.splitlines() if line.startswith("client secret: "))
    assert "will not show it again" in added.stdout
    engine = create_engine(store_url)
    try:
        assert verify_client(engine, "civil-affairs-nanan", secret) is not None
        # and adding it again is refused, saying why
        again = _aidgraph(
            "clients", "add", "civil-affairs-nanan", "--department", "civil_affairs", "--roles", "civil-affairs",
            "--regions", "350583", "--purposes", "comparison", cwd=tmp_path, database=store_url,
        )  # fmt: skip
        assert again.returncode == 2 and "already registered" in again.stderr
        # and `list` shows it, enabled, without any secret
        listed = _aidgraph("clients", "list", cwd=tmp_path, database=store_url)
        row = next(line for line in listed.stdout.splitlines() if line.startswith("civil-affairs-nanan"))
        assert row.split() == [
            "civil-affairs-nanan", "civil_affairs", "enabled", "350583", "civil-affairs,auditor",
            "assistance-review,comparison", "default", "never",
        ]  # fmt: skip
        assert secret not in listed.stdout
        # and `disable` turns it off
        disabled = _aidgraph("clients", "disable", "civil-affairs-nanan", cwd=tmp_path, database=store_url)
        assert disabled.returncode == 0, disabled.stderr
        assert verify_client(engine, "civil-affairs-nanan", secret) is None
        assert " disabled " in _aidgraph("clients", "list", cwd=tmp_path, database=store_url).stdout
        unknown = _aidgraph("clients", "disable", "nobody", cwd=tmp_path, database=store_url)
        assert unknown.returncode == 2 and "no client 'nobody'" in unknown.stderr
    finally:
        engine.dispose()


def test_a_bad_region_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    result = _aidgraph(
        "clients", "add", "x", "--department", "education", "--roles", "education", "--regions", "35-05",
        "--purposes", "student-aid", cwd=tmp_path, database=f"sqlite:///{tmp_path}/s.db",
    )  # fmt: skip
    assert result.returncode == 2 and "region '35-05' is not a division code" in result.stderr
    assert "client secret" not in result.stdout


def test_keys_rotate_keeps_the_previous_key(store_url: str, tmp_path: Path) -> None:
    first = _aidgraph("keys", "rotate", cwd=tmp_path, database=store_url)
    second = _aidgraph("keys", "rotate", cwd=tmp_path, database=store_url)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    engine = create_engine(store_url)
    try:
        ring = load_ring(engine)
    finally:
        engine.dispose()
    # the ring created on first use, then two rotations: three keys, all still within their retention
    assert len(ring.keys) == 3
    assert f"new key {ring.current.kid}" in second.stdout
