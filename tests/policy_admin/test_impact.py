"""Impact replay: the last days' requests, as the trail recorded them, counted per client against a draft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from auth.audit import AuditEvent, AuditLog
from auth.policy_admin import PolicyAdminError, impact, make_draft
from auth.policy_store import apply_policy

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LIVE = """\
housing:
  assistance-review:
    public: allow
    personal: mask
    special: mask
    Person.phone: allow
poverty:
  comparison:
    public: allow
    personal: allow
    special: mask
    Person.name: mask
"""
# Housing loses the phone (broken); poverty sees names in full (widened) and birth dates as the year (narrowed).
DRAFT = """\
housing:
  assistance-review:
    public: allow
    personal: mask
    special: mask
    Person.phone: deny
poverty:
  comparison:
    public: allow
    personal: allow
    special: mask
    Person.birthDate: mask
"""


def read(client: str, role: str, purpose: str, *, days_ago: float = 1, **fields: Any) -> AuditEvent:
    values: dict[str, Any] = {"revealed": (), "masked": (), "withheld": (), **fields}
    return AuditEvent(
        at=NOW - timedelta(days=days_ago), client_id=client, outcome="ok", roles=[role], purpose=purpose,
        operation="Members", policy_version=1, **values,
    )  # fmt: skip


@pytest.fixture(params=[True, False], ids=["lists by key", "lists inline"])
def trail(engine: sa.Engine, request: pytest.FixtureRequest) -> sa.Engine:
    """Version 1 live, a draft as version 2, and a week of hand-made events: their lists named by key, as
    the hub writes them, or inline, as it wrote them before migration 0016 (the replay reads both)."""
    with engine.begin() as connection:
        apply_policy(connection, LIVE, applied_by="set-up")
    housing = ("demo-housing", "housing", "assistance-review")
    poverty = ("demo-poverty", "poverty", "comparison")
    AuditLog(engine, disclosure_by_key=request.param).append_many(
        [
            *(read(*housing, revealed=["Person.phone"], masked=["Person.name"]) for _ in range(3)),
            read(*housing, masked=["Household.address"]),  # unchanged by the draft
            # a minor's id withheld by `special`, where the rule masks ids: the draft masks them too
            read(*housing, withheld=["Person.idNumber"]),
            *(read(*poverty, days_ago=2, masked=["Person.name"], revealed=["Person.birthDate"]) for _ in range(2)),
            # older than the week: not replayed
            read(*housing, days_ago=8, revealed=["Person.phone"]),
            # no fields, or not answered under a live version: skipped
            AuditEvent(at=NOW - timedelta(hours=1), client_id="demo-housing", outcome="refused", roles=["housing"],
                       purpose="comparison", detail="FORBIDDEN: purpose not allowed"),
            AuditEvent(at=NOW - timedelta(hours=1), client_id=None, outcome="unauthenticated", detail="3 refusals"),
            AuditEvent(at=NOW - timedelta(hours=1), client_id="demo-housing", outcome="dry-run", roles=["housing"],
                       purpose="assistance-review", revealed=["Person.phone"]),
        ]
    )  # fmt: skip
    assert make_draft(engine, DRAFT, by="wang") == 2  # its own event is "now", after the week replayed
    return engine


def test_a_draft_counts_per_client_the_requests_it_breaks_widens_and_narrows(trail: sa.Engine) -> None:
    # when the draft is replayed against the last 7 days
    found = impact(trail, 2, days=7, now=NOW)

    # then every event with fields in the week is replayed, and those without fields are skipped
    assert (found.draft_version, found.replayed, found.skipped) == (2, 7, 3)
    assert (found.since, found.until) == (NOW - timedelta(days=7), NOW)
    housing, poverty = found.clients
    # and housing's three requests that saw phones would lose them; its other two are unchanged
    assert (housing.client_id, housing.requests, housing.broken, housing.widened, housing.narrowed) == (
        "demo-housing", 5, 3, 0, 0,
    )  # fmt: skip
    assert (housing.broken_fields, housing.widened_fields) == (["Person.phone"], [])
    # and poverty's two requests would see names in full, and birth dates only as the year
    assert (poverty.client_id, poverty.requests, poverty.broken, poverty.widened, poverty.narrowed) == (
        "demo-poverty", 2, 0, 2, 2,
    )  # fmt: skip
    assert (poverty.widened_fields, poverty.narrowed_fields) == (["Person.name"], ["Person.birthDate"])


def test_the_live_version_replayed_against_itself_changes_nothing(trail: sa.Engine) -> None:
    found = impact(trail, 1, days=7, now=NOW)
    assert all((c.broken, c.widened, c.narrowed) == (0, 0, 0) for c in found.clients)
    # and a longer window takes the older request in as well
    assert impact(trail, 2, days=10, now=NOW).clients[0].broken == 4


def test_an_unknown_version_or_window_is_refused(trail: sa.Engine) -> None:
    with pytest.raises(PolicyAdminError, match="no policy version 9"):
        impact(trail, 9, now=NOW)
    with pytest.raises(PolicyAdminError, match="at least 1"):
        impact(trail, 2, days=0, now=NOW)
