"""Signing in to the console over HTTP, on SQLite and PostgreSQL: the steps, the lockout, CSRF, the session's
cookie and its end, and the headers every page carries."""

from __future__ import annotations

import re

import pyotp
import sqlalchemy as sa
from starlette.testclient import TestClient

from auth.people.users import disable_user
from auth.tables import audit_event
from tests.console.conftest import Hub
from tests.console.people import NEW_PASSWORD, add_person, csrf_of, sign_in


def _events(hub: Hub, outcome_like: str = "%") -> list[dict]:
    with hub.engine.connect() as connection:
        query = sa.select(audit_event).where(audit_event.c.outcome.like(outcome_like)).order_by(audit_event.c.seq)
        return [dict(row) for row in connection.execute(query).mappings()]


def _post_sign_in(http: TestClient, name: str, password: str) -> object:
    form = http.get("/admin/sign-in")
    return http.post(
        "/admin/sign-in", data={"name": name, "password": password, "csrf": csrf_of(form)}, follow_redirects=False
    )


def test_a_first_sign_in_changes_the_one_time_password_and_then_opens_the_console(hub: Hub) -> None:
    # given a caseworker just added, with a one-time password
    person = add_person(hub.engine, "li.caseworker", ["civil-affairs"], ["350583"])
    # when they sign in with it
    first = _post_sign_in(hub.http, person.name, person.password)
    # then the only page open to them is the one that sets a new password
    assert first.headers["location"] == "/admin/password"
    assert hub.http.get("/admin/", follow_redirects=False).headers["location"] == "/admin/password"
    # and once it is set, the console opens, with their sections
    sign_in(hub.http, person)
    home = hub.http.get("/admin/")
    assert home.status_code == 200
    assert "/admin/casework" in home.text and "/admin/policies" not in home.text
    # and the new password is the one that works from now on
    hub.http.cookies.clear()
    assert _post_sign_in(hub.http, person.name, NEW_PASSWORD).headers["location"] == "/admin/"


def test_an_administrator_enrols_a_second_factor_and_needs_it_at_every_sign_in(hub: Hub) -> None:
    # given a user administrator (a second factor is required for them)
    person = add_person(hub.engine, "wang.admin", ["user-admin"])
    # when they sign in the first time they set a password and enrol an authenticator
    sign_in(hub.http, person)
    assert person.totp_secret is not None
    # then the next sign-in asks for a code after the password, and a wrong one is refused
    hub.http.cookies.clear()
    after_password = _post_sign_in(hub.http, person.name, person.password)
    assert after_password.headers["location"] == "/admin/second-factor"
    page = hub.http.get("/admin/second-factor")
    wrong = hub.http.post("/admin/second-factor", data={"code": "000000", "csrf": csrf_of(page)})
    assert wrong.status_code == 401
    assert hub.http.get("/admin/", follow_redirects=False).headers["location"] == "/admin/second-factor"
    # and the right one opens the console
    code = pyotp.TOTP(person.totp_secret).at(__import__("time").time() + 30)
    right = hub.http.post("/admin/second-factor", data={"code": code, "csrf": csrf_of(page)}, follow_redirects=False)
    assert right.headers["location"] == "/admin/"
    assert "/admin/users" in hub.http.get("/admin/").text


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(hub: Hub, address: str) -> None:
    # given a person
    add_person(hub.engine, "zhao.auditor", ["auditor"])
    with hub.browser_at(address) as someone:
        # when one tries a wrong password and another a name nobody has
        wrong = _post_sign_in(someone, "zhao.auditor", "not the password")
        unknown = _post_sign_in(someone, "nobody.here", "not the password")
        # then both get the same status and the same words, and no session
        assert wrong.status_code == unknown.status_code == 401
        message = re.compile(r'<p role="alert" id="signin-error">([^<]+)</p>')
        assert message.search(wrong.text).group(1) == message.search(unknown.text).group(1)  # type: ignore[union-attr]
        assert "aidgraph-session" not in someone.cookies


