"""`alert.raised` reaches a subscribed receiver through the signed delivery, under the client's policy and audited."""

from __future__ import annotations

import sqlalchemy as sa

from auth.audit.rows import select_stored_rows
from auth.clients import register_client
from auth.policy_store import apply_policy
from auth.tables import audit_event
from casework.tables import alert
from casework.warnings.notify import announce
from casework.warnings.rules import default_rules
from casework.warnings.scan import scan
from resolvers.rules.regions import Region
from tests.casework.warnings.records import HEAD, HOUSEHOLD, NOW, REGION, D, certificate, household
from tests.webhooks.receiver import running
from tests.webhooks.support import SECRET, drain, http
from webhooks.subscriptions import SubscriptionError, subscribe
from webhooks.tables import webhook_delivery

# The poverty office works alerts under case-management (the alerts entry point opens only by name); this
# policy shows it the household but not its division.
POLICY = """
poverty-office:
  case-management:
    Query.alerts: allow
    public: allow
    personal: allow
    special: mask
    Household.regionCode: deny
"""
OFFICE = "poverty-office"


def _client(engine: sa.Engine, client_id: str, *, regions: list[str], purposes: list[str]) -> None:
    register_client(
        engine, client_id=client_id, department="poverty", roles=[OFFICE], regions=regions, purposes=purposes
    )


def test_a_raised_alert_is_delivered_to_the_subscribers_of_its_region_under_their_policy(engine: sa.Engine) -> None:
    # given the policy, the poverty office of Nan'an and another city's office, both subscribed to alert.raised
    # (the office also to the student events, which is no subscription to alerts)
    with engine.begin() as connection:
        apply_policy(connection, POLICY, applied_by="test")
    _client(engine, OFFICE, regions=["350583"], purposes=["case-management", "student-aid"])
    _client(engine, "elsewhere", regions=["3506"], purposes=["case-management"])
    with running(SECRET) as receiver, http() as client:
        made, _ = subscribe(engine, client_id=OFFICE, url=receiver.url, events=["alert.raised"], secret=SECRET)
        subscribe(engine, client_id="elsewhere", url=receiver.url, events=["alert.raised"], secret=SECRET)
        subscribe(engine, client_id=OFFICE, url=receiver.url, terms=["2026-2027-1"], secret=SECRET)
        # when a scan raises an alert for a household in Nan'an, and the deliveries are sent
        with engine.begin() as connection:
            household(connection)
            certificate(connection, HEAD, "C1", grade=1, issued=D)
            report = scan(
                connection, regions=[Region("35")], as_of=D, now=NOW, rules=default_rules(), announce=announce
            )
            alert_id = connection.execute(sa.select(alert.c.id)).scalar_one()
        drain(engine, client, start=NOW)
    # then one delivery was queued, for the office whose region covers the household, and it arrived signed
    assert report.deliveries == 1
    (event,) = receiver.events
    assert (event["type"], event["subscription"]) == ("alert.raised", made.subscription_id)
    assert "term" not in event
    # and its data is the alert, the division withheld as the policy says, and the evidence too: it is
    # sensitive, which this policy does not grant
    assert event["alert"] == {
        "id": str(alert_id),
        "kind": "SEVERE_DISABILITY",
        "household_number": HOUSEHOLD,
        "region_code": None,
        "raised_at": "2026-12-01T09:00:00Z",
        "due_at": "2026-12-02T09:00:00Z",
        "level": "township",
        "emergency": False,
        "evidence": None,
    }
    # and an audit event under the kind's purpose names what was disclosed before it left
    with engine.connect() as connection:
        (audited,) = connection.execute(select_stored_rows().where(audit_event.c.client_id == OFFICE)).mappings()
        delivery = connection.execute(sa.select(webhook_delivery.c.subject, webhook_delivery.c.audit_seq)).one()
    assert (audited["purpose"], audited["operation"]) == ("case-management", "webhook alert.raised")
    assert "Household.householdNumber" in audited["revealed"] and "Household.regionCode" in audited["withheld"]
    assert delivery.subject == HOUSEHOLD and delivery.audit_seq == audited["seq"]
    assert REGION not in str(event)


def test_no_alert_leaves_without_a_policy_or_to_a_client_not_allowed_case_management(engine: sa.Engine) -> None:
    # given a client allowed only student aid: it cannot subscribe to alerts
    _client(engine, "aid", regions=["3505"], purposes=["student-aid"])
    try:
        subscribe(engine, client_id="aid", url="https://aid.example.org/hooks", events=["alert.raised"])
    except SubscriptionError as refused:
        assert "may not declare the purpose 'case-management'" in str(refused)
    else:
        raise AssertionError("a client without case-management subscribed to alert.raised")
    # given the poverty office subscribed, but no policy applied yet
    _client(engine, OFFICE, regions=["350583"], purposes=["case-management"])
    subscribe(engine, client_id=OFFICE, url="https://office.example.org/hooks", events=["alert.raised"])
    # when a scan raises an alert, then nothing is queued
    with engine.begin() as connection:
        household(connection)
        certificate(connection, HEAD, "C1", grade=1, issued=D)
        report = scan(connection, households=[HOUSEHOLD], as_of=D, now=NOW, rules=default_rules(), announce=announce)
        queued = connection.execute(sa.select(sa.func.count()).select_from(webhook_delivery)).scalar_one()
    assert report.raised == 1 and report.deliveries == 0 and queued == 0


# The same office, now granted sensitive data, but not a certificate's grade.
EVIDENCE_POLICY = """
poverty-office:
  case-management:
    Query.alerts: allow
    public: allow
    personal: allow
    sensitive: allow
    special: mask
    DisabilityCertificate.grade: deny
"""


def test_an_alerts_evidence_leaves_value_by_value_under_its_source_fields_policy(engine: sa.Engine) -> None:
    # given a policy that grants the evidence but denies a certificate's grade, and the office subscribed
    with engine.begin() as connection:
        apply_policy(connection, EVIDENCE_POLICY, applied_by="test")
    _client(engine, OFFICE, regions=["350583"], purposes=["case-management"])
    with running(SECRET) as receiver, http() as client:
        subscribe(engine, client_id=OFFICE, url=receiver.url, events=["alert.raised"], secret=SECRET)
        # when a scan raises an alert for a new grade 1 certificate and the delivery is sent
        with engine.begin() as connection:
            household(connection)
            certificate(connection, HEAD, "C1", grade=1, issued=D)
            scan(connection, households=[HOUSEHOLD], as_of=D, now=NOW, rules=default_rules(), announce=announce)
        drain(engine, client, start=NOW)
    # then the evidence record is there, its grade withheld as DisabilityCertificate.grade is, the rest shown
    (event,) = receiver.events
    (record,) = event["alert"]["evidence"]
    assert (record["department"], record["table"], record["record_key"]) == ("disability", "cjr", "C1")
    assert record["values"]["grade"] is None
    assert record["values"]["id_number"] == HEAD
    assert record["values"]["issued_on"] == D.isoformat()
