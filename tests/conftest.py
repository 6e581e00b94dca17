"""Fixtures: every store test runs on SQLite and on a real PostgreSQL server started for the session."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from aidgraph.db import create_engine, migrate
from tools.pgserver import ThrowawayPostgres

BACKENDS = ["sqlite", "postgresql"]
_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    """Never skipped: a suite that cannot start PostgreSQL fails, in CI and everywhere else."""
    server = ThrowawayPostgres().start()
    engine = create_engine(server.create_database("aidgraph_template"))
    migrate(engine)
    engine.dispose()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "store.db"
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


def _fresh_store(backend: str, request: pytest.FixtureRequest, folder: Path) -> str:
    if backend == "sqlite":
        path = folder / f"store-{next(_numbers)}.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    server: ThrowawayPostgres = request.getfixturevalue("postgres")
    return server.create_database(f"store_{next(_numbers)}", template="aidgraph_template")


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated store of its own for one test."""
    return _fresh_store(request.param, request, tmp_path)


@pytest.fixture
def engine(store_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default demo (seed 0, default size), generated once for the session."""
    from tools.demo import generate

    folder = tmp_path_factory.mktemp("demo")
    generate(folder)
    return folder


@pytest.fixture(scope="session", params=BACKENDS)
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> str:
    """A store holding the whole default demo; shared by the session, so tests only read it."""
    url = _fresh_store(request.param, request, tmp_path_factory.mktemp("demo-store"))
    engine = create_engine(url)
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, demo_dir / name)
    engine.dispose()
    return url


@pytest.fixture(scope="module", params=BACKENDS)
def writable_demo_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, demo_dir: Path
) -> Iterator[sa.Engine]:
    """A store holding the whole default demo, of one test module's own, for tests that write to it
    (comparison runs, warnings scans): the session's demo store is shared and only read."""
    url = _fresh_store(request.param, request, tmp_path_factory.mktemp("writable-demo-store"))
    engine = create_engine(url)
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, demo_dir / name)
    yield engine
    engine.dispose()


@pytest.fixture
def demo_engine(demo_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(demo_url)
    yield engine
    engine.dispose()
