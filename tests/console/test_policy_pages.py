"""The policy pages over HTTP, on SQLite and PostgreSQL: who may do what (author, approver, caseworker, no one
signed in; CSRF), a draft's cell edited (never the live version), its diff, "why", the impact replay, four
eyes, and an approval of a text that was edited since refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.policy_store import stored_policy
from auth.tables import audit_event
from tests.access import post, register, token, world_store
from tests.conftest import BACKENDS
from tests.console.conftest import Hub
from tests.console.people import Person, add_person, csrf_of, sign_in
from tests.world import SMALL

CELL = {"role": "housing", "purpose": "assistance-review", "field": "Person.name"}
NAMES = "query Names($n: String!) { household(householdNumber: $n) { members { name } } }"
HOUSING = "housing-office"


@pytest.fixture(params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    """A store of this test's own: each test here drafts, approves and changes what is live."""
    with world_store(request, tmp_path) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(url, engine, http)


def _as(hub: Hub, person: Person) -> str:
    """Sign `person` in on the hub's client (anyone signed in before is signed out); their CSRF token."""
    hub.http.cookies.clear()
    sign_in(hub.http, person)
    return csrf_of(hub.http.get("/admin/"))


def _draft_from_live(hub: Hub, csrf: str, reason: str = "housing needs no names") -> int:
    made = hub.http.post(
        "/admin/policies", data={"csrf": csrf, "from": "live", "reason": reason}, follow_redirects=False
    )
    assert made.status_code == 303, made.text[:500]
    found = re.fullmatch(r"/admin/policies/(\d+)", made.headers["location"])
    assert found is not None
    return int(found.group(1))


def _edit(hub: Hub, version: int, csrf: str, action: str = "deny", **cell: str) -> httpx2.Response:
    data = {"csrf": csrf, **CELL, **cell, "action": action}
    return hub.http.post(f"/admin/policies/{version}/cell", data=data, headers={"HX-Request": "true"})


def _document(hub: Hub, version: int | None = None) -> tuple[int, str]:
    with hub.engine.connect() as connection:
        stored = stored_policy(connection, version)
    assert stored is not None
    return stored.version, stored.policy.sha256


