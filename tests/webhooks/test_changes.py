"""Change detection on a real store: department data changes, is imported again, and exactly the
students whose eligibility changed become events, delivered to a real receiver."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from aidgraph.db import create_engine
from auth.clients import disable_client
from auth.policy_store import apply_policy
from resolvers.students.changes import DetectionConflict, _next_generation, detect_changes
from tests.access import DEMO_POLICY_TEXT, apply_demo_policy
from tests.webhooks.receiver import running
from tests.webhooks.support import CLIENT, SECRET, T0, TERM, drain, http, register_student_aid, subscription
from tests.world import LARGE, LARGE_MEMBERS, SMALL, SMALL_HEAD, STUDENT, write_world
from tools.pgserver import ThrowawayPostgres
from webhooks.subscriptions import subscribe
from webhooks.tables import webhook_snapshot

PUPIL = STUDENT  # at 南安市实验小学, xd=3 (junior secondary), grade 2
PUPIL_CERTIFICATE = f"{PUPIL}42"
SENIOR = LARGE_MEMBERS[4][0]  # the other student of the household, at middle school
GRANDFATHER = LARGE_MEMBERS[2][0]
DAY = timedelta(days=1)


def _rewrite(path: Path, rows: list[list[str]]) -> None:
    with path.open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _world(root: Path) -> Path:
    """The small world, changed so that of its two students only the pupil qualifies: by her disability
    certificate. Her household is no longer registered poor, monitored or low-income, and its dibao covers
    only the grandfather (which does not count for the students)."""
    write_world(root)
    _rewrite(root / "poverty" / "pkh.csv", [[SMALL, SMALL_HEAD, "2", "2015", "2019", "350583101201"]])
    _rewrite(root / "poverty" / "jcdx.csv", [[SMALL, "2", "1", "2", "2021-03-01", "0", "", "5200"]])
    _rewrite(
        root / "civil_affairs" / "hdxx.csv",
        [
            [SMALL, "2026-05-20", "2", "12000", "6000", "0", "0", "2400"],
            [LARGE, "2026-06-01", "8", "400000", "0", "0", "0", "0"],
        ],
    )
    _certificates(root, pupil_valid_until="2031-05-31", senior=False)
    return root


def _certificates(root: Path, *, pupil_valid_until: str, senior: bool) -> None:
    rows = [
        [GRANDFATHER, f"{GRANDFATHER}42", "4", "2", "2021-06-01", "2031-05-31"],
        [PUPIL, PUPIL_CERTIFICATE, "4", "2", "2024-01-10", pupil_valid_until],
    ]
    if senior:
        rows.append([SENIOR, f"{SENIOR}42", "4", "2", "2026-06-01", "2031-05-31"])
    _rewrite(root / "disability" / "cjr.csv", rows)


def _dibao(root: Path, *, household_end: str | None) -> None:
    """The large household covered as a whole from 2025 (ended on `household_end`, if given)."""
    _rewrite(
        root / "civil_affairs" / "dibao.csv",
        [
            [SMALL, "1", "", "2", "1800.00", "2024-03-01", "", ""],
            [LARGE, "2", GRANDFATHER, "1", "900.00", "2025-01-01", "", ""],
            [LARGE, "1", "", "8", "3000.00", "2025-03-01", household_end or "", ""],
        ],
    )


def _ingest(engine: sa.Engine, root: Path, *names: str) -> None:
    for name in names or tuple(DEPARTMENTS):
        ingest_folder(engine, DEPARTMENTS[name], root / name)


def _store(engine: sa.Engine, root: Path) -> None:
    _ingest(engine, _world(root))
    apply_demo_policy(engine)
    register_student_aid(engine)


def _counts(report: object) -> list[tuple[int, int, int, bool, str | None]]:
    return [
        (item.eligible, item.no_longer_eligible, item.current, item.first, item.skipped)
        for item in report.subscriptions  # type: ignore[attr-defined]
    ]


def test_new_department_data_becomes_exactly_the_expected_events(engine: sa.Engine, tmp_path: Path) -> None:
    # given a store where only the pupil qualifies (her certificate), and a subscription of the student-aid system
    _store(engine, tmp_path)
    with running(SECRET) as receiver, http() as client:
        subscription(engine, receiver.url)
        first = detect_changes(engine, term=TERM, now=T0)
        # when her certificate turns out to have expired before the term, the other student gets one, and the
        # disability federation's data is imported again
        _certificates(tmp_path, pupil_valid_until="2026-06-30", senior=True)
        _ingest(engine, tmp_path, "disability")
        second = detect_changes(engine, term=TERM, now=T0 + DAY)
        # and detection runs once more with nothing new
        third = detect_changes(engine, term=TERM, now=T0 + 2 * DAY)
        drain(engine, client, start=T0 + 2 * DAY)
    # then the first run announced the pupil, the second the senior in and the pupil out, the third nothing
    assert _counts(first) == [(1, 0, 1, True, None)]
    assert _counts(second) == [(1, 1, 1, False, None)]
    assert _counts(third) == [(0, 0, 1, False, None)]
    assert [(event["type"], event["student"]["id_number"]) for event in receiver.events] == [
        ("student.eligible", PUPIL),
        ("student.eligible", SENIOR),
        ("student.no_longer_eligible", PUPIL),
    ]
    # and each says why, with the source record, and nothing about names, conditions or incomes
    announced, _, gone = receiver.events
    assert announced["student"] == {
        "id_number": PUPIL,
        "stage": "JUNIOR_SECONDARY",
        "school_code": "3505830012",
        "school_name": "南安市实验小学",
        "grade": 2,
    }
    [reason] = announced["reasons"]
    assert {key: reason[key] for key in ("code", "department", "table", "source_record")} == {
        "code": "DISABILITY",
        "department": "disability",
        "table": "cjr",
        "source_record": PUPIL_CERTIFICATE,
    }
    assert set(reason) == {"code", "department", "table", "source_record", "as_of"}
    assert announced["aid_granted"] is True  # the world records aid for her in the term
    assert gone["student"] == {"id_number": PUPIL} and gone["previous_reasons"] == ["DISABILITY"]
    assert set(gone) == {"id", "type", "sequence", "subscription", "term", "occurred_at", "student"} | {
        "previous_reasons"
    }
    assert (announced["occurred_at"], gone["occurred_at"]) == ("2026-11-24T08:00:00Z", "2026-11-25T08:00:00Z")
    # and only the current snapshot is kept
    with engine.connect() as connection:
        kept = connection.execute(sa.select(webhook_snapshot.c.generation, webhook_snapshot.c.id_number)).all()
    assert [tuple(row) for row in kept] == [(3, SENIOR)]  # the third run's


def test_ending_a_dibao_is_news_only_for_students_with_no_other_reason(engine: sa.Engine, tmp_path: Path) -> None:
    # given both students covered by their household's dibao, the pupil also by her certificate
    root = _world(tmp_path)
    _dibao(root, household_end=None)
    _ingest(engine, root)
    apply_demo_policy(engine)
    register_student_aid(engine)
    with running(SECRET) as receiver, http() as client:
        subscription(engine, receiver.url)
        first = detect_changes(engine, term=TERM, now=T0)
        # when the dibao ends before the term (no gradual exit) and civil affairs' data is imported again
        _dibao(root, household_end="2026-08-31")
        _ingest(engine, root, "civil_affairs")
        second = detect_changes(engine, term=TERM, now=T0 + DAY)
        drain(engine, client, start=T0 + DAY)
    # then both were announced with their reasons, and only the senior is no longer eligible
    assert _counts(first) == [(2, 0, 2, True, None)]
    assert _counts(second) == [(0, 1, 1, False, None)]
    # (in id order: the senior, born 2008, before the pupil)
    assert [(event["type"], event["student"]["id_number"]) for event in receiver.events] == [
        ("student.eligible", SENIOR),
        ("student.eligible", PUPIL),
        ("student.no_longer_eligible", SENIOR),
    ]
    codes = {event["student"]["id_number"]: [r["code"] for r in event["reasons"]] for event in receiver.events[:2]}
    assert codes == {PUPIL: ["DIBAO", "DISABILITY"], SENIOR: ["DIBAO"]}
    assert receiver.events[2]["previous_reasons"] == ["DIBAO"]


def test_a_subscription_made_not_to_announce_existing_students_only_records_them(
    engine: sa.Engine, tmp_path: Path
) -> None:
    # given a subscription that loads the term's list from the export instead
    _store(engine, tmp_path)
    subscribe(
        engine, client_id=CLIENT, url="https://aid.example.org/", terms=[TERM], secret=SECRET, announce_existing=False
    )
    # when detection runs, then again after the senior gets a certificate
    first = detect_changes(engine, term=TERM, now=T0)
    _certificates(tmp_path, pupil_valid_until="2031-05-31", senior=True)
    _ingest(engine, tmp_path, "disability")
    second = detect_changes(engine, term=TERM, now=T0 + DAY)
    # then the first run only recorded the pupil, and the second announced the senior
    assert _counts(first) == [(0, 0, 1, True, None)]
    assert _counts(second) == [(1, 0, 2, False, None)]


def test_a_subscription_sees_only_its_regions_and_other_terms_are_not_its_business(
    engine: sa.Engine, tmp_path: Path
) -> None:
    # given subscriptions for another county, for the students' county, and one following another term
    _store(engine, tmp_path)
    elsewhere = subscription(engine, "https://aid.example.org/a", regions=["350582"])
    here = subscription(engine, "https://aid.example.org/b", regions=["350583"])
    subscribe(engine, client_id=CLIENT, url="https://aid.example.org/c", terms=["2025-2026-2"])
    # when detection runs for the term
    report = detect_changes(engine, term=TERM, now=T0)
    # then the other county's finds nobody, the county's finds the pupil, the other term's is not run
    found = {item.subscription_id: (item.current, item.eligible) for item in report.subscriptions}
    assert found == {elsewhere: (0, 0), here: (1, 1)}


def test_nothing_is_detected_for_a_disabled_client_or_without_a_policy(engine: sa.Engine, tmp_path: Path) -> None:
    # given a subscription, in a store with no access policy yet
    _ingest(engine, _world(tmp_path))
    register_student_aid(engine)
    subscription(engine, "https://aid.example.org/")
    # when detection runs without a policy, and again with one but the client disabled
    without_policy = detect_changes(engine, term=TERM, now=T0)
    apply_demo_policy(engine)
    disable_client(engine, CLIENT, by="admin-wang")
    disabled = detect_changes(engine, term=TERM, now=T0)
    # then both skip the subscription and say why, enqueueing nothing
    assert _counts(without_policy) == [(0, 0, 0, False, "no access policy has been applied")]
    assert _counts(disabled) == [(0, 0, 0, False, "the client is disabled")]


def test_nothing_is_announced_where_the_policy_closes_the_list(engine: sa.Engine, tmp_path: Path) -> None:
    # given a subscription, under a policy that names entry points and opens eligibleStudents to no one
    _ingest(engine, _world(tmp_path))
    register_student_aid(engine)
    subscription(engine, "https://aid.example.org/")
    closed = DEMO_POLICY_TEXT + "\neducation:\n  student-aid:\n    Query.household: allow\n"
    with engine.begin() as connection:
        apply_policy(connection, closed, applied_by="tests")
    # when detection runs
    found = detect_changes(engine, term=TERM, now=T0)
    # then being announced is refused like being listed: nothing is enqueued, and it says why
    assert _counts(found) == [
        (0, 0, 0, False, "eligibleStudents is not granted to this client's roles for the purpose 'student-aid'")
    ]


def test_a_term_that_is_not_a_term_is_refused(engine: sa.Engine) -> None:
    # given any store, when detection is asked for a malformed term, then it is refused
    with pytest.raises(ValueError, match="term"):
        detect_changes(engine, term="2026-2027-3")


@pytest.fixture
def postgres_engine(postgres: ThrowawayPostgres) -> Iterator[sa.Engine]:
    """PostgreSQL only: on SQLite one writer at a time orders detections, so no race can be lost."""
    engine = create_engine(postgres.create_database(f"race_{uuid.uuid4().hex[:8]}", template="aidgraph_template"))
    yield engine
    engine.dispose()


def test_a_detection_that_lost_a_race_says_so_and_changes_nothing(postgres_engine: sa.Engine, tmp_path: Path) -> None:
    engine = postgres_engine
    # given a subscription detected once, and a second detection that has read the current generation
    _store(engine, tmp_path)
    sub = subscription(engine, "https://aid.example.org/")
    detect_changes(engine, term=TERM, now=T0)
    keys = {"subscription_id": sub, "term": TERM}
    with engine.connect() as slow:
        slow = slow.execution_options(isolation_level="REPEATABLE READ")
        with slow.begin():
            slow.execute(sa.select(webhook_snapshot.c.generation)).all()  # its view of the store starts here
            # when another detection commits first
            detect_changes(engine, term=TERM, now=T0 + DAY)
            # then the slow one cannot claim the next generation, and says why
            with pytest.raises(DetectionConflict, match="another detection"):
                _next_generation(slow, keys, T0 + DAY)
    with engine.connect() as connection:
        generations = connection.execute(sa.select(webhook_snapshot.c.generation).distinct()).scalars().all()
    assert generations == [2]
