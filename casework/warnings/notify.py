"""`alert.raised` webhooks: one delivery per new alert for each active subscription to the kind whose regions
cover the household, its data presented under the subscribing client's policy.

The kind's purpose (`case-management`, webhooks.kinds) decides the policy view, as `student-aid` does for
the student events: a client not allowed it is sent nothing, and with no stored policy nothing leaves.
Being told at all is governed by the alerts' entry point, `Query.alerts`, which opens only by a rule
naming it. The household number and region go through the view of `Household`, the alert's own fields
through that of `Alert`, and its evidence through the one evidence presenter (auth/evidence.py): each
value under its source field's policy, as `alerts { evidence }` shows it. What was revealed, masked and
withheld is stored with the delivery for the audit event written before it is sent (webhooks.delivery).

    {"id": "evt_…", "type": "alert.raised", "sequence": 7, "subscription": "sub_…",
     "occurred_at": "2026-12-01T09:00:00Z",
     "alert": {"id": "12", "kind": "MEDICAL_COSTS", "household_number": "…", "region_code": "…",
               "raised_at": "2026-12-01T09:00:00Z", "due_at": "2026-12-02T09:00:00Z",
               "level": "township", "emergency": false,
               "evidence": [{"department": "medical", "table": "jsxx", "record_key": "…",
                             "values": {"out_of_pocket": "5200.00", "diagnosis_code": null, …}}]}}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final

import sqlalchemy as sa

from auth.access import Access, access_for
from auth.clients import Client
from auth.disclosure import Selected, disclose
from auth.evidence import present_evidence
from auth.policy import CompiledPolicy
from auth.policy_store import stored_policy
from auth.tables import oauth_client
from resolvers.rules.regions import Region, covered
from webhooks.kinds import event_kind, may_receive
from webhooks.payloads import iso
from webhooks.queue import QueuedEvent, enqueue
from webhooks.subscriptions import Subscription, intersect_regions
from webhooks.tables import webhook_subscription

RAISED: Final = event_kind("alert.raised").name
_ALERT_TYPE: Final = "Alert"
ALERTS_ENTRY_POINT: Final = "alerts"
_ALERT_FIELDS: Final = ("id", "kind", "raisedAt", "dueAt", "level", "emergency", "evidence")
_HOUSEHOLD_FIELDS: Final = (("Household", "householdNumber"), ("Household", "regionCode"))

Row = Mapping[str, Any]


def announce(connection: sa.Connection, alerts: Sequence[Row], now: dt.datetime) -> int:
    """Queue `alert.raised` for the new `alerts` in the scan's transaction; returns the deliveries queued."""
    stored = stored_policy(connection)
    if stored is None or not alerts:
        return 0  # no policy applied: nothing may leave
    policy = CompiledPolicy(stored.policy, stored.version)
    queued = 0
    for subscription, client in _subscribers(connection):
        regions = [Region(prefix) for prefix in intersect_regions(client.regions, subscription.regions)]
        payloads = AlertPayloads(policy, client)
        if payloads.refusal() is not None:
            continue
        events = [payloads.raised(row) for row in alerts if covered(row["region_code"], regions)]
        queued += enqueue(
            connection,
            subscription_id=subscription.subscription_id,
            term=None,
            kind=RAISED,
            occurred_at=now,
            events=events,
        )
    return queued


def _subscribers(connection: sa.Connection) -> list[tuple[Subscription, Client]]:
    """Active subscriptions naming the kind, of enabled clients allowed its purpose (few: read them all)."""
    rows = connection.execute(
        sa.select(webhook_subscription, *(column.label(f"client_{column.name}") for column in oauth_client.c))
        .join(oauth_client, oauth_client.c.client_id == webhook_subscription.c.client_id)
        .where(webhook_subscription.c.active)
        .order_by(webhook_subscription.c.created_at)
    ).mappings()
    found = []
    for row in rows:
        subscription = Subscription.from_row(row)
        client = Client.from_row({column.name: row[f"client_{column.name}"] for column in oauth_client.c})
        if RAISED in subscription.events and not client.disabled and may_receive(client.purposes, RAISED):
            found.append((subscription, client))
    return found


class AlertPayloads:
    """An alert's event data under one client's view for the kind's purpose."""

    def __init__(self, policy: CompiledPolicy, client: Client) -> None:
        self._policy = policy
        self._client = client

    def refusal(self) -> str | None:
        """Why this client may not be told of alerts at all, or None."""
        return self._access().enter(ALERTS_ENTRY_POINT)

    def raised(self, row: Row) -> QueuedEvent:
        access = self._access()
        access.enter(ALERTS_ENTRY_POINT)
        subject = {"household_number": row["household_number"]}
        household = {"household_number": row["household_number"], "region_code": row["region_code"]}
        access.apply("Household", household, subject)
        shown: dict[str, Any] = {
            "id": str(row["id"]),
            "kind": row["kind"],
            "raised_at": iso(row["raised_at"]),
            "due_at": iso(row["due_at"]),
            "level": row["level"],
            "emergency": bool(row["emergency"]),
            "evidence": row["evidence"],
        }
        selected = [Selected(f"webhook.{type_name}.{name}", type_name, name) for type_name, name in _HOUSEHOLD_FIELDS]
        access.apply(_ALERT_TYPE, shown, subject)
        selected += [Selected(f"webhook.Alert.{name}", _ALERT_TYPE, name) for name in _ALERT_FIELDS]
        if shown["evidence"] is not None:
            path = "webhook.Alert.evidence"
            shown["evidence"] = present_evidence(access, row["evidence"], subject_id=None, path=path)
        data = {"alert": {"id": shown.pop("id"), **household, **shown}}
        return QueuedEvent(row["household_number"], data, self._disclosure(access, tuple(selected)))

    def _access(self) -> Access:
        purpose = event_kind(RAISED).purpose
        return access_for(self._client.principal(token_purposes=[purpose]), purpose, self._policy)

    def _disclosure(self, access: Access, fields: tuple[Selected, ...]) -> dict[str, Any]:
        found = disclose(access, fields)
        return {
            "revealed": found.revealed,
            "masked": found.masked,
            "withheld": found.withheld,
            "policy_version": self._policy.version,
        }
