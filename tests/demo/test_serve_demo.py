"""`aidgraph serve --demo` when the demo lacks a department's folder: that one is skipped, the rest served."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn

import tools.demo
from adapters import housing, poverty, registry
from adapters.catalog import DEPARTMENTS
from casework.tables import alert, comparison_item
from tests.test_cli_access import Command
from tools.demo import DemoSummary


@pytest.fixture
def aidgraph(store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Command:
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    return Command(capsys, monkeypatch)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The app each `uvicorn.run` would have served; nothing listens."""
    apps: list[str] = []

    def record(app: str, **_options: Any) -> None:
        apps.append(app)

    monkeypatch.setattr(uvicorn, "run", record)
    return apps


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_a_department_without_a_demo_folder_is_reported_and_skipped_and_the_rest_is_served(
    aidgraph: Command,
    engine: sa.Engine,
    started: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a small demo without housing's folder (a department in the middle of the catalog), and an empty store
    generate = tools.demo.generate

    def generate_without_housing(folder: Path, **options: Any) -> DemoSummary:
        summary = generate(folder, **(options | {"households": 300}))
        shutil.rmtree(folder / "housing")
        return summary

    monkeypatch.setattr(tools.demo, "generate", generate_without_housing)
    monkeypatch.setenv("AIDGRAPH_DEMO_DIR", str(tmp_path / "demo-data"))
    # when the hub is served with the demo
    code, out, err = aidgraph("serve", "--demo")
    # then it starts, and says on stderr which department it skipped and why
    assert code == 0, err
    assert started == ["aidgraph.app:app_from_environment"]
    folder = tmp_path / "demo-data" / "housing"
    # (beside the one-line summaries of the demo's generation and ingest, which go to stderr too)
    problems = [line for line in err.splitlines() if not line.startswith(("demo: ", "demo ingest: "))]
    assert problems == [f"aidgraph serve: housing skipped: the demo has no folder {folder}/"]
    # and every other department, those after it too, was ingested before the demo access was set up
    reported = [line.removesuffix(":") for line in out.splitlines() if re.fullmatch(r"[a-z_]+:", line)]
    assert reported == [name for name in DEPARTMENTS if name != "housing"]
    assert count(engine, registry.PERSONS.table) > 1_000
    assert count(engine, poverty.DEPARTMENT.file("jcdx").table) > 0
    assert count(engine, housing.DEPARTMENT.file("wfjd").table) == 0
    assert "aidgraph: demo policy applied as version 1" in out
    # and the city was compared and scanned as of the demo's day: a ledger and alerts to work on, and the
    # rule that reads housing said to be not evaluated rather than to have found no one
    assert "aidgraph: comparison run 1 of the demo city as of 2026-11-23:" in out
    assert re.search(r"^  C5 .*: not evaluated \(.*housing.*\)$", out, re.MULTILINE), out
    assert re.search(r"^  C1 .*: [1-9]\d*$", out, re.MULTILINE), out
    assert count(engine, comparison_item) > 0
    assert count(engine, alert) > 0


def test_serve_demo_refuses_a_faulty_warning_rules_file_before_loading_anything(
    aidgraph: Command, engine: sa.Engine, started: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a rules file the settings name, with a key the rules do not know
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 2026.2\nno_such_key: 1\n", encoding="utf-8")
    monkeypatch.setenv("AIDGRAPH_WARNING_RULES", str(rules))
    monkeypatch.setenv("AIDGRAPH_DEMO_DIR", str(tmp_path / "demo-data"))
    # when the hub is served with the demo
    code, _out, err = aidgraph("serve", "--demo")
    # then it says what is wrong with the file, loads nothing and serves nothing
    assert code == 2 and "no_such_key" in err, err
    assert started == [] and count(engine, registry.PERSONS.table) == 0
