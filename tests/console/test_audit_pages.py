"""The auditor's pages over HTTP, on SQLite and PostgreSQL: who may open them, each filter of the search, a
resident found by 18 or 15 digits without their id entering an address or the trail, the chain verified
before and after a row is tampered with, a person's access log through the graph; each search and check
an event naming the auditor."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.audit import AuditLog
from auth.tables import audit_event
from tests.access import world_store
from tests.auth.test_audit import NANAN, NANAN_LEGACY, OTHER, T0, attacker, event
from tests.conftest import BACKENDS
from tests.console.conftest import Hub
from tests.console.people import add_person, csrf_of, sign_in
from tests.world import SMALL_HEAD

HOUR = timedelta(hours=1)
# Written before each test's search: (client, purpose, outcome, operation, subjects), an hour apart from T0.
TRAIL = [
    ("housing-nanan", "assistance-review", "ok", "HousingCheck", (NANAN,)),
    ("housing-nanan", "comparison", "refused", "HousingCheckWide", ()),
    ("civil-affairs-nanan", "assistance-review", "partial", "HouseholdPicture", (NANAN, OTHER)),
    ("civil-affairs-nanan", "assistance-review", "not-found", "Households", (OTHER,)),
]


@pytest.fixture(params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    """A store and hub of the test's own, not the module's shared one: these tests tamper with the trail
    (which breaks its chain for every later test) and count its events."""
    with world_store(request, tmp_path) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(url, engine, http)


def _trail(hub: Hub) -> list[int]:
    log = AuditLog(hub.engine)
    return [
        log.append(
            event(
                number,
                at=T0 + number * HOUR,
                client_id=client,
                purpose=purpose,
                outcome=outcome,
                operation=operation,
                subjects=subjects,
            )
        )
        for number, (client, purpose, outcome, operation, subjects) in enumerate(TRAIL)
    ]


def _auditor(hub: Hub) -> httpx2.Response:
    sign_in(hub.http, add_person(hub.engine, "zhou.audit", ["auditor"], ["3505"]))
    return hub.http.get("/admin/audit")


def _shown(page: httpx2.Response) -> list[int]:
    return [int(seq) for seq in re.findall(r'id="event-(\d+)"', page.text)]


def _events(hub: Hub) -> list[dict]:
    with hub.engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.select(audit_event).order_by(audit_event.c.seq)).mappings()]


ROUTES = [
    ("GET", "/admin/audit"),
    ("POST", "/admin/audit/search"),
    ("POST", "/admin/audit/verify"),
    ("GET", "/admin/audit/access-log"),
    ("POST", "/admin/audit/access-log"),
]


def _open(hub: Hub, method: str, path: str, csrf: str) -> httpx2.Response:
    if method == "GET":
        return hub.http.get(path, follow_redirects=False)
    return hub.http.post(path, data={"csrf": csrf, "resident": SMALL_HEAD}, follow_redirects=False)


def test_only_an_auditor_opens_the_audit_pages(hub: Hub) -> None:
    # given nobody signed in, then a caseworker, then a user administrator, then an auditor
    # when each opens every audit page
    for method, path in ROUTES:
        # then one signed out is sent to the sign-in page
        answer = _open(hub, method, path, "none")
        assert (answer.status_code, answer.headers.get("location")) == (303, "/admin/sign-in"), path
    for name, roles in (("li.nanan", ["civil-affairs"]), ("wang.admin", ["user-admin"])):
        hub.http.cookies.clear()
        sign_in(hub.http, add_person(hub.engine, name, roles, ["350583"]))
        csrf = csrf_of(hub.http.get("/admin/"))
        for method, path in ROUTES:
            # and a caseworker or an administrator is refused
            assert _open(hub, method, path, csrf).status_code == 403, (name, path)
    hub.http.cookies.clear()
    csrf = csrf_of(_auditor(hub))
    for method, path in ROUTES:
        # and the auditor is let in
        assert _open(hub, method, path, csrf).status_code == 200, path


def test_a_search_or_check_without_the_forms_token_is_refused_and_not_run(hub: Hub) -> None:
    # given a signed-in auditor
    _auditor(hub)
    before = len(_events(hub))
    # when a form arrives without its CSRF token, or with another one
    for data in ({}, {"csrf": "forged"}):
        for path in ("/admin/audit/search", "/admin/audit/verify", "/admin/audit/access-log"):
            answer = hub.http.post(path, data={**data, "resident": NANAN})
            # then it is refused, and nothing was searched (no event)
            assert answer.status_code == 403, path
    assert len(_events(hub)) == before


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_filter_finds_its_events_newest_first(hub: Hub, lang: str) -> None:
    # given a trail of four events and a signed-in auditor
    seqs = _trail(hub)
    csrf = csrf_of(_auditor(hub))
    cases = [
        ({"client": "housing-nanan"}, [seqs[1], seqs[0]]),
        ({"purpose": "comparison"}, [seqs[1]]),
        ({"outcome": "partial"}, [seqs[2]]),
        ({"operation": "HousingCheck"}, [seqs[1], seqs[0]]),  # a prefix
        ({"client": "civil-affairs-nanan", "operation": "Household"}, [seqs[3], seqs[2]]),
        # a time without a zone is China Standard Time: T0 (09:00Z) is 17:00 there, T0 + 1h 18:00
        ({"client": "housing-nanan", "since": "2026-11-24T18:00"}, [seqs[1]]),
        ({"client": "civil-affairs-nanan", "until": "2026-11-24T20:00"}, [seqs[2]]),
        ({"client": "civil-affairs-nanan", "since": "2026-11-24T11:30Z"}, [seqs[3]]),
    ]
    for filters, expected in cases:
        # when they search with a filter (htmx: the results alone)
        page = hub.http.post(
            f"/admin/audit/search?lang={lang}", data={"csrf": csrf, **filters}, headers={"HX-Request": "true"}
        )
        # then exactly its events are shown, newest first
        assert page.status_code == 200 and page.text.lstrip().startswith('<section id="results"'), filters
        assert _shown(page) == expected, filters
    # and each search was an event of the console naming the auditor and its filters
    searched = [row for row in _events(hub) if row["outcome"] == "audit-searched"]
    assert len(searched) == len(cases)
    assert {(row["client_id"], row["actor"], row["operation"]) for row in searched} == {
        ("console", "zhou.audit", "audit search")
    }
    assert searched[0]["detail"] == "client housing-nanan: 2 events shown"


def test_a_resident_is_found_by_18_or_15_digits_and_their_id_enters_no_address_nor_the_trail(hub: Hub) -> None:
    # given the trail, in which NANAN is named by two events, and a signed-in auditor
    seqs = _trail(hub)
    csrf = csrf_of(_auditor(hub))
    expected = [seqs[2], seqs[0]]
    for spelling in (NANAN, NANAN_LEGACY):
        # when they search by the resident's id, in either spelling, with a whole page's form
        page = hub.http.post("/admin/audit/search", data={"csrf": csrf, "resident": spelling})
        # then the events naming them are shown, and no other: the second time, the first search too
        assert page.status_code == 200
        assert _shown(page) == expected
        expected = [_events(hub)[-1]["seq"], *expected]
        # and the id went in the body only, and is on the page only in the field it was typed into
        assert spelling not in str(page.url)
        assert page.text.count(spelling) == 1 and f'name="resident" value="{spelling}"' in page.text
    # and the searches are events naming the resident only as a pseudonym, never in their words
    searched = [row for row in _events(hub) if row["outcome"] == "audit-searched"]
    assert len(searched) == 2
    for row in searched:
        assert row["detail"].startswith("a resident (the subject)")
        assert len(row["subjects"]) == 1
        assert NANAN not in str(row) and NANAN_LEGACY not in str(row)
    assert searched[0]["subjects"] == searched[1]["subjects"]  # one resident, one pseudonym


def test_an_invalid_resident_id_is_refused_without_being_echoed(hub: Hub) -> None:
    # given a signed-in auditor
    csrf = csrf_of(_auditor(hub))
    # when they search by an id whose check character is wrong
    wrong = NANAN[:-1] + "1"
    page = hub.http.post("/admin/audit/search", data={"csrf": csrf, "resident": wrong}, headers={"HX-Request": "true"})
    # then the form is refused in place (422), saying why, without the id
    assert page.status_code == 422 and "18- or 15-digit" in page.text and wrong not in page.text


def test_older_pages_follow_by_seq(hub: Hub) -> None:
    # given 60 events of one client and a signed-in auditor
    log = AuditLog(hub.engine)
    written = [log.append(event(number, client_id="bulk-client", subjects=())) for number in range(60)]
    csrf = csrf_of(_auditor(hub))
    # when they search and then ask for the older page the first offers
    first = hub.http.post("/admin/audit/search", data={"csrf": csrf, "client": "bulk-client"})
    older = re.search(r'name="before" value="(\d+)"', first.text)
    assert older is not None
    second = hub.http.post(
        "/admin/audit/search", data={"csrf": csrf, "client": "bulk-client", "before": older.group(1)}
    )
    # then the two pages hold every event once, newest first, and the second offers no more
    assert _shown(first) + _shown(second) == written[::-1]
    assert 'name="before"' not in second.text


def test_the_chain_is_verified_with_its_anchor_before_and_after_a_row_is_tampered_with(hub: Hub) -> None:
    # given the trail and a signed-in auditor who verifies it
    seqs = _trail(hub)
    csrf = csrf_of(_auditor(hub))
    intact = hub.http.post("/admin/audit/verify", data={"csrf": csrf}, headers={"HX-Request": "true"})
    # then it is intact, with no anchor used, and shows the head to keep
    assert intact.status_code == 200 and 'id="verify-ok"' in intact.text and 'id="verify-broken"' not in intact.text
    head = re.search(r'<code id="head">(\d+:[0-9a-f]{64})</code>', intact.text)
    assert head is not None
    # when checked against that head, it is still intact, and the page names the anchor used
    anchored = hub.http.post("/admin/audit/verify", data={"csrf": csrf, "anchor": head.group(1)})
    assert 'id="verify-ok"' in anchored.text and f"<code>{head.group(1)}</code>" in anchored.text

    # when a row is changed behind the hub's back
    with attacker(hub.engine) as connection:
        connection.execute(sa.update(audit_event).where(audit_event.c.seq == seqs[1]).values(outcome="ok"))
    broken = hub.http.post("/admin/audit/verify", data={"csrf": csrf, "anchor": head.group(1)})
    # then the page says the chain is broken, names that row as the first broken link, and the anchor used
    assert 'id="verify-broken"' in broken.text
    assert f'<dd id="first-bad-seq">{seqs[1]}</dd>' in broken.text and f"<code>{head.group(1)}</code>" in broken.text
    assert "was edited" in broken.text
    # and each check was an event naming the auditor, saying what it found
    verified = [row for row in _events(hub) if row["outcome"] == "audit-verified"]
    assert [row["actor"] for row in verified] == ["zhou.audit"] * 3
    assert verified[-1]["detail"].startswith(f"audit trail BROKEN at seq {seqs[1]}")


def test_a_malformed_anchor_is_refused_in_place(hub: Hub) -> None:
    # given a signed-in auditor, when they verify with an anchor that is not SEQ:HASH
    csrf = csrf_of(_auditor(hub))
    answer = hub.http.post(
        "/admin/audit/verify", data={"csrf": csrf, "anchor": "12:abc"}, headers={"HX-Request": "true"}
    )
    # then it is refused in place and nothing was checked
    assert answer.status_code == 422 and "SEQ:HASH" in answer.text
    assert not [row for row in _events(hub) if row["outcome"] == "audit-verified"]


def test_an_auditor_reads_a_persons_access_log_through_the_graph(hub: Hub) -> None:
    # given a client's earlier read of a resident of the world, and a signed-in auditor
    AuditLog(hub.engine).append(event(0, client_id="civil-affairs-nanan", subjects=(SMALL_HEAD,)))
    csrf = csrf_of(_auditor(hub))
    page = hub.http.get("/admin/audit/access-log")
    assert page.status_code == 200 and 'name="resident"' in page.text
    # when they ask for the resident's access log, the id in the form's body
    log = hub.http.post("/admin/audit/access-log", data={"csrf": csrf, "resident": SMALL_HEAD})
    # then the client's read is listed, and the id is on the page only in its field
    assert log.status_code == 200 and log.text.count('class="access-entry"') >= 1
    assert "civil-affairs-nanan" in log.text
    assert SMALL_HEAD not in str(log.url) and log.text.count(SMALL_HEAD) == 1
    # and the view was asked of the graph as the auditor, for the purpose audit: one event naming them
    last = _events(hub)[-1]
    assert (last["client_id"], last["actor"], last["purpose"], last["operation"]) == (
        "console",
        "zhou.audit",
        "audit",
        "ConsoleAccessLog",
    )


def test_an_access_log_of_a_resident_outside_the_auditors_regions_shows_nobody(hub: Hub) -> None:
    # given an auditor of another county and a read of a Nanan resident
    AuditLog(hub.engine).append(event(0, client_id="civil-affairs-nanan", subjects=(SMALL_HEAD,)))
    sign_in(hub.http, add_person(hub.engine, "wu.audit", ["auditor"], ["350524"]))
    csrf = csrf_of(hub.http.get("/admin/audit/access-log"))
    # when they ask for that resident's access log
    log = hub.http.post("/admin/audit/access-log", data={"csrf": csrf, "resident": SMALL_HEAD})
    # then the policy's regions hold as for the API: nothing is listed
    assert 'class="access-entry"' not in log.text and "civil-affairs-nanan" not in log.text
