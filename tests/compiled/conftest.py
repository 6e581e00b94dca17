"""The demo store of the differential tests, once per backend: the default demo, the demo policy, every demo
client, and the two hubs over it (compiled plans on and off).

The store is a copy of the session's demo store (tests/conftest.py), which other tests only read.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis.configuration import set_hypothesis_home_dir
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.db import create_engine
from aidgraph.settings import Settings
from auth.demo_access import ensure_demo_policy, register_demo_clients
from tests.access import token
from tests.compiled.operations import OPERATIONS
from tests.compiled.paths import Profile, TwoPaths
from tools.pgserver import ThrowawayPostgres

# Hypothesis keeps a cache besides its example database (which the tests turn off), written as soon as a
# test module using it is collected: in the system's temporary folder, not in the repository.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "aidgraph-hypothesis")
_copies = itertools.count()

# Each hub counts look-ups that miss per client and minute: both see the same requests, but a limit
# reached by one would be reached between the two answers; this one is never reached, and still counted.
MISS_LIMIT = 1_000_000


def _settings(url: str, *, compiled: bool) -> Settings:
    return Settings(
        database_url=url,
        token_rate_limit=0,
        client_rate_limit=0,
        lookup_miss_limit=MISS_LIMIT,
        compiled_plans=compiled,
        deliver_webhooks=False,
    )


def _copy_of(request: pytest.FixtureRequest, demo_url: str, folder: Path) -> str:
    """A store of the tests' own holding the session's demo (which is only read): its file copied, or its
    database made from it as a template; the session has built it already, or builds it once for all."""
    url = sa.engine.make_url(demo_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        path = folder / "store.db"
        shutil.copyfile(url.database, path)
        return f"sqlite:///{path}"
    server: ThrowawayPostgres = request.getfixturevalue("postgres")
    return server.create_database(f"two_paths_{next(_copies)}", template=url.database)


@pytest.fixture(scope="session")
def two_paths(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, demo_url: str
) -> Iterator[TwoPaths]:
    url = _copy_of(request, demo_url, tmp_path_factory.mktemp("two-paths"))
    engine = create_engine(url)
    ensure_demo_policy(engine)
    clients = register_demo_clients(engine)
    with (
        TestClient(create_app(_settings(url, compiled=True))) as compiled,
        TestClient(create_app(_settings(url, compiled=False))) as executor,
    ):
        profiles = tuple(
            Profile(demo.client_id, demo.role, purpose, demo.regions)
            for demo, purposes, _ in clients
            for purpose in purposes
        )
        secrets = {demo.client_id: secret for demo, _, secret in clients}
        # One token per profile, used on both hubs: the same caller asks both (the hubs share the store's keys).
        tokens = {
            profile: token(compiled, profile.client_id, secrets[profile.client_id], f"purpose:{profile.purpose}")
            for profile in profiles
        }
        yield TwoPaths(engine.dialect.name, engine, compiled, executor, profiles, tokens)
    engine.dispose()


@pytest.fixture(scope="session")
def registered(two_paths: TwoPaths) -> dict[str, str]:
    """The test operations (tests/compiled/operations.py), registered for every client: ids by name."""
    return two_paths.register(OPERATIONS)
