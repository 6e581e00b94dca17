"""The hub's mutations: a caseworker's change of a comparison item or an alert (issue 10, DESIGN §6).

Writes follow the read model. A mutation is an entry point the policy must name for the caller's role
and purpose (`Mutation.updateAlert: allow`; auth/entry_points.py), refused with FORBIDDEN before anything
is read; the item or alert must lie inside the caller's regions, or it does not exist (NOT_FOUND, worded
as for an id never issued); the change itself goes through casework.changes, the one place that checks
the lifecycle and the version: a stale `version` is a CONFLICT carrying the current version and status,
a change the lifecycle refuses is BAD_USER_INPUT saying why. The actor (`X-Actor`, required by the gate)
is the history's `client-id/actor`; the request's one audit event is written in the change's own
transaction (aidgraph/graphql_http.py, auth.gate.settle_change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError

from auth.access import Access
from auth.entry_points import MUTATION
from casework import changes, lifecycle, queries
from resolvers.context import Context
from resolvers.records import bad_input, forbidden
from schema.alerts import Alert
from schema.casework import ALERT, ITEM, ComparisonItem, parse_id

Info = strawberry.Info[Context, None]


def not_found(what: str, text: str) -> GraphQLError:
    """The same words for an id outside the caller's regions and one never issued."""
    return GraphQLError(f"no {what} {text}", extensions={"code": "NOT_FOUND"})


def conflict(what: str, current: Mapping[str, Any]) -> GraphQLError:
    """The caller changed an older version: the current one and its status, to read again and decide."""
    updated = current.get("updated_at")
    return GraphQLError(
        f"the {what} changed since it was read: version {current['version']} is current ({current['status']});"
        " read it again and decide on that",
        extensions={
            "code": "CONFLICT",
            "current": {
                "version": current["version"],
                "status": current["status"],
                "updatedAt": updated.isoformat() if isinstance(updated, dt.datetime) else None,
            },
        },
    )


def _actor(access: Access) -> str:
    """Who made the change, as the history keeps it: the client system, and the person it acted for."""
    if access.principal is None:
        return changes.HUB_ACTOR
    return f"{access.principal.client_id}/{access.actor}"


def _change(
    info: Info,
    *,
    entry_point: str,
    subject: str,
    what: str,
    text_id: str,
    version: int,
    change: lifecycle.Change,
    read: Callable[..., Mapping[str, Any] | None],
    write: Callable[..., Mapping[str, Any]],
) -> tuple[Mapping[str, Any], list[Mapping[str, Any]]]:
    access = info.context.access
    problem = access.enter(entry_point, root=MUTATION)
    if problem is not None:
        raise forbidden(problem)
    if not info.context.connection.writing:
        # Only the endpoint's transaction writes the change's audit event with it (a policy's dry run does not).
        raise forbidden("changes are made only through POST /graphql, where each is audited with its actor")
    number = parse_id(text_id)
    connection = info.context.connection()
    current = read(connection, number, prefixes=access.regions) if number is not None else None
    if current is None or number is None:
        raise not_found(what, text_id)
    try:
        written = write(connection, number, change, version=version, actor=_actor(access))
    except changes.Conflict as stale:
        raise conflict(what, stale.current) from None
    except lifecycle.RefusedChange as refused:
        raise bad_input(str(refused)) from None
    access.changes.append(f"{what} {number}: {current['status']} -> {written['status']}, version {written['version']}")
    return written, queries.histories(connection, subject, [number])[number]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Move a comparison item along its lifecycle (docs/casework-api.md); `version` as last read."
    )
    def update_comparison_item(
        self,
        info: Info,
        id: strawberry.ID,
        status: str,
        version: int,
        reason_code: str | None = None,
        note: str | None = None,
        assignee: Annotated[str | None, strawberry.argument(description="Needed for ASSIGNED.")] = None,
        programme: Annotated[str | None, strawberry.argument(description="Needed for COVERED.")] = None,
        covered_on: Annotated[dt.date | None, strawberry.argument(description="Needed for COVERED.")] = None,
    ) -> ComparisonItem | None:
        change = lifecycle.Change(
            to=status, reason_code=reason_code, note=note, assignee=assignee, programme=programme, covered_on=covered_on
        )
        written, history = _change(
            info,
            entry_point="updateComparisonItem",
            subject=ITEM,
            what="comparison item",
            text_id=str(id),
            version=version,
            change=change,
            read=queries.item,
            write=changes.change_item,
        )
        return ComparisonItem.from_row(info.context.access, written, history, _here(info))

    @strawberry.mutation(
        description="Move an alert along its lifecycle (docs/casework-api.md); `version` as last read."
    )
    def update_alert(
        self,
        info: Info,
        id: strawberry.ID,
        status: str,
        version: int,
        reason_code: str | None = None,
        note: str | None = None,
    ) -> Alert | None:
        change = lifecycle.Change(to=status, reason_code=reason_code, note=note)
        written, history = _change(
            info,
            entry_point="updateAlert",
            subject=ALERT,
            what="alert",
            text_id=str(id),
            version=version,
            change=change,
            read=queries.one_alert,
            write=changes.change_alert,
        )
        return Alert.from_row(info.context.access, written, history, _here(info), dt.datetime.now(dt.UTC))


def _here(info: Info) -> str:
    return ".".join(str(key) for key in info.path.as_list() if isinstance(key, str))
