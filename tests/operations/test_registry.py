"""Registering operations: one document per operation, checked when added, audited, listed, removed.

Every test runs on SQLite and PostgreSQL (the `engine` fixture).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from auth.audit import verify
from auth.clients import register_client
from auth.tables import audit_event
from registered.documents import DocumentError
from registered.operations import OperationError, add_operations, list_operations, remove_operation
from registered.tables import registered_operation
from schema import create_schema

HOUSEHOLDS = """\
# the household operations of the housing office's system
query HouseholdAddress($n: String!) {
  household(householdNumber: $n) { ...Where }
}

fragment Where on Household { address regionCode }

query PersonName($id: String!) { person(idNumber: $id) { name } }
"""
HOUSEHOLD_ADDRESS_TEXT = """\
query HouseholdAddress($n: String!) {
  household(householdNumber: $n) {
    ...Where
  }
}

fragment Where on Household {
  address
  regionCode
}"""
ANONYMOUS = 'query Named { household(householdNumber: $n) { address } }\n{ person(idNumber: "x") { name } }\n'
MISSPELT = """\
query Fine($n: String!) { household(householdNumber: $n) { address } }
query Misspelt($n: String!) {
  household(householdNumber: $n) { adress }
}
"""
# A text the running schema no longer serves (a field since removed), as a store may hold one.
RETIRED = 'query Retired {\n  household(householdNumber: "350583000001") {\n    retiredField\n  }\n}'
SCHEMA = create_schema()


def _events(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.select(audit_event).order_by(audit_event.c.seq)).mappings()]


def _client(engine: sa.Engine, client_id: str) -> str:
    register_client(
        engine,
        client_id=client_id,
        department="housing",
        roles=["housing"],
        regions=["3505"],
        purposes=["assistance-review"],
    )
    return client_id


def test_each_named_operation_is_a_document_of_its_own_named_by_the_hash_of_its_text(engine: sa.Engine) -> None:
    # when a file of two operations and a fragment is registered
    added = add_operations(engine, HOUSEHOLDS, by="admin-wang", source="households.graphql", schema=SCHEMA)
    # then each operation is one document: itself and the fragments it spreads, printed, named by its SHA-256
    by_name = {operation.operation_name: operation for operation in added}
    assert set(by_name) == {"HouseholdAddress", "PersonName"}
    address = by_name["HouseholdAddress"]
    assert address.text == HOUSEHOLD_ADDRESS_TEXT
    assert address.document_id == "sha256:" + hashlib.sha256(HOUSEHOLD_ADDRESS_TEXT.encode()).hexdigest()
    assert "fragment" not in by_name["PersonName"].text
    assert all(operation.client_id is None and operation.added_by == "admin-wang" for operation in added)
    # and each is listed, valid
    listed = list_operations(engine, schema=SCHEMA)
    assert [(item.operation_name, item.problems) for item in listed] == [("HouseholdAddress", ()), ("PersonName", ())]


def test_adding_and_removing_are_audited_naming_who_and_the_id(engine: sa.Engine) -> None:
    # given a registered file
    added = add_operations(engine, HOUSEHOLDS, by="admin-wang", source="households.graphql", schema=SCHEMA)
    # when one of its operations is removed
    removed = remove_operation(engine, added[0].document_id, by="admin-li")
    # then there is one event per operation added and one for the removal, each naming the person and the id
    events = _events(engine)
    assert [(event["outcome"], event["actor"]) for event in events] == [
        ("operation-registered", "admin-wang"),
        ("operation-registered", "admin-wang"),
        ("operation-removed", "admin-li"),
    ]
    assert events[0]["detail"] == (
        f"{added[0].document_id} ({added[0].operation_name}) for every client by admin-wang from households.graphql"
    )
    assert removed.document_id in events[2]["detail"]
    # and the document hash is the keyed one of the text, never its plain SHA-256
    assert all(event["document_hash"].startswith("hmac-sha256:") for event in events)
    assert events[0]["document_hash"] == events[2]["document_hash"]
    assert verify(engine).ok
    # and the removed one is no longer listed, the other still is
    assert [item.document_id for item in list_operations(engine, schema=SCHEMA)] == [added[1].document_id]


def test_adding_a_file_again_changes_nothing_and_records_nothing(engine: sa.Engine) -> None:
    # given a registered file
    first = add_operations(engine, HOUSEHOLDS, by="admin-wang", schema=SCHEMA)
    before = len(_events(engine))
    # when the same operations are added again, from a file laid out differently
    again = add_operations(engine, HOUSEHOLDS.replace("\n\n", "\n"), by="admin-li", schema=SCHEMA)
    # then they are the same documents, reported as registered before, with no new event
    assert [item.document_id for item in again] == [item.document_id for item in first]
    assert all(item.already_registered and item.added_by == "admin-wang" for item in again)
    assert len(_events(engine)) == before


def test_an_anonymous_operation_refuses_the_file_naming_its_place(engine: sa.Engine) -> None:
    # when a file holding an anonymous operation is added
    with pytest.raises(DocumentError) as refused:
        add_operations(engine, ANONYMOUS, by="admin-wang", source="mixed.graphql", schema=SCHEMA)
    # then it says where the anonymous one is, and nothing of the file is registered or recorded
    assert refused.value.problems == (
        "mixed.graphql:2:1: an anonymous query: name it "
        "(a registered operation is known by its name in the audit trail, the log and the list)",
    )
    assert list_operations(engine, schema=SCHEMA) == []
    assert _events(engine) == []


def test_an_operation_that_does_not_validate_refuses_the_file_naming_the_operation_and_place(
    engine: sa.Engine,
) -> None:
    # when a file is added whose second operation selects a field the schema does not have
    with pytest.raises(DocumentError) as refused:
        add_operations(engine, MISSPELT, by="admin-wang", source="misspelt.graphql", schema=SCHEMA)
    # then the error names the file, line, column and operation; the valid first one is not registered either
    assert refused.value.problems == (
        "misspelt.graphql:3:36: operation Misspelt: Cannot query field 'adress' on type 'Household'.",
    )
    assert list_operations(engine, schema=SCHEMA) == []


def test_a_document_over_the_limits_is_refused_as_its_request_would_be(engine: sa.Engine) -> None:
    # given an operation with more aliases than a request may use
    aliases = " ".join(f"a{number}: address" for number in range(31))
    text = f'query Wide {{ household(householdNumber: "350583000001") {{ {aliases} }} }}'
    # when it is added, then the limit it is over is named
    with pytest.raises(DocumentError, match="operation Wide: Query too complex: aliases 31"):
        add_operations(engine, text, by="admin-wang", schema=SCHEMA)


def test_an_operation_bound_to_a_client_needs_that_client_and_keeps_it(engine: sa.Engine) -> None:
    # given a registered client, and one that is not
    housing = _client(engine, "housing-system")
    # when operations are registered for an unknown client, then nothing is registered
    with pytest.raises(OperationError, match="no client 'nobody' is registered"):
        add_operations(engine, HOUSEHOLDS, client_id="nobody", by="admin-wang", schema=SCHEMA)
    # when they are registered for the known one
    added = add_operations(engine, HOUSEHOLDS, client_id=housing, by="admin-wang", schema=SCHEMA)
    # then they are its own, and the same text cannot be registered for every client without removing it first
    assert {item.client_id for item in added} == {housing}
    with pytest.raises(OperationError, match="already registered for client housing-system: remove it first"):
        add_operations(engine, HOUSEHOLDS, by="admin-wang", schema=SCHEMA)


def test_removing_an_id_that_is_not_registered_is_refused(engine: sa.Engine) -> None:
    # when an id never registered, and something that is not an id, are removed, then both are refused
    with pytest.raises(OperationError, match="no operation is registered as sha256:"):
        remove_operation(engine, "sha256:" + "0" * 64, by="admin-wang")
    with pytest.raises(OperationError, match="is not a document id"):
        remove_operation(engine, "HouseholdAddress", by="admin-wang")
    assert _events(engine) == []


def test_the_list_marks_an_operation_the_schema_no_longer_validates(engine: sa.Engine) -> None:
    # given a stored operation that selects a field this schema no longer has (registered under an older one)
    insert_stale(engine)
    # when the operations are listed
    [listed] = list_operations(engine, schema=SCHEMA)
    # then it is there, with why this schema would not serve it
    assert listed.operation_name == "Retired"
    assert listed.problems == (
        f"{listed.document_id}:3:5: operation Retired: Cannot query field 'retiredField' on type 'Household'.",
    )


def insert_stale(engine: sa.Engine, *, client_id: str | None = None) -> str:
    """A row as an older schema's hub would have left it: valid then, not now. Returns its id."""
    document_id = "sha256:" + hashlib.sha256(RETIRED.encode()).hexdigest()
    with engine.begin() as connection:
        connection.execute(
            registered_operation.insert().values(
                document_id=document_id,
                operation_name="Retired",
                operation_type="query",
                document=RETIRED,
                client_id=client_id,
                added_by="admin-wang",
                added_at=datetime.now(UTC),
            )
        )
    return document_id
