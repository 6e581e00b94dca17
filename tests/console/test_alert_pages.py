"""The alerts queue over HTTP, on SQLite and PostgreSQL: overdue first, only the caseworker's county, an
acknowledgement saved under their name, and a stale one refused as a conflict."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from casework.tables import alert
from tests.casework.graphql.ledger import NOW, make_alert
from tests.console.conftest import Hub
from tests.console.people import add_person, csrf_of, sign_in
from tests.world import SMALL

NANAN = "350583"


def test_the_queue_lists_overdue_alerts_first_and_only_the_county_of_the_caseworker(hub: Hub) -> None:
    # given an overdue and a fresh alert in Nan'an, one in another county, and a Nan'an caseworker
    late = make_alert(hub.engine, kind="MEDICAL_COSTS", household=SMALL, region_code="350583101201",
                      raised_at=NOW - dt.timedelta(days=2))  # fmt: skip
    fresh = make_alert(hub.engine, kind="SEVERE_DISABILITY", household=SMALL, region_code="350583101201",
                       raised_at=NOW)  # fmt: skip
    outside = make_alert(hub.engine, kind="MEDICAL_COSTS", household="350524000001", region_code="350524101001",
                         raised_at=NOW - dt.timedelta(days=2))  # fmt: skip
    sign_in(hub.http, add_person(hub.engine, f"ye.nanan.{late}", ["civil-affairs"], [NANAN]))
    # when they open the queue for case management
    page = hub.http.get("/admin/alerts", params={"purpose": "case-management", "region": NANAN})
    # then the overdue alert comes before the fresh one, and the other county's is not there
    assert page.text.index(f'id="alert-{late}"') < page.text.index(f'id="alert-{fresh}"')
    assert f'id="alert-{outside}"' not in page.text


def test_an_acknowledgement_is_saved_and_a_second_one_on_the_stale_page_is_a_conflict(hub: Hub) -> None:
    # given a raised alert and a Nan'an caseworker on the queue
    raised = make_alert(hub.engine, kind="MEDICAL_COSTS", household=SMALL, region_code="350583101201",
                        raised_at=NOW)  # fmt: skip
    sign_in(hub.http, add_person(hub.engine, f"xie.nanan.{raised}", ["civil-affairs"], [NANAN]))
    page = hub.http.get("/admin/alerts", params={"purpose": "case-management", "region": NANAN})
    version = re.search(rf'id="alert-{raised}".*?name="version" value="(\d+)"', page.text, re.S).group(1)  # type: ignore[union-attr]
    form = {"csrf": csrf_of(page), "purpose": "case-management", "status": "ACKNOWLEDGED", "version": version}
    # when they acknowledge it, then send the same form again
    first = hub.http.post(f"/admin/alerts/{raised}", data=form)
    second = hub.http.post(f"/admin/alerts/{raised}", data=form)
    # then the first is saved, and the second is told what is current, changing nothing
    assert first.status_code == 200 and "已响应" in first.text
    assert second.status_code == 409 and "CONFLICT" in second.text
    with hub.engine.connect() as connection:
        status, now_version = connection.execute(
            sa.select(alert.c.status, alert.c.version).where(alert.c.id == raised)
        ).one()
    assert (status, now_version) == ("ACKNOWLEDGED", int(version) + 1)


def test_a_change_without_a_purpose_the_person_may_choose_is_refused(hub: Hub) -> None:
    # given a raised alert and a caseworker
    raised = make_alert(hub.engine, kind="MEDICAL_COSTS", household=SMALL, region_code="350583101201",
                        raised_at=NOW)  # fmt: skip
    sign_in(hub.http, add_person(hub.engine, f"fu.nanan.{raised}", ["civil-affairs"], [NANAN]))
    page = hub.http.get("/admin/")
    # when the form names a purpose their roles are not granted
    answer = hub.http.post(
        f"/admin/alerts/{raised}",
        data={"csrf": csrf_of(page), "purpose": "student-aid", "status": "ACKNOWLEDGED", "version": "1"},
    )
    # then nothing changes
    assert answer.status_code == 403
    with hub.engine.connect() as connection:
        assert connection.execute(sa.select(alert.c.status).where(alert.c.id == raised)).scalar() == "RAISED"