def test_failed_sign_ins_lock_the_name_out_and_are_recorded_without_a_row_each(hub: Hub, address: str) -> None:
    # given a person, and someone at an address of their own
    person = add_person(hub.engine, "sun.caseworker", ["civil-affairs"], ["350583"])
    before = len(_events(hub, "%fail%"))
    with hub.browser_at(address) as guesser:
        # when they guess the password five times
        for _ in range(5):
            assert _post_sign_in(guesser, person.name, "guess").status_code == 401
        # then even the right password is refused for a while
        locked = _post_sign_in(guesser, person.name, person.password)
        assert locked.status_code == 429
        assert "aidgraph-session" not in guesser.cookies
    # and the trail holds no event per failed guess
    assert len(_events(hub, "%fail%")) - before < 5


def test_a_form_without_its_csrf_token_is_refused(hub: Hub) -> None:
    # given a signed-in caseworker
    person = add_person(hub.engine, "qian.caseworker", ["civil-affairs"], ["350583"])
    sign_in(hub.http, person)
    # when a form is posted without the token, or with another's
    missing = hub.http.post("/admin/sign-out", data={})
    forged = hub.http.post("/admin/sign-out", data={"csrf": "x" * 43})
    # then it is refused, and the session still works
    assert missing.status_code == forged.status_code == 403
    assert hub.http.get("/admin/").status_code == 200
    # and a sign-in form posted without its own cookie's token is refused too
    hub.http.cookies.clear()
    bare = hub.http.post("/admin/sign-in", data={"name": person.name, "password": person.password, "csrf": "x"})
    assert bare.status_code == 403


def test_signing_out_or_being_disabled_ends_the_session_at_once(hub: Hub) -> None:
    # given a signed-in caseworker, and a copy of their cookie
    person = add_person(hub.engine, "zhou.caseworker", ["civil-affairs"], ["350583"])
    sign_in(hub.http, person)
    cookie = hub.http.cookies["aidgraph-session"]
    # when they sign out
    home = hub.http.get("/admin/")
    hub.http.post("/admin/sign-out", data={"csrf": csrf_of(home)})
    # then the copied cookie opens nothing any more
    hub.http.cookies.clear()
    hub.http.cookies.set("aidgraph-session", cookie, path="/admin")
    assert hub.http.get("/admin/", follow_redirects=False).headers["location"] == "/admin/sign-in"
    # and given a new session, disabling the person ends it at once
    hub.http.cookies.clear()
    sign_in(hub.http, person)
    disable_user(hub.engine, person.name, by="wang.admin")
    assert hub.http.get("/admin/", follow_redirects=False).headers["location"] == "/admin/sign-in"


def test_the_session_cookie_and_every_page_carry_the_console_protections(hub: Hub) -> None:
    # given a caseworker signing in
    person = add_person(hub.engine, "wu.caseworker", ["civil-affairs"], ["350583"])
    answer = sign_in(hub.http, person)
    # then the session cookie is HttpOnly, SameSite=Strict and for the console only
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Path=/admin" in cookie
    # and every page forbids framing and any script but the console's own
    for path in ("/admin/", "/admin/sign-in", "/admin/casework"):
        page = hub.http.get(path)
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"


def test_a_forged_session_cookie_is_not_a_session(hub: Hub) -> None:
    # given a signed-in caseworker
    person = add_person(hub.engine, "zheng.caseworker", ["civil-affairs"], ["350583"])
    sign_in(hub.http, person)
    token, _, signature = hub.http.cookies["aidgraph-session"].rpartition(".")
    # when the cookie's signature is changed
    hub.http.cookies.clear()
    hub.http.cookies.set("aidgraph-session", f"{token}.{'A' * len(signature)}", path="/admin")
    # then the console sends them to sign in
    assert hub.http.get("/admin/", follow_redirects=False).headers["location"] == "/admin/sign-in"
