"""The client systems' pages over HTTP, on SQLite and PostgreSQL: only a user administrator opens them; a
secret shown once, on the page that made it; disabling; rotating refuses the old secret at /oauth/token;
each change one audit event naming the administrator."""

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
from auth.audit import AuditLog
from auth.tables import audit_event
from tests.access import register, world_store
from tests.auth.test_audit import event
from tests.conftest import BACKENDS
from tests.console.conftest import Hub
from tests.console.people import add_person, csrf_of, sign_in

_SECRET = re.compile(r'<code id="client-secret">([^<]+)</code>')
ROUTES = [
    ("GET", "/admin/clients"),
    ("POST", "/admin/clients"),
    ("POST", "/admin/clients/housing-nanan/disable"),
    ("POST", "/admin/clients/housing-nanan/rotate"),
]
NEW_CLIENT = {
    "client_id": "housing-nanan",
    "department": "housing",
    "roles": ["housing"],
    "purposes": ["assistance-review"],
    "regions": "350583",
}


@pytest.fixture(params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    """A store and hub of the test's own, not the module's shared one: these tests count the trail's
    client changes and register the same client ids."""
    with world_store(request, tmp_path) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(url, engine, http)


def _admin(hub: Hub) -> str:
    sign_in(hub.http, add_person(hub.engine, "wang.admin", ["user-admin"]))
    return csrf_of(hub.http.get("/admin/clients"))


def _token_status(hub: Hub, client_id: str, secret: str) -> int:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return hub.http.post("/oauth/token", data=form).status_code


def _changes(hub: Hub) -> list[dict]:
    with hub.engine.connect() as connection:
        query = sa.select(audit_event).where(audit_event.c.outcome == "client-changed").order_by(audit_event.c.seq)
        return [dict(row) for row in connection.execute(query).mappings()]


def _open(hub: Hub, method: str, path: str, csrf: str) -> httpx2.Response:
    if method == "GET":
        return hub.http.get(path, follow_redirects=False)
    return hub.http.post(path, data={"csrf": csrf, **NEW_CLIENT}, follow_redirects=False)


def test_only_a_user_administrator_opens_the_client_pages(hub: Hub) -> None:
    # given a registered client, and nobody signed in, then a caseworker, an auditor, an administrator
    register(hub.engine, "housing-nanan", roles=["housing"], purposes=["assistance-review"])
    for method, path in ROUTES:
        # then one signed out is sent to the sign-in page
        answer = _open(hub, method, path, "none")
        assert (answer.status_code, answer.headers.get("location")) == (303, "/admin/sign-in"), path
    for name, roles in (("li.nanan", ["civil-affairs"]), ("zhou.audit", ["auditor"])):
        hub.http.cookies.clear()
        sign_in(hub.http, add_person(hub.engine, name, roles, ["350583"]))
        csrf = csrf_of(hub.http.get("/admin/"))
        for method, path in ROUTES:
            # and a caseworker or an auditor is refused, and nothing changed
            assert _open(hub, method, path, csrf).status_code == 403, (name, path)
    assert _changes(hub) == []
    hub.http.cookies.clear()
    csrf = _admin(hub)
    # and the administrator is let in (registering the same id again is refused as a duplicate)
    assert _open(hub, "GET", "/admin/clients", csrf).status_code == 200
    assert _open(hub, "POST", "/admin/clients", csrf).status_code == 422
    assert _open(hub, "POST", "/admin/clients/housing-nanan/rotate", csrf).status_code == 200
    assert _open(hub, "POST", "/admin/clients/housing-nanan/disable", csrf).status_code == 200


def test_a_change_without_the_forms_token_is_refused_and_not_made(hub: Hub) -> None:
    # given an administrator and a registered client
    secret = register(hub.engine, "housing-nanan", roles=["housing"], purposes=["assistance-review"])
    _admin(hub)
    # when a form arrives without its CSRF token, or with another one
    for data in ({}, {"csrf": "forged"}):
        for path in ("/admin/clients", "/admin/clients/housing-nanan/disable", "/admin/clients/housing-nanan/rotate"):
            assert hub.http.post(path, data={**data, **NEW_CLIENT, "client_id": "other"}).status_code == 403
    # then nothing changed: the secret still works, no event
    assert _token_status(hub, "housing-nanan", secret) == 200 and _changes(hub) == []


def test_a_registered_clients_secret_is_shown_once_and_works(hub: Hub) -> None:
    # given an administrator on the clients page
    csrf = _admin(hub)
    # when they register a client
    page = hub.http.post("/admin/clients", data={"csrf": csrf, **NEW_CLIENT})
    # then its secret is shown on that answer, and it gets a token
    found = _SECRET.search(page.text)
    assert page.status_code == 200 and found is not None
    secret = found.group(1)
    assert _token_status(hub, "housing-nanan", secret) == 200
    # and the list shows it with its roles, regions, purposes, state, and its last use (its newest event),
    # but never the secret again
    AuditLog(hub.engine).append(event(0, client_id="housing-nanan"))
    listing = hub.http.get("/admin/clients?lang=en")
    assert secret not in listing.text and 'id="client-secret"' not in listing.text
    row = re.search(r'<tr id="client-1">(.*?)</tr>', listing.text, re.S)
    assert row is not None
    for shown in ("housing-nanan", "housing", "350583", "assistance-review"):
        assert shown in row.group(1)
    assert "2026-11-24T09:00:00Z" in row.group(1) and "enabled" in row.group(1)
    # and the registration is one event naming the administrator, made in the console
    [change] = _changes(hub)
    assert (change["client_id"], change["actor"], change["operation"]) == ("console", "wang.admin", "clients add")
    assert change["detail"].startswith("client housing-nanan (housing) registered: roles housing")
    assert secret not in str(change)


def test_a_refused_registration_keeps_the_form_and_makes_nothing(hub: Hub) -> None:
    # given an administrator, when they register a client with a region that is not a division code
    csrf = _admin(hub)
    page = hub.http.post("/admin/clients", data={"csrf": csrf, **NEW_CLIENT, "regions": "nanan"})
    # then it is refused, saying why, with what they typed, and no client nor event exists
    assert page.status_code == 422 and "division code" in page.text
    assert 'value="housing-nanan"' in page.text and 'id="client-secret"' not in page.text
    assert 'id="client-1"' not in page.text and _changes(hub) == []


def test_a_disabled_client_gets_no_token(hub: Hub) -> None:
    # given a registered client and an administrator
    secret = register(hub.engine, "housing-nanan", roles=["housing"], purposes=["assistance-review"])
    csrf = _admin(hub)
    # when they disable it
    page = hub.http.post("/admin/clients/housing-nanan/disable", data={"csrf": csrf})
    # then the list says so, it gets no token, and the change is an event naming the administrator
    assert page.status_code == 200 and "badge deny" in page.text
    assert _token_status(hub, "housing-nanan", secret) == 401
    [change] = _changes(hub)
    assert (change["actor"], change["operation"]) == ("wang.admin", "clients disable")


def test_a_rotated_secret_is_shown_once_and_the_old_one_is_refused(hub: Hub) -> None:
    # given a registered client and an administrator
    old = register(hub.engine, "housing-nanan", roles=["housing"], purposes=["assistance-review"])
    csrf = _admin(hub)
    # when they rotate its secret
    page = hub.http.post("/admin/clients/housing-nanan/rotate", data={"csrf": csrf})
    found = _SECRET.search(page.text)
    assert page.status_code == 200 and found is not None
    new = found.group(1)
    # then /oauth/token refuses the old secret and takes the new one
    assert _token_status(hub, "housing-nanan", old) == 401
    assert _token_status(hub, "housing-nanan", new) == 200
    # and the new secret is not shown again, and the rotation is an event naming the administrator
    assert new not in hub.http.get("/admin/clients").text
    [change] = _changes(hub)
    assert (change["client_id"], change["actor"], change["operation"]) == ("console", "wang.admin", "clients rotate")


def test_an_unknown_client_cannot_be_rotated_or_disabled(hub: Hub) -> None:
    # given an administrator, when they rotate or disable a client that is not registered
    csrf = _admin(hub)
    for action in ("rotate", "disable"):
        page = hub.http.post(f"/admin/clients/nobody/{action}", data={"csrf": csrf})
        # then it is refused, saying so, and no event is written
        assert page.status_code == 422 and "no client" in page.text and 'id="client-secret"' not in page.text
    assert _changes(hub) == []
