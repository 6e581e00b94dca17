"""Change detection: which students became eligible, or stopped being, since a subscription last looked.

For each active subscription following the term, `detect_changes` computes the term's eligible students
inside the subscription's regions (the subscribing client's regions, as stored now, narrowed to the
subscription's own if it has some), compares them with the snapshot kept from the previous run, and in
one transaction stores the new snapshot and enqueues one delivery per change:

- `student.eligible` for a student in the new list and not in the old one, with the reasons;
- `student.no_longer_eligible` for one in the old list and not in the new one, with the old codes.

A student whose reasons change but who stays eligible is not an event. The first run for a
subscription and term compares with an empty list (everyone eligible is announced) unless the
subscription was made with `announce_existing=False`, which only records the list. Running again
without new department data enqueues nothing.

Payloads are made at detection (`resolvers.students.payloads`), under the client's policy for the purpose
`student-aid`, exactly as its export or `eligibleStudents` would show them, and stored with the delivery;
what they disclose is recorded with them for the audit event written before the first send.

Snapshots are kept as generations in the store (`webhook_snapshot`), compared in SQL a page at a time, so
memory stays at one page of students whatever the term's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa

from auth.clients import Client
from auth.policy import CompiledPolicy
from auth.policy_store import stored_policy
from auth.tables import oauth_client
from resolvers.students import eligibility as students
from resolvers.students.payloads import ELIGIBLE, EVENT_TYPES, NO_LONGER_ELIGIBLE, StudentPayloads
from webhooks.clock import now_or
from webhooks.kinds import named_purposes, refused_purposes
from webhooks.queue import QueuedEvent, enqueue
from webhooks.subscriptions import Subscription, check_term, intersect_regions
from webhooks.tables import webhook_detection, webhook_snapshot, webhook_subscription

_T = TypeVar("_T")
PAGE = 1000


class DetectionConflict(RuntimeError):
    """Another detection for the same subscription and term committed first; run again."""


@dataclass(frozen=True)
class SubscriptionChanges:
    subscription_id: str
    client_id: str
    eligible: int = 0  # `student.eligible` events enqueued
    no_longer_eligible: int = 0  # `student.no_longer_eligible` events enqueued
    current: int = 0  # students eligible now
    first: bool = False  # the first detection for this subscription and term
    skipped: str | None = None  # why nothing was compared

    @property
    def enqueued(self) -> int:
        return self.eligible + self.no_longer_eligible


@dataclass(frozen=True)
class ChangeReport:
    term: str
    subscriptions: tuple[SubscriptionChanges, ...]

    @property
    def enqueued(self) -> int:
        return sum(item.enqueued for item in self.subscriptions)


def detect_changes(
    engine: sa.Engine,
    *,
    term: str,
    now: datetime | None = None,
    subscription_id: str | None = None,
    page: int = PAGE,
) -> ChangeReport:
    """Compare every active subscription following `term` (or the one named) with its last snapshot."""
    term = check_term(term)
    moment = now_or(now)
    statement = sa.select(webhook_subscription).where(webhook_subscription.c.active)
    if subscription_id is not None:
        statement = statement.where(webhook_subscription.c.subscription_id == subscription_id)
    with engine.connect() as connection:
        found = [
            Subscription.from_row(row)
            for row in connection.execute(statement.order_by(webhook_subscription.c.created_at)).mappings()
        ]
        current_policy = stored_policy(connection)
    policy = CompiledPolicy(current_policy.policy, current_policy.version) if current_policy else None
    results = [
        _detect(engine, subscription, term=term, moment=moment, policy=policy, page=page)
        for subscription in found
        if term in subscription.terms
    ]
    return ChangeReport(term=term, subscriptions=tuple(results))


def _detect(
    engine: sa.Engine,
    subscription: Subscription,
    *,
    term: str,
    moment: datetime,
    policy: CompiledPolicy | None,
    page: int,
) -> SubscriptionChanges:
    skipped = SubscriptionChanges(subscription.subscription_id, subscription.client_id)
    with engine.connect() as connection:
        row = (
            connection.execute(sa.select(oauth_client).where(oauth_client.c.client_id == subscription.client_id))
            .mappings()
            .first()
        )
    client = Client.from_row(row) if row is not None else None
    if client is None or client.disabled:
        return _skip(skipped, "the client is disabled")
    refused = refused_purposes(client.purposes, EVENT_TYPES)
    if refused:
        return _skip(skipped, f"the client may no longer declare {named_purposes(refused)}")
    if policy is None:
        return _skip(skipped, "no access policy has been applied")
    payloads = StudentPayloads(policy, client)
    refusal = payloads.refusal()
    if refusal is not None:  # being announced is being on the list: the same entry point governs both
        return _skip(skipped, refusal)
    regions = intersect_regions(client.regions, subscription.regions)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # One snapshot of the department data for the whole comparison; a concurrent detection of
            # the same subscription and term then fails on the generation it also bumps.
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            return _compare(
                connection,
                subscription,
                payloads,
                term=term,
                regions=regions,
                moment=moment,
                page=page,
            )


def _compare(
    connection: sa.Connection,
    subscription: Subscription,
    payloads: StudentPayloads,
    *,
    term: str,
    regions: Sequence[str],
    moment: datetime,
    page: int,
) -> SubscriptionChanges:
    """Store the new snapshot generation beside the old one, enqueue the differences, drop the old one."""
    keys = {"subscription_id": subscription.subscription_id, "term": term}
    old = _next_generation(connection, keys, moment)
    new = 1 if old is None else old + 1
    announce = old is not None or subscription.announce_existing
    eligible = current = gone = 0
    found = students.iter_eligible(connection, term=term, regions=regions) if regions else iter(())
    for chunk in _chunks(found, page):
        current += len(chunk)
        connection.execute(
            webhook_snapshot.insert(),
            [{**keys, "generation": new, "id_number": s.id_number, "reasons": _codes(s)} for s in chunk],
        )
        if announce and ELIGIBLE in subscription.events:  # the kinds the subscription named, only
            known = _known(connection, keys, old, [s.id_number for s in chunk]) if old is not None else set()
            arrivals = [s for s in chunk if s.id_number not in known]
            eligible += _enqueue(connection, keys, moment, ELIGIBLE, [payloads.eligible(s) for s in arrivals])
    if old is not None:
        for rows in (
            _departures(connection, keys, old=old, new=new, page=page)
            if NO_LONGER_ELIGIBLE in subscription.events
            else ()
        ):
            gone += _enqueue(connection, keys, moment, NO_LONGER_ELIGIBLE, [payloads.gone(*row) for row in rows])
        connection.execute(
            webhook_snapshot.delete().where(*_of(webhook_snapshot, keys), webhook_snapshot.c.generation == old)
        )
    connection.execute(
        webhook_detection.update().where(*_of(webhook_detection, keys)).values(eligible=current, detected_at=moment)
    )
    return SubscriptionChanges(
        subscription.subscription_id,
        subscription.client_id,
        eligible=eligible,
        no_longer_eligible=gone,
        current=current,
        first=old is None,
    )


def _next_generation(connection: sa.Connection, keys: dict[str, str], moment: datetime) -> int | None:
    """Claim the next snapshot generation; returns the previous one (None: the first detection)."""
    conflict = f"subscription {keys['subscription_id']}, term {keys['term']}: another detection ran at the same time"
    old = connection.execute(sa.select(webhook_detection.c.generation).where(*_of(webhook_detection, keys))).scalar()
    try:
        if old is None:
            connection.execute(webhook_detection.insert().values(**keys, generation=1, eligible=0, detected_at=moment))
            return None
        claimed = connection.execute(
            webhook_detection.update()
            .where(*_of(webhook_detection, keys), webhook_detection.c.generation == old)
            .values(generation=old + 1)
        ).rowcount
    except (sa.exc.IntegrityError, sa.exc.OperationalError) as error:  # a twin first run; PostgreSQL: serialization
        raise DetectionConflict(conflict) from error
    if claimed != 1:
        raise DetectionConflict(conflict)
    return int(old)


def _known(connection: sa.Connection, keys: dict[str, str], generation: int, ids: list[str]) -> set[str]:
    statement = sa.select(webhook_snapshot.c.id_number).where(
        *_of(webhook_snapshot, keys), webhook_snapshot.c.generation == generation, webhook_snapshot.c.id_number.in_(ids)
    )
    return set(connection.execute(statement).scalars())


def _departures(
    connection: sa.Connection, keys: dict[str, str], *, old: int, new: int, page: int
) -> Iterator[list[tuple[str, list[str]]]]:
    """Students of the old generation missing from the new one, a keyset page at a time, in id order."""
    newer = webhook_snapshot.alias("newer")
    after = ""
    while True:
        statement = (
            sa.select(webhook_snapshot.c.id_number, webhook_snapshot.c.reasons)
            .where(
                *_of(webhook_snapshot, keys),
                webhook_snapshot.c.generation == old,
                webhook_snapshot.c.id_number > after,
                ~sa.exists().where(
                    *_of(newer, keys), newer.c.generation == new, newer.c.id_number == webhook_snapshot.c.id_number
                ),
            )
            .order_by(webhook_snapshot.c.id_number)
            .limit(page)
        )
        rows = [(row.id_number, list(row.reasons)) for row in connection.execute(statement)]
        if rows:
            yield rows
        if len(rows) < page:
            return
        after = rows[-1][0]


def _enqueue(
    connection: sa.Connection, keys: dict[str, str], moment: datetime, kind: str, events: list[QueuedEvent]
) -> int:
    return enqueue(
        connection,
        subscription_id=keys["subscription_id"],
        term=keys["term"],
        kind=kind,
        occurred_at=moment,
        events=events,
    )


def _codes(student: students.EligibleStudent) -> list[str]:
    return sorted({reason.code for reason in student.reasons})


def _of(table: sa.FromClause, keys: dict[str, str]) -> list[sa.ColumnElement[bool]]:
    return [table.c.subscription_id == keys["subscription_id"], table.c.term == keys["term"]]


def _skip(changes: SubscriptionChanges, reason: str) -> SubscriptionChanges:
    return SubscriptionChanges(changes.subscription_id, changes.client_id, skipped=reason)


def _chunks(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    chunk: list[_T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
