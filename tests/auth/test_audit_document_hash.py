"""The audit event's document hash is keyed: a resident id inside a query cannot be recovered from the trail.

On SQLite and PostgreSQL, through the secured hub: the stored hash of a query that holds an id
matches no candidate query built from the ids in the data (or from every id one birth date allows)
unless the store's document key is known; it is stable for one text, and differs between stores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from adapters import idnumber, registry
from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.audit import DOCUMENT_HASH_PREFIX, document_digest
from auth.hub_keys import DOCUMENT_KEY, hub_key
from auth.tables import audit_event
from tests.access import post, register, token, world_store
from tests.conftest import BACKENDS
from tests.world import SMALL_HEAD

# The id is written into the document, not passed as a variable: what a careless client script does.
PERSON_BY_ID = 'query Person {{ person(idNumber: "{id_number}") {{ idNumber name }} }}'


@dataclass
class SecuredHub:
    http: TestClient
    engine: sa.Engine
    bearer: str

    def ask(self, id_number: str) -> str:
        """Ask for one person; the document hash of the event that recorded it."""
        body = post(self.http, PERSON_BY_ID.format(id_number=id_number), self.bearer)
        assert body["data"]["person"]["idNumber"] == id_number
        with self.engine.connect() as connection:
            stored = connection.execute(
                sa.select(audit_event.c.document_hash).order_by(audit_event.c.seq.desc()).limit(1)
            ).scalar_one()
        return str(stored)


@pytest.fixture(params=BACKENDS)
def hubs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[SecuredHub]]:
    """Two hubs on two stores holding the same world, each with a civil-affairs client."""
    with (
        world_store(request, tmp_path_factory.mktemp("first")) as (first_url, first_engine),
        world_store(request, tmp_path_factory.mktemp("second")) as (second_url, second_engine),
    ):
        hubs = []
        with (
            TestClient(create_app(Settings(database_url=first_url, token_rate_limit=0))) as first,
            TestClient(create_app(Settings(database_url=second_url, token_rate_limit=0))) as second,
        ):
            for http, engine in ((first, first_engine), (second, second_engine)):
                secret = register(engine, "civil", roles=["civil-affairs"], purposes=["assistance-review"])
                hubs.append(SecuredHub(http, engine, token(http, "civil", secret)))
            yield hubs


def candidate_ids(engine: sa.Engine) -> list[str]:
    """What an attacker tries: every id in the data, and every id sharing the asked person's area and birth date."""
    with engine.connect() as connection:
        in_data = list(connection.execute(sa.select(registry.PERSONS.table.c.id_number)).scalars())
    same_birth = [SMALL_HEAD[:14] + f"{n:03d}" + idnumber.check_char(SMALL_HEAD[:14] + f"{n:03d}") for n in range(1000)]
    return sorted(set(in_data) | set(same_birth))


def test_a_resident_id_in_a_query_cannot_be_recovered_from_its_document_hash(hubs: list[SecuredHub]) -> None:
    # given the event of a query that names a resident by id
    hub = hubs[0]
    stored = hub.ask(SMALL_HEAD)
    candidates = {id_number: PERSON_BY_ID.format(id_number=id_number) for id_number in candidate_ids(hub.engine)}
    assert SMALL_HEAD in candidates and len(candidates) > 1000

    # when an attacker hashes every candidate query without the key (bare, or with the prefix)
    unkeyed = {hashlib.sha256(text.encode()).hexdigest() for text in candidates.values()}

    # then the stored value is marked as keyed, and no candidate matches it
    assert stored.startswith(DOCUMENT_HASH_PREFIX) and len(stored) == len(DOCUMENT_HASH_PREFIX) + 64
    assert stored not in unkeyed and stored.removeprefix(DOCUMENT_HASH_PREFIX) not in unkeyed
    # while with the store's document key (what the attack lacks) exactly the asked one does
    key = hub_key(hub.engine, DOCUMENT_KEY)
    assert [id_number for id_number, text in candidates.items() if document_digest(key, text) == stored] == [SMALL_HEAD]


def test_the_document_hash_is_stable_in_one_store_and_differs_between_stores(hubs: list[SecuredHub]) -> None:
    # given two stores, when the same query is asked twice of the first and once of the second
    first, again, elsewhere = hubs[0].ask(SMALL_HEAD), hubs[0].ask(SMALL_HEAD), hubs[1].ask(SMALL_HEAD)

    # then the first store recorded one value for it, and the second another
    assert first == again
    assert elsewhere != first
    assert elsewhere.startswith(DOCUMENT_HASH_PREFIX)
