"""People at the console in tests: added through the same service as `aidgraph users add`, signed in
through the pages as a person does it (form, CSRF token, first password, authenticator code)."""

from __future__ import annotations

import re

import httpx2
import pyotp
from starlette.testclient import TestClient

from tools.console_people import NEW_PASSWORD, Person, add_person

__all__ = ["NEW_PASSWORD", "Person", "add_person", "csrf_of", "sign_in"]

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_SECRET = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
_SEAL = re.compile(r'name="seal" value="([0-9a-f]+)"')


def csrf_of(page: httpx2.Response) -> str:
    found = _CSRF.search(page.text)
    assert found is not None, f"no CSRF token on {page.url}: {page.text[:300]}"
    return found.group(1)


def sign_in(http: TestClient, person: Person) -> httpx2.Response:
    """Through every step the hub asks for; returns the answer of the last one (a redirect to the start page)."""
    form = http.get("/admin/sign-in")
    answer = http.post(
        "/admin/sign-in",
        data={"name": person.name, "password": person.password, "csrf": csrf_of(form)},
        follow_redirects=False,
    )
    while answer.status_code == 303 and answer.headers["location"] != "/admin/":
        step = answer.headers["location"]
        page = http.get(step)
        csrf = csrf_of(page)
        if step == "/admin/password":
            person.password = NEW_PASSWORD
            data = {"password": NEW_PASSWORD, "again": NEW_PASSWORD, "csrf": csrf}
        elif step == "/admin/second-factor/enrol":
            found = _SECRET.search(page.text)
            assert found is not None
            person.totp_secret = found.group(1)
            seal = _SEAL.search(page.text)
            assert seal is not None
            code = pyotp.TOTP(person.totp_secret).now()
            data = {"code": code, "secret": person.totp_secret, "seal": seal.group(1), "csrf": csrf}
        elif step == "/admin/second-factor":
            assert person.totp_secret is not None
            data = {"code": person.next_code(), "csrf": csrf}
        else:
            raise AssertionError(f"sign-in went to {step}")
        answer = http.post(step, data=data, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:500]
    return answer
