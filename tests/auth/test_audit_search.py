"""Searching the audit trail on SQLite and PostgreSQL: each filter, paging by seq, a resident found by pseudonym."""

from __future__ import annotations

import logging
from datetime import timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.base import metadata
from auth.audit import AuditLog
from auth.audit.rows import StoredEvent
from auth.audit.search import MAX_PAGE, SearchError, distinct_values, search
from auth.clients import register_client
from tests.auth.test_audit import CHILD, NANAN, NANAN_LEGACY, NANAN_LOWER, NEVER_READ, OTHER, T0, event

HOUR = timedelta(hours=1)
# The trail every test searches: (client, purpose, outcome, operation, subjects), the n-th an hour after T0 + n-1.
TRAIL: list[dict[str, Any]] = [
    {"client_id": "civil-affairs-nanan", "purpose": "assistance-review", "outcome": "ok",
     "operation": "HouseholdPicture", "subjects": (NANAN,)},
    {"client_id": "housing-nanan", "purpose": "assistance-review", "outcome": "refused",
     "operation": "HousingCheck", "subjects": ()},
    {"client_id": "civil-affairs-nanan", "purpose": "comparison", "outcome": "partial",
     "operation": "HouseholdPictureWide", "subjects": (NANAN, OTHER)},
    {"client_id": None, "purpose": None, "outcome": "policy-applied", "operation": "policy apply", "subjects": (),
     "actor": "admin-wang", "roles": [], "revealed": [], "masked": [], "withheld": []},
    {"client_id": "housing-nanan", "purpose": "assistance-review", "outcome": "ok",
     "operation": "HousingCheck", "subjects": (OTHER, CHILD)},
    {"client_id": "civil-affairs-nanan", "purpose": "assistance-review", "outcome": "not-found",
     "operation": "Households", "subjects": (NANAN,)},
]  # fmt: skip


def write_trail(engine: sa.Engine) -> None:
    log = AuditLog(engine)
    for number, values in enumerate(TRAIL):
        changes = {key: value for key, value in values.items() if key != "subjects"}
        log.append(event(number, subjects=values["subjects"], at=T0 + number * HOUR, **changes))


def seqs(engine: sa.Engine, **filters: Any) -> list[int]:
    return [entry.seq for entry in search(engine, **filters).entries]


@pytest.fixture
def trail(engine: sa.Engine) -> sa.Engine:
    write_trail(engine)
    return engine


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [6, 5, 4, 3, 2, 1]),
        ({"client_id": "civil-affairs-nanan"}, [6, 3, 1]),
        ({"client_id": "nobody"}, []),
        ({"purpose": "comparison"}, [3]),
        ({"outcome": "ok"}, [5, 1]),
        ({"operation": "HouseholdPicture"}, [3, 1]),  # a prefix: HouseholdPictureWide too
        ({"operation": "HouseholdPictureWide"}, [3]),
        ({"operation": "householdpicture"}, []),  # case-sensitive on both stores
        ({"operation": "policy"}, [4]),
        ({"operation": "%"}, []),  # no wildcard: a prefix is compared as text
        ({"since": T0 + 2 * HOUR}, [6, 5, 4, 3]),  # inclusive
        ({"until": T0 + 2 * HOUR}, [2, 1]),  # exclusive
        ({"since": (T0 + HOUR).astimezone(timezone(timedelta(hours=8)))}, [6, 5, 4, 3, 2]),  # any zone
        ({"resident_id": NANAN}, [6, 3, 1]),
        ({"client_id": "", "purpose": " ", "operation": ""}, [6, 5, 4, 3, 2, 1]),  # a form's empty fields
    ],
    ids=lambda value: "-".join(f"{k}" for k in value) if isinstance(value, dict) else None,
)
def test_each_filter_alone(trail: sa.Engine, filters: dict[str, Any], expected: list[int]) -> None:
    # given the trail, when searched with one filter, then exactly its events come back, newest first
    assert seqs(trail, **filters) == expected


