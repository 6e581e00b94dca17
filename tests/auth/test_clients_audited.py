"""Changes to a client made by a person, on SQLite and PostgreSQL: registering and disabling, each with its
audit event in the change's own transaction (as a rotation is: tests/auth/test_clients_rotate.py)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from auth.audit import AuditLog, AuditUnavailable, search, verify
from auth.clients import (
    CLIENT_CHANGED,
    ClientError,
    DuplicateClient,
    UnknownClient,
    disable_client,
    load_client,
    register_client,
)

CLIENT = {
    "client_id": "housing-nanan",
    "department": "housing",
    "roles": ["housing"],
    "regions": ["350583"],
    "purposes": ["assistance-review"],
}


def test_a_registration_by_a_person_is_an_event_naming_them(engine: sa.Engine) -> None:
    # when admin-wang registers a client in the console
    _, secret = register_client(engine, **CLIENT, by="admin-wang", audited_as="console")
    # then the trail holds one event of it, naming the person and the console, not the secret
    (change,) = search(engine).entries
    assert (change.outcome, change.client_id, change.actor, change.operation) == (
        CLIENT_CHANGED, "console", "admin-wang", "clients add",
    )  # fmt: skip
    assert change.detail == (
        "client housing-nanan (housing) registered: roles housing; regions 350583; purposes assistance-review"
    )
    assert secret not in change.detail and verify(engine).ok


def test_a_refused_registration_writes_no_event(engine: sa.Engine) -> None:
    # given a registered client, when it is registered again, or with no person named
    register_client(engine, **CLIENT, by="admin-wang")
    with pytest.raises(DuplicateClient):
        register_client(engine, **CLIENT, by="admin-wang")
    with pytest.raises(ClientError, match="name the person"):
        register_client(engine, **{**CLIENT, "client_id": "other"}, by=" ")
    # then only the first registration is on the trail, and the second client does not exist
    assert len(search(engine).entries) == 1 and load_client(engine, "other") is None


def test_a_disable_by_a_person_is_an_event_and_an_unknown_client_writes_none(engine: sa.Engine) -> None:
    # given a client registered without a person (a set-up path: no event)
    register_client(engine, **CLIENT)
    assert search(engine).entries == ()
    # when admin-wang disables it from the command line, and then a client that does not exist
    disable_client(engine, "housing-nanan", by="admin-wang")
    with pytest.raises(UnknownClient):
        disable_client(engine, "nobody", by="admin-wang")
    # then the one disable is on the trail, with the hub as its client, and the client is disabled
    (change,) = search(engine).entries
    assert (change.client_id, change.actor, change.operation) == (None, "admin-wang", "clients disable")
    client = load_client(engine, "housing-nanan")
    assert client is not None and client.disabled


def test_a_change_whose_event_cannot_be_written_is_not_made(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a registered client and a trail that cannot take an event
    register_client(engine, **CLIENT)

    def unavailable(*_args: Any, **_kwargs: Any) -> list[int]:
        raise AuditUnavailable("the audit event could not be written: OperationalError")

    monkeypatch.setattr(AuditLog, "append_within", unavailable)
    # when a person registers another client or disables this one, then both fail and nothing changed
    with pytest.raises(AuditUnavailable):
        register_client(engine, **{**CLIENT, "client_id": "other"}, by="admin-wang")
    with pytest.raises(AuditUnavailable):
        disable_client(engine, "housing-nanan", by="admin-wang")
    client = load_client(engine, "housing-nanan")
    assert load_client(engine, "other") is None and client is not None and not client.disabled
