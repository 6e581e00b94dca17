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

Payloads are made here, under the client's policy for the purpose `student-aid`, exactly as its export
or `eligibleStudents` would show them, and stored with the delivery; what they disclose is recorded with
them for the audit event written before the first send.

Snapshots are kept as generations in the store (`webhook_snapshot`), compared in SQL a page at a time, so
memory stays at one page of students whatever the term's size.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from auth.access import Access
from auth.clients import Client
from auth.disclosure import Selected, disclose
from auth.policy import CompiledPolicy
from auth.policy_store import stored_policy
from auth.principal import Principal
from auth.tables import oauth_client
from notify.clock import now_or
from notify.payloads import ELIGIBLE, NO_LONGER_ELIGIBLE, iso
from notify.subscriptions import PURPOSE, Subscription, check_term, intersect_regions
from notify.tables import webhook_delivery, webhook_detection, webhook_snapshot, webhook_subscription
from resolvers.students import eligibility as students

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
    if PURPOSE not in client.purposes:
        return _skip(skipped, f"the client may no longer declare the purpose {PURPOSE!r}")
    if policy is None:
        return _skip(skipped, "no access policy has been applied")
    principal = client.principal(token_purposes=[PURPOSE])
    regions = intersect_regions(principal.regions, subscription.regions)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # One snapshot of the department data for the whole comparison; a concurrent detection of
            # the same subscription and term then fails on the generation it also bumps.
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            return _compare(
                connection,
                subscription,
                _Payloads(policy, principal),
                term=term,
                regions=regions,
                moment=moment,
                page=page,
            )


def _compare(
    connection: sa.Connection,
    subscription: Subscription,
    payloads: _Payloads,
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
        if announce:
            known = _known(connection, keys, old, [s.id_number for s in chunk]) if old is not None else set()
            arrivals = [s for s in chunk if s.id_number not in known]
            _enqueue(connection, keys, moment, ELIGIBLE, [payloads.eligible(s) for s in arrivals])
            eligible += len(arrivals)
    if old is not None:
        for rows in _departures(connection, keys, old=old, new=new, page=page):
            _enqueue(connection, keys, moment, NO_LONGER_ELIGIBLE, [payloads.gone(*row) for row in rows])
            gone += len(rows)
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
    connection: sa.Connection,
    keys: dict[str, str],
    moment: datetime,
    event_type: str,
    events: Sequence[tuple[str, dict[str, Any], dict[str, Any]]],
) -> None:
    if not events:
        return
    connection.execute(
        webhook_delivery.insert(),
        [
            {
                **keys,
                "event_id": "evt_" + secrets.token_hex(16),
                "event_type": event_type,
                "id_number": id_number,
                "data": data,
                "disclosure": disclosure,
                "occurred_at": moment,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": moment,
            }
            for id_number, data, disclosure in events
        ],
    )


# The governed fields a payload carries, for its audit event (what was revealed, masked or withheld).
def _selected(fields: Iterable[tuple[str, str]]) -> tuple[Selected, ...]:
    return tuple(Selected(f"webhook.{type_name}.{name}", type_name, name) for type_name, name in fields)


_ELIGIBLE_FIELDS = _selected(
    [("Person", "idNumber")]
    + [("EligibleStudent", name) for name in ("stage", "schoolName", "schoolCode", "grade", "reasons", "aidGranted")]
    + [("EligibilityReason", name) for name in ("code", "department", "table", "sourceRecord")]
)
_GONE_FIELDS = _selected([("Person", "idNumber"), ("EligibilityReason", "code")])


class _Payloads:
    """Event data under the client's policy view for `student-aid`, one `Access` per student."""

    def __init__(self, policy: CompiledPolicy, principal: Principal) -> None:
        self._view = policy.view(principal.roles, PURPOSE)
        self._version = policy.version
        self._principal = principal

    def eligible(self, student: students.EligibleStudent) -> tuple[str, dict[str, Any], dict[str, Any]]:
        access = self._access()
        subject = {"id_number": student.id_number}
        person = self._applied(access, "Person", subject, id_number=student.id_number)
        reasons = []
        for reason in student.reasons:
            values = self._applied(
                access,
                "EligibilityReason",
                subject,
                code=reason.code,
                department=reason.department,
                table=reason.table,
                source_record=reason.record_key,
                as_of=reason.as_of,
            )
            reasons.append({**values, "as_of": iso(values["as_of"]) if values["as_of"] is not None else None})
        values = self._applied(
            access,
            "EligibleStudent",
            subject,
            stage=student.stage,
            school_name=student.school_name,
            school_code=student.school_code,
            grade=student.grade,
            reasons=reasons,
            aid_granted=student.aid_granted,
        )
        data = {
            "student": {
                "id_number": person["id_number"],
                "stage": values["stage"],
                "school_code": values["school_code"],
                "school_name": values["school_name"],
                "grade": values["grade"],
            },
            "reasons": values["reasons"],
            "aid_granted": values["aid_granted"],
        }
        return student.id_number, data, self._disclosure(access, _ELIGIBLE_FIELDS)

    def gone(self, id_number: str, codes: list[str]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        access = self._access()
        subject = {"id_number": id_number}
        person = self._applied(access, "Person", subject, id_number=id_number)
        previous = [self._applied(access, "EligibilityReason", subject, code=code)["code"] for code in codes]
        data = {"student": {"id_number": person["id_number"]}, "previous_reasons": previous}
        return id_number, data, self._disclosure(access, _GONE_FIELDS)

    def _access(self) -> Access:
        return Access(
            view=self._view,
            regions=self._principal.regions,
            principal=self._principal,
            purpose=PURPOSE,
            policy_version=self._version,
        )

    def _applied(self, access: Access, type_name: str, subject: dict[str, str], **known: Any) -> dict[str, Any]:
        """The type's fields as its view leaves them; fields not given are absent (None) to the rules."""
        values: dict[str, Any] = {rule.attr: None for rule in self._view.types[type_name].rules}
        values.update(known)
        access.apply(type_name, values, subject)
        return {name: values[name] for name in known}

    def _disclosure(self, access: Access, fields: tuple[Selected, ...]) -> dict[str, Any]:
        found = disclose(access, fields)
        return {
            "revealed": found.revealed,
            "masked": found.masked,
            "withheld": found.withheld,
            "policy_version": self._version,
        }


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