def test_filters_combine_as_and(trail: sa.Engine) -> None:
    # given the trail, when filters are combined, then an event must match every one of them
    assert seqs(trail, client_id="civil-affairs-nanan", purpose="assistance-review") == [6, 1]
    assert seqs(trail, client_id="civil-affairs-nanan", outcome="ok", operation="House") == [1]
    assert seqs(trail, resident_id=NANAN, purpose="assistance-review", since=T0 + HOUR) == [6]
    assert seqs(trail, resident_id=OTHER, client_id="housing-nanan", until=T0 + 5 * HOUR, outcome="ok") == [5]
    assert seqs(trail, since=T0 + HOUR, until=T0 + 4 * HOUR, purpose="assistance-review") == [2]
    assert seqs(trail, resident_id=CHILD, client_id="civil-affairs-nanan") == []


NANAN_FULL_WIDTH = "３５０５８３８７０１０２１２３"  # the 15-digit form as a Chinese input method may type it


@pytest.mark.parametrize("spelling", [NANAN, NANAN_LOWER, NANAN_LEGACY, f" {NANAN} ", NANAN_FULL_WIDTH])
def test_a_resident_is_found_in_any_spelling_and_no_one_else(trail: sa.Engine, spelling: str) -> None:
    # given the trail, where NANAN was returned by events 1, 3 and 6
    # when it is searched for by an 18-digit, lower-case, 15-digit, padded or full-width spelling of the id
    found = search(trail, resident_id=spelling).entries

    # then exactly those events are found, and each says how many subjects it had, never which
    assert [entry.seq for entry in found] == [6, 3, 1]
    assert [entry.subject_count for entry in found] == [1, 2, 1]
    # and the other residents find their own events only
    assert seqs(trail, resident_id=OTHER) == [5, 3]
    assert seqs(trail, resident_id=CHILD) == [5]
    assert seqs(trail, resident_id=NEVER_READ) == []


def test_a_resident_search_stores_and_logs_no_id(trail: sa.Engine, caplog: pytest.LogCaptureFixture) -> None:
    # given the trail, when a resident is searched for, with every log record kept
    with caplog.at_level(logging.DEBUG):
        assert seqs(trail, resident_id=NANAN_LEGACY) == [6, 3, 1]
        with pytest.raises(SearchError) as refused:
            search(trail, resident_id="35058319870102123Y")  # a wrong check character

    # then no spelling of the id is in any table of the store
    spellings = (NANAN, NANAN_LOWER, NANAN_LEGACY, "35058319870102123Y")
    with trail.connect() as connection:
        for table in metadata.sorted_tables:
            dumped = str(connection.execute(sa.select(table)).all())
            assert not any(spelling in dumped for spelling in spellings), table.name
    # nor in a log record, nor in the refusal's message
    logged = "\n".join(f"{record.getMessage()} {record.args}" for record in caplog.records)
    assert not any(spelling in logged for spelling in spellings)
    assert str(refused.value) == "the resident id is not a valid 18- or 15-digit resident id"


def test_a_resident_search_before_any_event_finds_nothing_and_makes_no_key(engine: sa.Engine) -> None:
    # given an empty store (no audit key made yet), when a resident is searched for, then nothing is found
    assert search(engine, resident_id=NANAN).entries == ()
    # and an invalid id is refused all the same
    with pytest.raises(SearchError):
        search(engine, resident_id="123")
    # and the search made no audit key
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM hub_secret")).scalar_one() == 0


def test_an_entry_carries_the_event_without_its_subjects(trail: sa.Engine) -> None:
    # given the trail, when event 3 is found
    (entry,) = search(trail, purpose="comparison").entries

    # then it carries what the event recorded, and its subjects only as a count
    assert entry == StoredEvent(
        seq=3,
        at=T0 + 2 * HOUR,
        client_id="civil-affairs-nanan",
        actor=None,
        roles=("civil-affairs",),
        purpose="comparison",
        case_id="case-2",
        operation="HouseholdPictureWide",
        outcome="partial",
        detail=None,
        policy_version=3,
        subject_count=2,
        revealed=("Person.idNumber", "Person.name"),
        masked=("Person.phone",),
        withheld=("Medical.diagnosis",),
    )
    assert (entry.revealed_count, entry.masked_count, entry.withheld_count) == (2, 1, 1)
    # and the hub's own change names its actor and no client
    (applied,) = search(trail, outcome="policy-applied").entries
    assert (applied.client_id, applied.actor, applied.subject_count) == (None, "admin-wang", 0)


