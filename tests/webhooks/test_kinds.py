"""The event-kind registry: only registered kinds are queued, and only for clients allowed each kind's purpose."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from auth.clients import register_client
from resolvers.students.payloads import ELIGIBLE
from tests.webhooks.support import CLIENT, T0, TERM, register_student_aid, subscription
from tests.world import STUDENT
from webhooks.kinds import KINDS, EventKind, UnknownEventKind
from webhooks.queue import QueuedEvent, enqueue
from webhooks.subscriptions import SubscriptionError, list_subscriptions, subscribe
from webhooks.tables import webhook_delivery

# A kind of another feature, with a purpose of its own, registered by these tests alone.
ALERT = EventKind("test.alert_raised", purpose="case-management", description="an alert a caseworker must act on")
EVENT = QueuedEvent(
    STUDENT,
    {"student": {"id_number": STUDENT}, "reasons": [{"code": "DIBAO"}], "aid_granted": False},
    {"revealed": ["Person.idNumber"], "masked": [], "withheld": [], "policy_version": None},
)


def _queue(engine: sa.Engine, subscription_id: str, kind: str) -> int:
    with engine.begin() as connection:
        return enqueue(
            connection, subscription_id=subscription_id, term=TERM, kind=kind, occurred_at=T0, events=[EVENT]
        )


def test_an_event_of_a_kind_no_feature_registered_is_never_queued(engine: sa.Engine) -> None:
    # given a subscription of the student-aid system
    register_student_aid(engine)
    sub = subscription(engine, "https://aid.example.org/hooks")
    # when an event of a registered kind is queued for it, then one of a kind nobody registered
    queued = _queue(engine, sub, ELIGIBLE)
    with pytest.raises(UnknownEventKind, match="'student.eligble' is not registered"):
        _queue(engine, sub, "student.eligble")
    # then only the registered one waits to be sent
    with engine.connect() as connection:
        waiting = connection.execute(sa.select(webhook_delivery.c.event_type, webhook_delivery.c.status)).all()
    assert queued == 1
    assert [tuple(row) for row in waiting] == [(ELIGIBLE, "pending")]


def test_a_client_must_be_allowed_the_purpose_of_every_kind_its_subscription_receives(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a kind with the purpose case-management registered beside the students' kinds, the student-aid
    # client (allowed student-aid only) and a client allowed both purposes
    monkeypatch.setitem(KINDS, ALERT.name, ALERT)
    register_student_aid(engine)
    register_client(
        engine,
        client_id="county-office",
        department="civil_affairs",
        roles=["student-aid"],
        regions=["3505"],
        purposes=["student-aid", "case-management"],
    )
    # when each subscribes
    with pytest.raises(SubscriptionError, match="may not declare the purpose 'case-management'"):
        subscribe(engine, client_id=CLIENT, url="https://aid.example.org/hooks", terms=[TERM])
    made, _ = subscribe(engine, client_id="county-office", url="https://county.example.org/hooks", terms=[TERM])
    # then only the client allowed every kind's purpose has a subscription
    assert list_subscriptions(engine) == [made]
