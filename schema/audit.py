"""`accessLog(idNumber)`: who read a person's data, when, why and what they saw (DESIGN §3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from auth import audit
from resolvers.context import Context
from resolvers.cursors import CursorKind
from resolvers.pagination import page_size

Info = strawberry.Info[Context, None]
_LAST_SEQ = 2**63 - 1  # the audit trail's seq is a 64-bit integer on both backends


def _seq(text: str) -> str:
    """An audit seq in canonical decimal; ValueError for anything a 64-bit seq cannot be."""
    seq = int(text)
    if not 1 <= seq <= _LAST_SEQ:
        raise ValueError(f"{text!r} is not an audit seq")
    return str(seq)


CURSOR = CursorKind("access", _seq)


@strawberry.type(description="One request that returned the person's data, as the audit trail recorded it.")
class AccessLogEntry:
    at: dt.datetime | None
    client_id: str | None
    roles: list[str] | None
    purpose: str | None
    case_id: str | None
    operation: str | None
    outcome: str | None
    revealed: list[str] | None = strawberry.field(description="Fields returned unmasked, as Type.field.")
    masked: list[str] | None
    withheld: list[str] | None


@strawberry.type
class AccessLogEdge:
    cursor: str
    node: AccessLogEntry


@strawberry.type
class AccessLogConnection:
    edges: list[AccessLogEdge]
    has_next_page: bool


def access_log(
    info: Info, id_number: str, first: int | None, after: str | None, *, visible: bool
) -> AccessLogConnection:
    """Only about persons inside the caller's regions, `visible` (resolvers/lookups.py decides); the audit
    purpose is the entry point's (auth.entry_points)."""
    access = info.context.access
    limit = page_size(first)
    position = info.context.cursors.open(CURSOR, after)
    after_seq = int(position) if position is not None else None
    if not visible:
        return AccessLogConnection(edges=[], has_next_page=False)
    found = audit.access_log(info.context.connection.engine, id_number, first=limit + 1, after_seq=after_seq)
    edges = []
    for entry in found[:limit]:
        values: dict[str, Any] = {
            "at": entry.at,
            "client_id": entry.client_id,
            "roles": list(entry.roles),
            "purpose": entry.purpose,
            "case_id": entry.case_id,
            "operation": entry.operation,
            "outcome": entry.outcome,
            "revealed": list(entry.revealed),
            "masked": list(entry.masked),
            "withheld": list(entry.withheld),
        }
        access.apply("AccessLogEntry", values, {"id_number": id_number})  # the person is this answer's subject
        cursor = info.context.cursors.seal(CURSOR, str(entry.seq))
        edges.append(AccessLogEdge(cursor=cursor, node=AccessLogEntry(**values)))
    return AccessLogConnection(edges=edges, has_next_page=len(found) > limit)