@pytest.mark.parametrize("filters", [{}, {"client_id": "civil-affairs-nanan"}, {"resident_id": NANAN}])
def test_pages_follow_each_other_without_gaps_or_repeats(engine: sa.Engine, filters: dict[str, Any]) -> None:
    # given a trail of 23 events
    log = AuditLog(engine)
    for number in range(23):
        client = "civil-affairs-nanan" if number % 3 else "housing-nanan"
        log.append(event(number, client_id=client, subjects=(NANAN,) if number % 2 else (OTHER,)))
    everything = [entry.seq for entry in search(engine, first=MAX_PAGE, **filters).entries]
    assert everything == sorted(everything, reverse=True) and len(everything) > 5

    # when it is read 4 events at a time, while more events are appended between the pages
    read: list[int] = []
    page = search(engine, first=4, **filters)
    while True:
        read.extend(entry.seq for entry in page.entries)
        assert len(page.entries) <= 4
        if page.next_before_seq is None:
            break
        log.append(event(99, client_id="civil-affairs-nanan", subjects=(NANAN,)))
        page = search(engine, first=4, before_seq=page.next_before_seq, **filters)

    # then the pages hold every event there was at the start, once each, newest first
    assert read == everything


def test_a_last_full_page_says_there_is_nothing_older(trail: sa.Engine) -> None:
    # given six events, when read three at a time, then the second page is the last
    first = search(trail, first=3)
    assert ([entry.seq for entry in first.entries], first.next_before_seq) == ([6, 5, 4], 4)
    second = search(trail, first=3, before_seq=4)
    assert ([entry.seq for entry in second.entries], second.next_before_seq) == ([3, 2, 1], None)


@pytest.mark.parametrize("first", [0, -1, MAX_PAGE + 1, True])
def test_a_page_size_outside_its_bounds_is_refused(trail: sa.Engine, first: int) -> None:
    # given the trail, when asked for a page of a size outside 1..200, then it is refused saying the bounds
    with pytest.raises(SearchError, match="first must be a whole number from 1 to 200"):
        search(trail, first=first)


def test_the_largest_page_is_answered(trail: sa.Engine) -> None:
    assert len(search(trail, first=MAX_PAGE).entries) == len(TRAIL)


def test_a_time_without_a_zone_is_refused(trail: sa.Engine) -> None:
    with pytest.raises(SearchError, match="since needs a time zone"):
        search(trail, since=T0.replace(tzinfo=None))


def test_the_filters_choices_are_those_seen_and_the_registered_clients(trail: sa.Engine) -> None:
    # given the trail and a registered client that never called
    register_client(
        trail, client_id="education-nanan", department="education", roles=["education"], regions=["350583"],
        purposes=["student-aid"],
    )  # fmt: skip

    # when the filters' choices are asked for
    choices = distinct_values(trail)

    # then they name the clients seen and registered, and the purposes and outcomes seen
    assert choices.client_ids == ("civil-affairs-nanan", "education-nanan", "housing-nanan")
    assert choices.purposes == ("assistance-review", "comparison")
    assert choices.outcomes == ("not-found", "ok", "partial", "policy-applied", "refused")


def test_a_filter_longer_than_its_column_is_refused_naming_it(trail: sa.Engine) -> None:
    # a longer text can match nothing stored: it is said so, not searched for
    with pytest.raises(SearchError, match="operation has at most 200 characters, not 201"):
        search(trail, operation="x" * 201)
    with pytest.raises(SearchError, match="purpose has at most 60 characters"):
        search(trail, purpose="p" * 61)


def test_a_persons_widest_search_is_recorded_on_every_store(trail: sa.Engine) -> None:
    # given an auditor's search with every text filter at its widest, and the times
    from auth.audit import Caller
    from auth.audit.reading import search_as
    from auth.tables import audit_event

    # when it is made
    search_as(
        trail, by="auditor-zhao", caller=Caller(client_id="console"), client_id="c" * 100, purpose="p" * 60,
        outcome="o" * 40, operation="x" * 200, since=T0, until=T0 + timedelta(days=1), before_seq=10**12,
    )  # fmt: skip
    # then its event is written on both stores, its detail cut by the writer to what the column holds
    with trail.connect() as connection:
        detail = connection.execute(sa.select(audit_event.c.detail).order_by(audit_event.c.seq.desc())).scalar()
    assert detail is not None and len(detail) == 500 and detail.startswith("client ccc") and detail.endswith("…")
