"""What `verify` finds in a trail changed behind the hub's back, on SQLite and PostgreSQL: the first broken link."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from auth.audit import VerifyReport, chain_hash, format_report, verify
from auth.tables import audit_event, audit_subject
from tests.auth.test_audit import T0, append_events, attacker, stored_events


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("at", T0 + timedelta(days=1)),
        ("client_id", "housing-nanan"),
        ("roles", ["admin"]),
        ("purpose", "student-aid"),
        ("case_id", "case-other"),
        ("operation", "Other"),
        ("document_hash", "f" * 64),
        ("subjects", []),
        ("revealed", ["Person.idNumber", "Person.name", "Medical.diagnosis"]),
        ("masked", ["Person.name"]),  # a keyed event's own lists are empty: filling one is an edit
        ("withheld", ["Person.name"]),
        ("disclosure_key", None),
        ("outcome", "refused"),
        ("detail", "looked fine"),
        ("policy_version", 1),
        ("prev_hash", "1" * 64),
    ],
)
def test_an_edited_event_is_named(engine: sa.Engine, column: str, value: object) -> None:
    # given a trail of ten events
    append_events(engine, 10)

    # when one column of event 5 is changed behind the hub's back
    with attacker(engine) as connection:
        connection.execute(sa.update(audit_event).where(audit_event.c.seq == 5).values({column: value}))

    # then the check names event 5 as edited, and the four before it as intact
    report = verify(engine, batch_size=3)
    assert (report.ok, report.first_bad_seq, report.events_checked) == (False, 5, 4)
    assert report.problem == "seq 5 was edited: its contents no longer match its hash"
    assert (report.last_seq, report.last_hash) == (4, stored_events(engine)[3]["hash"])


def test_an_edit_with_its_hash_recomputed_is_named_at_the_next_link(engine: sa.Engine) -> None:
    # given a trail of ten events
    append_events(engine, 10)

    # when event 5's purpose is changed and its hash recomputed to match
    edited = {**stored_events(engine)[4], "purpose": "student-aid"}
    with attacker(engine) as connection:
        connection.execute(
            sa.update(audit_event).where(audit_event.c.seq == 5).values(purpose="student-aid", hash=chain_hash(edited))
        )

    # then event 5 looks whole, but event 6 no longer links to it, and the check names that link
    report = verify(engine)
    assert (report.ok, report.first_bad_seq) == (False, 6)
    assert report.problem is not None and "seq 6's prev_hash is not seq 5's hash" in report.problem


@pytest.mark.parametrize("subject_rows_too", [True, False], ids=["with its subject rows", "event row only"])
def test_a_deleted_event_in_the_middle_is_named_by_the_link_after_the_gap(
    engine: sa.Engine, subject_rows_too: bool
) -> None:
    # given a trail of ten events
    append_events(engine, 10)

    # when event 5 is deleted
    with attacker(engine) as connection:
        if subject_rows_too:
            connection.execute(sa.delete(audit_subject).where(audit_subject.c.seq == 5))
        connection.execute(sa.delete(audit_event).where(audit_event.c.seq == 5))

    # then the check names event 6, the first after the gap, and says what is missing
    report = verify(engine, batch_size=3)
    assert (report.ok, report.first_bad_seq, report.events_checked) == (False, 6, 4)
    assert report.problem == "seq 5 missing (deleted) before seq 6"


def test_deleted_first_events_are_named(engine: sa.Engine) -> None:
    # given a trail of ten events, when the first three are deleted with their subjects
    append_events(engine, 10)
    with attacker(engine) as connection:
        connection.execute(sa.delete(audit_subject).where(audit_subject.c.seq <= 3))
        connection.execute(sa.delete(audit_event).where(audit_event.c.seq <= 3))

    # then the check names event 4
    report = verify(engine)
    assert (report.ok, report.first_bad_seq, report.events_checked) == (False, 4, 0)
    assert report.problem == "seqs 1..3 missing (deleted) before seq 4"


def test_an_event_inserted_out_of_chain_is_named(engine: sa.Engine) -> None:
    # given a trail of ten events
    append_events(engine, 10)
    rows = stored_events(engine)

    # when an event 11 is added that links to event 9 (a fork), its own hash computed correctly
    forged = {**rows[9], "seq": 11, "prev_hash": rows[8]["hash"], "purpose": "comparison"}
    forged["hash"] = chain_hash(forged)
    with attacker(engine) as connection:
        connection.execute(sa.insert(audit_event), forged)

    # then the check names event 11
    report = verify(engine)
    assert (report.ok, report.first_bad_seq, report.events_checked) == (False, 11, 10)
    assert report.problem is not None and "seq 11 was inserted out of chain" in report.problem


@pytest.mark.parametrize(
    "change",
    [
        "DELETE FROM audit_subject WHERE seq = 4 AND subject = (SELECT min(subject) FROM audit_subject WHERE seq = 4)",
        "INSERT INTO audit_subject (subject, seq) VALUES ('p_0000000000000000', 4)",
    ],
    ids=["a subject row removed", "a subject row added"],
)
def test_subject_rows_that_disagree_with_their_event_are_named(engine: sa.Engine, change: str) -> None:
    # given a trail of ten events, event 4 with two subjects
    append_events(engine, 10)

    # when a subject row of event 4 is removed (hiding a read from the access log) or one added
    with attacker(engine) as connection:
        connection.execute(sa.text(change))

    # then the check names event 4
    report = verify(engine, batch_size=3)
    assert (report.ok, report.first_bad_seq) == (False, 4)
    assert report.problem is not None and "audit_subject rows disagree" in report.problem


def test_a_truncated_tail_passes_alone_and_is_caught_by_an_anchor(engine: sa.Engine) -> None:
    # given a trail of ten events whose head was recorded elsewhere
    append_events(engine, 10)
    head = verify(engine)
    assert head.last_seq == 10 and head.last_hash is not None
    anchor = (head.last_seq, head.last_hash)

    # when the newest event is deleted with its subject rows
    with attacker(engine) as connection:
        connection.execute(sa.delete(audit_subject).where(audit_subject.c.seq == 10))
        connection.execute(sa.delete(audit_event).where(audit_event.c.seq == 10))

    # then the chain alone cannot tell: what remains is a valid, shorter chain
    alone = verify(engine)
    assert (alone.ok, alone.last_seq) == (True, 9)
    # but checked against the recorded head, event 10 is named as deleted
    anchored = verify(engine, anchor=anchor)
    assert (anchored.ok, anchored.first_bad_seq, anchored.events_checked) == (False, 10, 9)
    assert anchored.problem is not None and "events 10..10 were deleted" in anchored.problem


def test_an_anchor_still_passes_while_the_trail_grows(engine: sa.Engine) -> None:
    # given a head recorded after five events
    append_events(engine, 5)
    head = verify(engine)
    assert head.last_seq is not None and head.last_hash is not None

    # when more events are appended, then the trail still verifies against it
    append_events(engine, 3)
    assert verify(engine, anchor=(head.last_seq, head.last_hash)).ok
    # and a head that was never in the chain is refused at its seq
    report = verify(engine, anchor=(head.last_seq, "e" * 64))
    assert (report.ok, report.first_bad_seq) == (False, 5)


def test_a_deleted_newest_event_whose_subject_rows_remain_is_named(engine: sa.Engine) -> None:
    # given a trail of ten events, when the newest event row is deleted but its subject rows are not
    append_events(engine, 10)
    with attacker(engine) as connection:
        connection.execute(sa.delete(audit_event).where(audit_event.c.seq == 10))

    # then the check names event 10 by its orphaned subject rows
    report = verify(engine)
    assert (report.ok, report.first_bad_seq, report.events_checked) == (False, 10, 9)
    assert report.problem == "audit_subject rows name seq 10, which has no event"


def test_report_lines_for_the_command_line() -> None:
    # given an intact and a broken report, when formatted, then each is one line saying what it found
    intact = VerifyReport(ok=True, events_checked=200, last_seq=200, last_hash="ab" * 32)
    assert format_report(intact) == f"audit trail ok: 200 events checked; head seq 200 hash {'ab' * 32}"
    broken = VerifyReport(ok=False, events_checked=4, first_bad_seq=5, problem="seq 5 was edited")
    assert format_report(broken) == "audit trail BROKEN at seq 5: seq 5 was edited (4 events before it are intact)"


def test_of_two_tampered_events_the_first_is_reported_with_the_anchor_used(engine: sa.Engine) -> None:
    # given a trail of ten events whose head after eight was recorded elsewhere
    append_events(engine, 8)
    head = verify(engine)
    assert head.anchor is None and head.last_seq == 8 and head.last_hash is not None
    anchor = (head.last_seq, head.last_hash)
    append_events(engine, 2)

    # when events 7 and 3 are changed behind the hub's back
    with attacker(engine) as connection:
        for seq in (7, 3):
            connection.execute(sa.update(audit_event).where(audit_event.c.seq == seq).values(outcome="ok-edited"))

    # then the report names event 3, the first broken link, as data a page can show, with the anchor it was given
    report = verify(engine, anchor=anchor, batch_size=4)
    assert report == VerifyReport(
        ok=False,
        events_checked=2,
        first_bad_seq=3,
        problem="seq 3 was edited: its contents no longer match its hash",
        last_seq=2,
        last_hash=stored_events(engine)[1]["hash"],
        anchor=anchor,
    )
    assert format_report(report).endswith("(2 events before it are intact); checked against the anchor seq 8")


def test_an_intact_trail_reports_the_anchor_it_still_holds(engine: sa.Engine) -> None:
    # given a trail of five events and its head recorded elsewhere, then three more
    append_events(engine, 5)
    head = verify(engine)
    assert head.last_seq is not None and head.last_hash is not None
    append_events(engine, 3)

    # when verified against that head, then it is intact, and says which anchor it was checked against
    report = verify(engine, anchor=(head.last_seq, head.last_hash))
    assert (report.ok, report.events_checked, report.last_seq, report.anchor) == (
        True, 8, 8, (5, head.last_hash),
    )  # fmt: skip
    assert format_report(report).endswith("; checked against the anchor seq 5")