def _sha_on(page: httpx2.Response) -> str:
    found = re.search(r'name="sha256" value="([0-9a-f]{64})"', page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


def _names(http: TestClient, hub: Hub, secret: str) -> list[str | None]:
    answer = post(http, NAMES, token(http, HOUSING, secret), purpose="assistance-review", n=SMALL)
    return [member["name"] for member in answer["data"]["household"]["members"]]


def _routes(version: int) -> list[tuple[str, str]]:
    cell = f"/admin/policies/{version}/cell?role=housing&purpose=assistance-review&field=Person.name"
    gets = [
        ("GET", p)
        for p in ("/admin/policies", f"/admin/policies/{version}", cell, *(
            f"/admin/policies/{version}/{tab}" for tab in ("diff", "why", "impact")
        ))
    ]  # fmt: skip
    posts = ("", f"/{version}/cell", f"/{version}/impact", f"/{version}/approve", f"/{version}/withdraw")
    return gets + [("POST", f"/admin/policies{tail}") for tail in (*posts, "/1/rollback")]


def _status(hub: Hub, method: str, path: str, csrf: str | None) -> int:
    if method == "GET":
        return hub.http.get(path, follow_redirects=False).status_code
    data = {**CELL, "action": "deny", "days": "7", "from": "live", "reason": "r", "sha256": "0" * 64}
    if csrf is not None:
        data["csrf"] = csrf
    return hub.http.post(path, data=data, follow_redirects=False).status_code


def test_each_route_admits_only_its_people_and_every_form_needs_its_csrf_token(hub: Hub) -> None:
    # given a draft of an author, an approver, and a caseworker
    author = add_person(hub.engine, "zhang.author", ["policy-author"])
    approver = add_person(hub.engine, "li.approver", ["policy-approver"])
    caseworker = add_person(hub.engine, "chen.nanan", ["civil-affairs"], ["350583"])
    version = _draft_from_live(hub, _as(hub, author))
    routes = _routes(version)
    # when no one is signed in, then every route sends them to sign in, and changes nothing
    hub.http.cookies.clear()
    assert {path: _status(hub, m, path, None) for m, path in routes} == {path: 303 for _, path in routes}
    # when a caseworker asks, then every route is refused, forms with a valid token too
    csrf = _as(hub, caseworker)
    assert {path: _status(hub, m, path, csrf) for m, path in routes} == {path: 403 for _, path in routes}
    # when the approver asks, then they read every page and may not write a draft
    csrf = _as(hub, approver)
    for method, path in routes:
        if method == "GET":
            assert _status(hub, method, path, csrf) == 200, path
    for path in ("/admin/policies", f"/admin/policies/{version}/cell", "/admin/policies/1/rollback"):
        assert _status(hub, "POST", path, csrf) == 403, path
    # and without the CSRF token their approval is refused, and the draft stays a draft
    assert _status(hub, "POST", f"/admin/policies/{version}/approve", None) == 403
    assert _document(hub)[0] == 1
    # when the author asks, then they read every page and may not approve
    csrf = _as(hub, author)
    for method, path in routes:
        if method == "GET":
            assert _status(hub, method, path, csrf) == 200, path
    assert _status(hub, "POST", f"/admin/policies/{version}/approve", csrf) == 403
    # and their cell edit without the token is refused, the draft unchanged
    before = _document(hub, version)
    assert _status(hub, "POST", f"/admin/policies/{version}/cell", None) == 403
    assert _document(hub, version) == before


def test_an_author_edits_a_cell_of_their_draft_and_sees_it_in_the_matrix_and_the_diff_not_live(hub: Hub) -> None:
    # given an author's draft made from the live version
    csrf = _as(hub, add_person(hub.engine, "zhang.author", ["policy-author"]))
    version = _draft_from_live(hub, csrf)
    live_before = _document(hub)
    number, sha_before = _document(hub, version)
    # when they open the cell housing · assistance-review · Person.name
    opened = hub.http.get(f"/admin/policies/{version}/cell", params=CELL, headers={"HX-Request": "true"})
    # then it shows the engine's decision and the rule that made it, with the choices of a field rule
    assert opened.status_code == 200 and opened.text.lstrip().startswith('<section id="editor"')
    assert "housing / assistance-review / personal: allow" in opened.text
    assert '<option value="mask:name">' in opened.text
    # when they set it to deny
    edited = _edit(hub, version, csrf)
    # then the workspace comes back with the cell denied, and the draft has a new text under the same number
    assert edited.status_code == 200 and 'role="status"' in edited.text
    assert "housing / assistance-review / Person.name: deny" in edited.text
    assert _document(hub, version)[0] == number and _document(hub, version)[1] != sha_before
    # and the version's facts beside it are swapped too, showing the new SHA-256
    assert 'id="version-state" hx-swap-oob="true"' in edited.text and _document(hub, version)[1] in edited.text
    # and the live version is untouched
    assert _document(hub) == live_before
    # and the edit is an event of the console, naming the author
    with hub.engine.connect() as connection:
        last = connection.execute(sa.select(audit_event).order_by(audit_event.c.seq.desc())).mappings().first()
    assert last is not None
    assert (last["outcome"], last["client_id"], last["actor"]) == ("policy-edited", "console", "zhang.author")
    # and the diff lists the field under housing · assistance-review, allow → deny
    changes = hub.http.get(f"/admin/policies/{version}/diff")
    section = changes.text.split('id="diff-housing-assistance-review"')[1].split("</section>")[0]
    assert "Person.name" in section and re.search(r"allow</span> → <span class=\"badge deny\">deny", section)
    assert "共 2 处变化" in changes.text and "特殊值" in section  # and the name of a minor, a special value
    # and the matrix filtered to that field shows it denied for housing, the filter swapping the table alone
    table = hub.http.get(
        f"/admin/policies/{version}", params={"q": "Person.name", "role": "housing"}, headers={"HX-Request": "true"}
    )
    assert table.text.lstrip().startswith('<section id="matrix"')
    assert 'aria-label="housing assistance-review Person.name: deny"' in table.text


def test_an_edit_that_breaks_a_rule_of_the_policy_or_comes_from_another_author_is_refused(hub: Hub) -> None:
    # given one author's draft
    csrf = _as(hub, add_person(hub.engine, "zhang.author", ["policy-author"]))
    version = _draft_from_live(hub, csrf)
    before = _document(hub, version)
    # when they send a mask that does not fit the field (a name masked as a phone number)
    refused = _edit(hub, version, csrf, "mask:phone")
    # then it is refused with the place named, and the draft is unchanged
    assert refused.status_code == 422 and "housing / assistance-review / Person.name" in refused.text
    assert _document(hub, version) == before
    # when a second author edits the first one's draft
    refused = _edit(hub, version, _as(hub, add_person(hub.engine, "wu.author", ["policy-author"])))
    # then only the author may
    assert refused.status_code == 422 and "only its author edits it" in refused.text
    assert _document(hub, version) == before


def test_a_pasted_policy_with_an_error_is_refused_naming_the_place(hub: Hub) -> None:
    # given an author
    csrf = _as(hub, add_person(hub.engine, "zhang.author", ["policy-author"]))
    # when they paste a policy with a misspelt field
    text = "housing:\n  assistance-review:\n    Person.nmae: allow\n"
    refused = hub.http.post("/admin/policies", data={"csrf": csrf, "from": "yaml", "reason": "typo", "text": text})
    # then it is refused with 422, naming role, purpose and target, with their text kept to correct
    assert refused.status_code == 422
    assert "housing / assistance-review / Person.nmae" in refused.text and "Person.nmae: allow" in refused.text
    # and a correct one becomes a draft
    text = "housing:\n  assistance-review:\n    public: allow\n"
    made = hub.http.post(
        "/admin/policies", data={"csrf": csrf, "from": "yaml", "reason": "r", "text": text}, follow_redirects=False
    )
    assert made.status_code == 303 and made.headers["location"] == "/admin/policies/2"


def test_why_names_each_fields_outcome_and_its_rule_and_never_answers_blank(hub: Hub) -> None:
    # given a housing client and an approver
    register(hub.engine, HOUSING, roles=["housing"], purposes=["assistance-review"])
    _as(hub, add_person(hub.engine, "li.approver", ["policy-approver"]))
    asked = {"client": HOUSING, "purpose": "assistance-review"}
    query = '{ household(householdNumber: "1") { address members { name phone } } }'
    # when they ask why for the client's query under the live version
    answer = hub.http.get("/admin/policies/1/why", params={**asked, "query": query})
    # then each field has its outcome and the rule that decided it
    assert answer.status_code == 200
    rows = re.findall(r"<tr>\s*<th scope=\"row\"><code>([^<]+)</code>", answer.text)
    assert rows == ["Query.household", "Household.address", "Household.members", "Person.name", "Person.phone"]
    assert "housing / assistance-review / Person.phone: mask" in answer.text and "字段规则" in answer.text
    assert "housing / assistance-review / personal: allow" in answer.text and "标签规则" in answer.text
    # when the purpose is not the client's, or the query is not one the hub would run
    wrong = hub.http.get("/admin/policies/1/why", params={**asked, "purpose": "audit", "query": query})
    broken = hub.http.get("/admin/policies/1/why", params={**asked, "query": "{ household( }"})
    # then the answer says why, never a blank
    assert wrong.status_code == 422 and "is not allowed for client housing-office" in wrong.text
    assert broken.status_code == 422 and "not one the hub would run" in broken.text


def test_the_impact_counts_a_clients_past_request_that_the_draft_would_break(hub: Hub) -> None:
    # given a housing client that read names this week
    secret = register(hub.engine, HOUSING, roles=["housing"], purposes=["assistance-review"])
    assert all(_names(hub.http, hub, secret))
    # and a draft that denies housing the names
    csrf = _as(hub, add_person(hub.engine, "zhang.author", ["policy-author"]))
    version = _draft_from_live(hub, csrf)
    assert _edit(hub, version, csrf).status_code == 200
    # when the impact of the last 7 days is computed
    page = hub.http.get(f"/admin/policies/{version}/impact")
    assert 'hx-indicator="#impact-busy"' in page.text
    found = hub.http.post(
        f"/admin/policies/{version}/impact", data={"csrf": csrf, "days": "7"}, headers={"HX-Request": "true"}
    )
    # then the client's request is counted as broken, with the field named
    assert found.status_code == 200 and found.text.lstrip().startswith('<section id="impact"')
    row = found.text.split(f'id="impact-{HOUSING}"')[1].split("</tr>")[0]
    assert '<span class="badge broken">1</span>' in row and "Person.name" in row
    # and a number of days out of range is refused
    wrong = hub.http.post(
        f"/admin/policies/{version}/impact", data={"csrf": csrf, "days": "0"}, headers={"HX-Request": "true"}
    )
    assert wrong.status_code == 422


def test_four_eyes_the_author_cannot_approve_their_own_draft_even_holding_both_permissions(hub: Hub) -> None:
    # given a person who may write and approve, with their own draft
    csrf = _as(hub, add_person(hub.engine, "zhao.both", ["policy-author", "policy-approver"]))
    version = _draft_from_live(hub, csrf)
    shown = hub.http.get(f"/admin/policies/{version}")
    # when they approve it
    refused = hub.http.post(f"/admin/policies/{version}/approve", data={"csrf": csrf, "sha256": _sha_on(shown)})
    # then it is refused, saying a second person must, and the live version stays
    assert refused.status_code == 422 and "a second person must approve it" in refused.text
    assert _document(hub)[0] == 1


def test_an_approval_of_a_text_edited_since_is_refused_and_a_fresh_one_publishes_naming_both(hub: Hub) -> None:
    # given a housing client reading names, an author's draft, and an approver with the draft's page open
    secret = register(hub.engine, HOUSING, roles=["housing"], purposes=["assistance-review"])
    author = add_person(hub.engine, "zhang.author", ["policy-author"])
    approver = add_person(hub.engine, "li.approver", ["policy-approver"])
    version = _draft_from_live(hub, _as(hub, author))
    csrf = _as(hub, approver)
    stale = _sha_on(hub.http.get(f"/admin/policies/{version}"))
    # and the author then denies housing the names
    assert _edit(hub, version, _as(hub, author)).status_code == 200
    # when the approver approves the text they read
    csrf = _as(hub, approver)
    refused = hub.http.post(f"/admin/policies/{version}/approve", data={"csrf": csrf, "sha256": stale})
    # then it is refused as edited since, and nothing is published
    assert refused.status_code == 422 and "was edited since it was read" in refused.text
    assert _document(hub)[0] == 1
    # when they read it again and approve
    fresh = _sha_on(hub.http.get(f"/admin/policies/{version}"))
    approved = hub.http.post(
        f"/admin/policies/{version}/approve", data={"csrf": csrf, "sha256": fresh}, follow_redirects=False
    )
    # then it is live, naming both people
    assert approved.status_code == 303 and _document(hub) == (version, fresh)
    assert "起草人 zhang.author，批准人 li.approver" in hub.http.get(f"/admin/policies/{version}").text
    # and the API's answer changes for the client (a hub started now: running ones within the cache's seconds)
    with TestClient(create_app(Settings(database_url=hub.url, token_rate_limit=0))) as fresh_hub:
        assert _names(fresh_hub, hub, secret) == [None, None]


@pytest.mark.parametrize("what", ["withdraw", "rollback"])
def test_a_draft_is_withdrawn_and_a_rollback_is_a_new_draft(hub: Hub, what: str) -> None:
    # given a second version live, and a draft of an author
    author = add_person(hub.engine, "zhang.author", ["policy-author"])
    approver = add_person(hub.engine, "li.approver", ["policy-approver"])
    second = _draft_from_live(hub, _as(hub, author))
    csrf = _as(hub, approver)
    sha = _sha_on(hub.http.get(f"/admin/policies/{second}"))
    hub.http.post(f"/admin/policies/{second}/approve", data={"csrf": csrf, "sha256": sha})
    csrf = _as(hub, author)
    if what == "withdraw":
        draft = _draft_from_live(hub, csrf, "not needed")
        # when the author withdraws it
        done = hub.http.post(f"/admin/policies/{draft}/withdraw", data={"csrf": csrf}, follow_redirects=False)
        # then the list shows it withdrawn, by them
        listed = hub.http.get("/admin/policies").text.split(f'id="version-{draft}"')[1].split("</tr>")[0]
        assert done.status_code == 303 and "已撤回" in listed and "由 zhang.author 撤回" in listed
    else:
        # when the author rolls back to version 1
        done = hub.http.post("/admin/policies/1/rollback", data={"csrf": csrf}, follow_redirects=False)
        # then a new draft holds version 1's document, with the reason saying so, and version 2 stays live
        assert done.status_code == 303 and done.headers["location"] == "/admin/policies/3"
        assert "rollback to 1" in hub.http.get("/admin/policies/3").text
        assert _document(hub, 3)[1] == _document(hub, 1)[1] and _document(hub)[0] == second


def test_where_the_hub_allows_a_single_person_the_author_approves_their_own_draft_and_every_page_says_so(
    hub: Hub,
) -> None:
    # given a hub set for a single person, and a person who may write and approve
    settings = Settings(database_url=hub.url, token_rate_limit=0, policy_single_person=True)
    with TestClient(create_app(settings)) as alone:
        person = add_person(hub.engine, "zhao.both", ["policy-author", "policy-approver"])
        sign_in(alone, person)
        listed = alone.get("/admin/policies")
        assert "本部署允许一人完成策略的起草与发布" in listed.text
        made = alone.post(
            "/admin/policies", data={"csrf": csrf_of(listed), "from": "live", "reason": "alone"}, follow_redirects=False
        )
        version = int(made.headers["location"].rsplit("/", 1)[1])
        shown = alone.get(f"/admin/policies/{version}")
        # when they approve their own draft
        approved = alone.post(
            f"/admin/policies/{version}/approve",
            data={"csrf": csrf_of(shown), "sha256": _sha_on(shown)},
            follow_redirects=False,
        )
        # then it is live, naming them twice
        assert approved.status_code == 303 and _document(hub)[0] == version
        assert "起草人 zhao.both，批准人 zhao.both" in alone.get(f"/admin/policies/{version}").text
