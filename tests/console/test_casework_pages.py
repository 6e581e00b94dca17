"""The caseworker's pages over HTTP, on SQLite and PostgreSQL: the ledger through the same access model as the
API (regions, purposes, the audit event naming the person), a status change, its conflict, the spreadsheet."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from openpyxl import load_workbook

from auth.tables import audit_event
from casework.tables import comparison_item
from tests.casework.graphql.ledger import make_item, make_run
from tests.console.conftest import Hub
from tests.console.people import add_person, csrf_of, sign_in
from tests.world import SMALL

NANAN = "350583"
OUTSIDE = "350524101001"


def _ledger(hub: Hub) -> tuple[int, int, int]:
    run = make_run(hub.engine, region="3505")
    # One store serves the module: each test's run has items of its own (items are keyed by subject).
    inside = make_item(hub.engine, run, rule="C1", household=SMALL, region_code="350583101201", subject=f"in-{run}")
    outside = make_item(hub.engine, run, rule="C1", household="350524000001", region_code=OUTSIDE, subject=f"out-{run}")
    return run, inside, outside


def _events(hub: Hub) -> list[dict]:
    with hub.engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.select(audit_event).order_by(audit_event.c.seq)).mappings()]


def test_a_caseworker_sees_the_items_of_their_county_and_not_another_county(hub: Hub) -> None:
    # given a run with an item in Nanan and one in another county, and a Nanan caseworker
    run, inside, outside = _ledger(hub)
    sign_in(hub.http, add_person(hub.engine, "li.nanan", ["civil-affairs"], [NANAN]))
    # when they open the run's ledger for the comparison
    page = hub.http.get(f"/admin/casework/runs/{run}", params={"purpose": "comparison"})
    # then their county's item is there, with its household, and the other county's is not
    assert page.status_code == 200
    assert f'id="item-{inside}"' in page.text and SMALL in page.text
    assert f'id="item-{outside}"' not in page.text
    # and the view is one audit event of the console, naming them and the purpose
    last = _events(hub)[-1]
    assert (last["client_id"], last["actor"], last["purpose"]) == ("console", "li.nanan", "comparison")


def test_a_caseworker_of_another_county_finds_nothing_of_nanans(hub: Hub) -> None:
    # given the same ledger and a caseworker of county 350524
    run, inside, outside = _ledger(hub)
    sign_in(hub.http, add_person(hub.engine, "he.yongchun", ["civil-affairs"], ["350524"]))
    # when they open it
    page = hub.http.get(f"/admin/casework/runs/{run}", params={"purpose": "comparison"})
    # then they see only their own county's item
    assert f'id="item-{outside}"' in page.text and f'id="item-{inside}"' not in page.text
    # and changing Nanan's item fails as for an item that does not exist
    changed = hub.http.post(
        f"/admin/casework/items/{inside}",
        data={"csrf": csrf_of(page), "purpose": "comparison", "status": "ASSIGNED", "assignee": "x", "version": "1"},
    )
    assert changed.status_code == 422 and "NOT_FOUND" in changed.text


def test_nothing_is_shown_or_recorded_until_a_purpose_is_chosen(hub: Hub) -> None:
    # given a ledger and a signed-in caseworker
    run, inside, _ = _ledger(hub)
    sign_in(hub.http, add_person(hub.engine, "lin.nanan", ["civil-affairs"], [NANAN]))
    before = len(_events(hub))
    # when they open the ledger without choosing a purpose
    page = hub.http.get(f"/admin/casework/runs/{run}")
    # then it asks for one, shows no item, and the trail has nothing new
    assert page.status_code == 200 and f'id="item-{inside}"' not in page.text
    assert len(_events(hub)) == before


def test_a_status_change_is_saved_with_its_history_and_audited_under_the_persons_name(hub: Hub) -> None:
    # given a found item and a Nanan caseworker on its ledger
    run, inside, _ = _ledger(hub)
    sign_in(hub.http, add_person(hub.engine, "chen.nanan", ["civil-affairs"], [NANAN]))
    page = hub.http.get(f"/admin/casework/runs/{run}", params={"purpose": "comparison"})
    # when they assign it (as htmx sends the form)
    changed = hub.http.post(
        f"/admin/casework/items/{inside}",
        data={"csrf": csrf_of(page), "purpose": "comparison", "run": str(run), "status": "ASSIGNED",
              "assignee": "chen.nanan", "note": "上门核查", "version": "1"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    # then the item's panel comes back in its new state, with the change in its history
    assert changed.status_code == 200 and changed.text.lstrip().startswith("<article")
    assert "ASSIGNED" in changed.text and "console/chen.nanan" in changed.text
    with hub.engine.connect() as connection:
        status, version = connection.execute(
            sa.select(comparison_item.c.status, comparison_item.c.version).where(comparison_item.c.id == inside)
        ).one()
    assert (status, version) == ("ASSIGNED", 2)
    # and the change is an audited write naming the person
    last = _events(hub)[-1]
    assert (last["outcome"], last["actor"], last["client_id"]) == ("changed", "chen.nanan", "console")


def test_a_change_made_on_a_stale_page_is_a_conflict_showing_the_current_state(hub: Hub) -> None:
    # given two caseworkers with the same ledger open
    run, inside, _ = _ledger(hub)
    sign_in(hub.http, add_person(hub.engine, "xu.nanan", ["civil-affairs"], [NANAN]))
    page = hub.http.get(f"/admin/casework/runs/{run}", params={"purpose": "comparison"})
    version = re.search(rf'id="item-{inside}".*?name="version" value="(\d+)"', page.text, re.S).group(1)  # type: ignore[union-attr]
    form = {"csrf": csrf_of(page), "purpose": "comparison", "run": str(run), "status": "ASSIGNED", "version": version}
    # when the first assigns it and the second, on the page read before, assigns it too
    first = hub.http.post(f"/admin/casework/items/{inside}", data={**form, "assignee": "xu.nanan"})
    second = hub.http.post(f"/admin/casework/items/{inside}", data={**form, "assignee": "someone.else"})
    # then the second is told the item changed, with its current status and version, and nothing is overwritten
    assert first.status_code == 200
    assert second.status_code == 409 and "CONFLICT" in second.text and "版本 2" in second.text
    with hub.engine.connect() as connection:
        assignee = connection.execute(
            sa.select(comparison_item.c.assignee).where(comparison_item.c.id == inside)
        ).scalar()
    assert assignee == "xu.nanan"


def test_the_ledger_downloads_as_a_spreadsheet_of_what_the_caseworker_may_see(hub: Hub) -> None:
    # given the ledger and a Nanan caseworker
    run, inside, outside = _ledger(hub)
    sign_in(hub.http, add_person(hub.engine, "ma.nanan", ["civil-affairs"], [NANAN]))
    # when they download it
    answer = hub.http.get(f"/admin/casework/runs/{run}/ledger.xlsx", params={"purpose": "comparison"})
    # then it is a workbook with a sheet per rule holding their county's item only
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/vnd.openxml")
    book = load_workbook(io.BytesIO(answer.content))
    ids = [row[0] for row in book["C1 低保应保未保"].iter_rows(min_row=2, values_only=True)]
    assert ids == [str(inside)]


def test_the_ledger_filters_by_township_and_a_township_outside_the_county_shows_nothing(hub: Hub) -> None:
    # given a run with items in two townships of Nan'an and one in another county, and a Nan'an caseworker
    run, inside, outside = _ledger(hub)
    other_township = make_item(
        hub.engine, run, rule="C1", household="350583000009", region_code="350583102203", subject=f"tw-{run}"
    )
    sign_in(hub.http, add_person(hub.engine, f"tan.nanan.{run}", ["civil-affairs"], [NANAN]))
    # when they filter the ledger by the first township
    page = hub.http.get(f"/admin/casework/runs/{run}", params={"purpose": "comparison", "township": "350583101"})
    # then only its item is listed
    assert f'id="item-{inside}"' in page.text and f'id="item-{other_township}"' not in page.text
    # and asking for a township of another county never widens what they see
    beyond = hub.http.get(f"/admin/casework/runs/{run}", params={"purpose": "comparison", "township": "350524101"})
    assert beyond.status_code == 200 and 'id="item-' not in beyond.text
