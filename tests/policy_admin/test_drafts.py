"""Drafts and four eyes: a draft is served by no hub until a second person approves it, against the live base."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

from auth.policy_admin import PolicyAdminError, approve, make_draft, rollback, versions, withdraw
from auth.policy_admin import drafts as drafts_module
from auth.policy_store import PolicyCache, apply_policy, live_version, stored_policy
from auth.tables import audit_event
from tests.access import DEMO_POLICY_TEXT

SMALL = "# housing only\nhousing:\n  assistance-review:\n    public: allow\n    personal: mask\n"
NO_PHONES = SMALL + "    Person.phone: deny\n"


def live(engine: sa.Engine) -> int | None:
    """The version a running hub would serve now (a cache that checks on every call)."""
    current = PolicyCache(engine, ttl=0).current()
    return current.version if current is not None else None


def trail(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(audit_event).order_by(audit_event.c.seq)).mappings()
        return [dict(row) for row in rows]


def test_a_draft_goes_live_only_when_a_second_person_approves_it(engine: sa.Engine) -> None:
    # given a draft by wang on an empty hub
    version = make_draft(engine, SMALL, by="wang", reason="housing starts", source="small.yaml")
    assert version == 1
    # then no hub serves it, and the live policy is none
    assert live(engine) is None
    with engine.connect() as connection:
        assert stored_policy(connection) is None

    # when its author approves it, then that is refused, naming the four eyes, whatever the name's case
    for name in ("wang", " Wang "):
        with pytest.raises(PolicyAdminError, match=r"drafted by wang: a second person must approve it \(four eyes\)"):
            approve(engine, version, by=name, single_person=False)
    assert live(engine) is None

    # when li approves it, then it is live, naming both
    approve(engine, version, by="li", single_person=False)
    assert live(engine) == 1
    with engine.connect() as connection:
        stored = stored_policy(connection)
    assert stored is not None
    assert (stored.status, stored.applied_by, stored.approved_by, stored.reason) == (
        "approved",
        "wang",
        "li",
        "housing starts",
    )
    # and the trail holds the draft and the approval only (the refusals changed nothing)
    assert [(e["outcome"], e["actor"], e["policy_version"], e["detail"]) for e in trail(engine)] == [
        ("policy-drafted", "wang", 1, f"version 1 (sha256 {stored.policy.sha256[:16]}) by wang from small.yaml,"
         " based on no live version: housing starts"),
        ("policy-approved", "li", 1, "version 1 drafted by wang, approved by li"),
    ]  # fmt: skip


def test_the_author_approves_alone_only_where_the_hub_allows_a_single_person(engine: sa.Engine) -> None:
    # given a draft by wang, on a hub that allows a single person
    version = make_draft(engine, SMALL, by="wang")
    # when wang approves it, then it is live, and the approval says it was its own author's
    approve(engine, version, by="wang", single_person=True)
    assert live(engine) == version
    assert trail(engine)[-1]["detail"] == (
        "version 1 drafted by wang, approved by wang (its own author: this hub allows a single person,"
        " AIDGRAPH_POLICY_SINGLE_PERSON)"
    )


def test_a_draft_whose_base_is_no_longer_live_is_refused_naming_the_live_version(engine: sa.Engine) -> None:
    # given version 1 live, and two drafts made on it
    with engine.begin() as connection:
        apply_policy(connection, SMALL, applied_by="set-up")
    first = make_draft(engine, NO_PHONES, by="wang")
    second = make_draft(engine, DEMO_POLICY_TEXT, by="zhao")
    # when the second is approved, then it is live
    approve(engine, second, by="li", single_person=False)
    assert live(engine) == second
    # and the first, drafted against version 1, is refused, saying which version is live now
    with pytest.raises(PolicyAdminError, match=r"version 2 was drafted against version 1, but version 3 is live now"):
        approve(engine, first, by="li", single_person=False)
    assert live(engine) == second
    with engine.connect() as connection:
        assert stored_policy(connection, first).status == "draft"  # type: ignore[union-attr]


def test_the_policy_cache_serves_only_approved_versions(engine: sa.Engine) -> None:
    # given version 1 live and a newer draft
    with engine.begin() as connection:
        apply_policy(connection, SMALL, applied_by="set-up")
    cache = PolicyCache(engine, ttl=0)
    assert cache.current().version == 1  # type: ignore[union-attr]
    draft = make_draft(engine, NO_PHONES, by="wang")
    # then the cache and the live policy stay on version 1
    assert cache.current().version == 1  # type: ignore[union-attr]
    with engine.connect() as connection:
        assert stored_policy(connection).version == 1  # type: ignore[union-attr]
    # when the draft is withdrawn, then it can no longer be approved, and version 1 stays live
    withdraw(engine, draft, by="wang")
    with pytest.raises(PolicyAdminError, match="version 2 is withdrawn, not a draft"):
        approve(engine, draft, by="li", single_person=False)
    assert cache.current().version == 1  # type: ignore[union-attr]
    assert trail(engine)[-1]["outcome"] == "policy-withdrawn"


def test_a_rollback_is_a_new_draft_holding_the_old_document(engine: sa.Engine) -> None:
    # given version 1 (small), then version 2 (the demo) drafted and approved
    with engine.begin() as connection:
        apply_policy(connection, SMALL, applied_by="set-up")
    approve(engine, make_draft(engine, DEMO_POLICY_TEXT, by="wang"), by="li", single_person=False)
    assert live(engine) == 2
    # when li rolls back to version 1
    version = rollback(engine, 1, by="li")
    # then it is a new draft, version 3, with version 1's document and the reason, not live yet
    assert (version, live(engine)) == (3, 2)
    with engine.connect() as connection:
        drafted = stored_policy(connection, 3)
    assert drafted is not None
    assert (drafted.status, drafted.policy.text, drafted.reason, drafted.based_on) == (
        "draft",
        SMALL,
        "rollback to 1",
        2,
    )
    # and it is approved like any other draft: not by li, by another
    with pytest.raises(PolicyAdminError, match="four eyes"):
        approve(engine, 3, by="li", single_person=False)
    approve(engine, 3, by="wang", single_person=False)
    assert live(engine) == 3
    # and rolling back to the live version, or to one never live, is refused
    with pytest.raises(PolicyAdminError, match="version 3 is the live version already"):
        rollback(engine, 3, by="li")
    withdraw(engine, make_draft(engine, NO_PHONES, by="wang"), by="wang")
    with pytest.raises(PolicyAdminError, match=r"version 4 was never live \(withdrawn\)"):
        rollback(engine, 4, by="li")


def test_versions_list_who_when_why_the_status_and_the_approver(engine: sa.Engine) -> None:
    # given a live version, an approved draft, a withdrawn one and an open one
    with engine.begin() as connection:
        apply_policy(connection, SMALL, applied_by="set-up")
    approve(engine, make_draft(engine, NO_PHONES, by="wang", reason="no phones"), by="li", single_person=False)
    withdraw(engine, make_draft(engine, SMALL, by="zhao"), by="zhao")
    make_draft(engine, DEMO_POLICY_TEXT, by="wang", reason="the demo")
    # when the versions are listed, then newest first, each with its people, reason and status
    listed = [
        (v.version, v.status, v.live, v.author, v.reason, v.based_on, v.approved_by, v.withdrawn_by)
        for v in versions(engine)
    ]
    assert listed == [
        (4, "draft", False, "wang", "the demo", 2, None, None),
        (3, "withdrawn", False, "zhao", None, 2, None, "zhao"),
        (2, "approved", True, "wang", "no phones", 1, "li", None),
        (1, "approved", False, "set-up", None, None, "set-up", None),
    ]
    assert all(v.made_at is not None for v in versions(engine))


def test_a_refused_change_stores_nothing_and_writes_no_event(engine: sa.Engine) -> None:
    # given one draft and its event
    make_draft(engine, SMALL, by="wang")
    before = trail(engine)
    # when an unknown version, a bad policy, or an empty name are tried
    with pytest.raises(PolicyAdminError, match="no policy version 9"):
        approve(engine, 9, by="li", single_person=False)
    with pytest.raises(ValueError, match="Person.shoeSize"):
        make_draft(engine, SMALL + "    Person.shoeSize: allow\n", by="wang")
    with pytest.raises(PolicyAdminError, match="--by names the person acting"):
        approve(engine, 1, by="  ", single_person=False)
    # then the trail and the versions are as they were
    assert trail(engine) == before
    assert [v.version for v in versions(engine)] == [1]


def test_two_approvals_at_once_cannot_both_pass_the_base_check(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given version 1 live and two drafts made on it
    with engine.begin() as connection:
        apply_policy(connection, SMALL, applied_by="set-up")
    drafts = [make_draft(engine, NO_PHONES, by="wang"), make_draft(engine, DEMO_POLICY_TEXT, by="zhao")]

    # and a store slow between reading the live version and approving, so that two approvals overlap
    def slow_live_version(connection: sa.Connection) -> int | None:
        found = live_version(connection)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(drafts_module, "live_version", slow_live_version)
    # when both are approved at the same moment, by two threads
    barrier = threading.Barrier(2)

    def approve_one(version: int) -> str:
        barrier.wait()
        try:
            approve(engine, version, by="li", single_person=False)
        except PolicyAdminError as error:
            return str(error)
        return "approved"

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(approve_one, drafts))
    # then exactly one went live, and the other was refused, naming it
    assert sorted(result == "approved" for result in results) == [False, True]
    winner = drafts[results.index("approved")]
    assert live(engine) == winner
    assert f"version {winner} is live now" in next(result for result in results if result != "approved")
    assert [e["outcome"] for e in trail(engine)].count("policy-approved") == 1


def test_a_change_made_in_the_console_names_it_as_the_client(engine: sa.Engine) -> None:
    # when a person drafts and another approves through the console
    version = make_draft(engine, SMALL, by="wang", client_id="console")
    approve(engine, version, by="li", single_person=False, client_id="console")
    # then both events name the console as the client and the person as the actor; the command line names none
    make_draft(engine, NO_PHONES, by="wang")
    assert [(e["client_id"], e["actor"]) for e in trail(engine)] == [
        ("console", "wang"),
        ("console", "li"),
        (None, "wang"),
    ]
