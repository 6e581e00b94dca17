"""The `aidgraph` command as an operator uses it: demo, ingest, rejected, schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
    # then each file reports read / accepted / rejected / changed, adding up
    assert ingest.returncode == 0, ingest.stderr
    rows = [line.split() for line in ingest.stdout.splitlines() if line.strip().endswith(tuple("0123456789"))]
    assert len(rows) == 19
    assert all(int(read) == int(accepted) + int(rejected) for _file, read, accepted, rejected, _changed in rows)
    assert sum(int(row[3]) for row in rows) == len(manifest["bad_rows"])
    # and `rejected` lists each bad row with its place and reason
    rejected = _aidgraph("rejected", cwd=tmp_path, database=store_url)
    assert f"{len(manifest['bad_rows'])} rejected rows" in rejected.stderr
    first = manifest["bad_rows"][0]
    assert f"{first['department']}/{first['file']}:{first['line']}: " in rejected.stdout
    # and ingesting again changes nothing
    again = _aidgraph("ingest", "all", "demo", cwd=tmp_path, database=store_url)
    assert all(
        line.split()[-1] == "0" for line in again.stdout.splitlines() if line.strip().endswith(tuple("0123456789"))
    )


def test_unknown_department_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    result = _aidgraph("ingest", "welfare", str(tmp_path), cwd=tmp_path, database=f"sqlite:///{tmp_path}/s.db")
    assert result.returncode == 2
    assert "unknown department 'welfare'" in result.stderr and "civil_affairs" in result.stderr


def test_schema_command_prints_the_sdl(tmp_path: Path) -> None:
    result = _aidgraph("schema", cwd=tmp_path, database=f"sqlite:///{tmp_path}/s.db")
    assert result.stdout == sdl()
