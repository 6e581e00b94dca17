"""Adding, listing and removing registered operations: the services `aidgraph operations` and the console call.

Every addition and removal is an audit event naming who made it (`by`), written in the same
transaction as the change: an operation is never served without the record of who registered it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from auth.audit import AuditEvent, AuditLog, AuditUnavailable, Caller, audit_event, document_hash
from auth.audit.writer import lock_chain
from auth.clients import load_client
from auth.hub_keys import AUDIT_KEY, HubKeyUnavailable, hub_key
from registered.documents import DOCUMENT_ID, Document, document_id, documents_of, problems_of
from registered.tables import registered_operation
from schema import HubSchema, create_schema

REGISTERED = "operation-registered"
REMOVED = "operation-removed"
_BY_MAX = 100


class OperationError(ValueError):
    """A registration or removal that cannot be done; the message says what to change."""


@dataclass(frozen=True)
class Registered:
    """A registered operation as the store holds it; `problems` is filled by `list_operations` only."""

    document_id: str
    operation_name: str
    operation_type: str
    client_id: str | None  # None: every client may use it
    text: str
    added_by: str
    added_at: datetime
    already_registered: bool = False  # `add_operations` found it registered, as asked, before
    problems: tuple[str, ...] = ()  # why this build's schema would not serve it; empty: valid

    @property
    def document(self) -> Document:
        return Document(self.document_id, self.operation_name, self.operation_type, self.text)

    @classmethod
    def from_row(cls, row: Mapping[Any, Any], **changes: Any) -> Registered:
        added_at = row["added_at"]
        if added_at.tzinfo is None:  # SQLite hands back UTC without a zone
            added_at = added_at.replace(tzinfo=UTC)
        return cls(
            document_id=row["document_id"],
            operation_name=row["operation_name"],
            operation_type=row["operation_type"],
            client_id=row["client_id"],
            text=row["document"],
            added_by=row["added_by"],
            added_at=added_at,
            **changes,
        )


def add_operations(
    engine: sa.Engine,
    text: str,
    *,
    client_id: str | None = None,
    by: str,
    source: str = "operations",
    schema: HubSchema | None = None,
) -> list[Registered]:
    """Register every operation of `text` (a `.graphql` file), each as its own document (registered.documents).

    All or nothing: the file is checked against `schema` (default: this build's) first, and an
    operation already registered for another client refuses the whole file. An operation already
    registered as asked is returned as it was (`already_registered`), with no new event.
    `client_id`: the only client that may use them; None: every client."""
    who = _actor(by)
    documents = documents_of(schema or create_schema(), text, source=source)
    if client_id is not None and load_client(engine, client_id) is None:
        raise OperationError(f"no client {client_id!r} is registered")
    hashes = _digests_before_lock(engine, [document.text for document in documents])
    registered: list[Registered] = []
    with engine.connect() as connection:
        lock_chain(connection)  # SQLite: the chain's write lock first, so the events join this transaction
        ids = list(hashes)
        rows = connection.execute(sa.select(registered_operation).where(registered_operation.c.document_id.in_(ids)))
        existing = {row["document_id"]: row for row in rows.mappings()}
        now = datetime.now(UTC)
        events = []
        for document in documents:
            found = existing.get(document.document_id)
            if found is not None:
                if found["client_id"] != client_id:
                    raise OperationError(
                        f"operation {document.operation_name} ({document.document_id}) is already registered "
                        f"for {_for(found['client_id'])}: remove it first to register it for {_for(client_id)}"
                    )
                registered.append(Registered.from_row(found, already_registered=True))
                continue
            row = {
                "document_id": document.document_id,
                "operation_name": document.operation_name,
                "operation_type": document.operation_type,
                "document": document.text,
                "client_id": client_id,
                "added_by": who,
                "added_at": now,
            }
            connection.execute(registered_operation.insert().values(**row))
            registered.append(Registered.from_row(row))
            detail = f"{_named(document, client_id)} by {who} from {source}"
            events.append(_event(added=True, digest=hashes[document.document_id], detail=detail, by=who))
        if events:
            AuditLog(engine).append_within(connection, events)
        connection.commit()
    return registered


def list_operations(engine: sa.Engine, *, schema: HubSchema | None = None) -> list[Registered]:
    """Every registered operation, by name then id, with why `schema` (default: this build's) would not serve it."""
    checked = schema or create_schema()
    with engine.connect() as connection:
        order = (registered_operation.c.operation_name, registered_operation.c.document_id)
        rows = connection.execute(sa.select(registered_operation).order_by(*order)).mappings().all()
    return [Registered.from_row(row, problems=tuple(problems_of(checked, _document(row)))) for row in rows]


def remove_operation(engine: sa.Engine, document_id: str, *, by: str) -> Registered:
    """Stop serving a registered operation: every worker refuses its id within seconds (registered.served)."""
    who = _actor(by)
    if not DOCUMENT_ID.fullmatch(document_id):
        raise OperationError(f"{document_id!r} is not a document id (sha256: and 64 lower-case hex digits)")
    statement = sa.select(registered_operation).where(registered_operation.c.document_id == document_id)
    with engine.connect() as connection:
        row = connection.execute(statement).mappings().first()
    if row is None:
        raise OperationError(f"no operation is registered as {document_id}")
    removed = Registered.from_row(row)
    [digest] = _digests_before_lock(engine, [removed.text]).values()
    with engine.connect() as connection:
        lock_chain(connection)
        deleted = registered_operation.delete().where(registered_operation.c.document_id == document_id)
        if not connection.execute(deleted).rowcount:
            raise OperationError(f"no operation is registered as {document_id}")  # removed meanwhile
        detail = f"{_named(removed.document, removed.client_id)} by {who}"
        AuditLog(engine).append_within(connection, [_event(added=False, digest=digest, detail=detail, by=who)])
        connection.commit()
    return removed


def _document(row: Mapping[Any, Any]) -> Document:
    return Document(row["document_id"], row["operation_name"], row["operation_type"], row["document"])


def _digests_before_lock(engine: sa.Engine, texts: list[str]) -> dict[str, str]:
    """Each text's keyed hash by its id, and the audit key read: both keys may have to be made first,
    which SQLite could not do while this change holds the chain's write lock."""
    try:
        hub_key(engine, AUDIT_KEY)
    except HubKeyUnavailable as error:
        raise AuditUnavailable(f"the audit event could not be written: {error}") from error
    return {document_id(text): document_hash(engine, text) for text in texts}


def _event(*, added: bool, digest: str, detail: str, by: str) -> AuditEvent:
    # The keyed hash of the text, as the events of the requests that run it carry: they are found together.
    return audit_event(
        REGISTERED if added else REMOVED,
        caller=Caller.the_hub(),
        actor=by,
        operation="operations add" if added else "operations remove",
        document_hash=digest,
        detail=detail,
    )


def _named(document: Document, client_id: str | None) -> str:
    return f"{document.document_id} ({document.operation_name}) for {_for(client_id)}"


def _for(client_id: str | None) -> str:
    return "every client" if client_id is None else f"client {client_id}"


def _actor(by: str) -> str:
    who = by.strip()
    if not who or len(who) > _BY_MAX or not who.isprintable():
        raise OperationError(f"--by must name who acts in 1-{_BY_MAX} printable characters")
    return who
