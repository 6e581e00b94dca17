"""People at the console for tests and screenshots: added through the same service as `aidgraph users add`,
and signed in in a real browser as a person does it, by the labels they read (Chinese, the default)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import sqlalchemy as sa

from auth.people.users import add_user

NEW_PASSWORD = "correct horse battery staple"


@dataclass
class Person:
    name: str
    password: str
    totp_secret: str | None = None

    def next_code(self) -> str:
        """A code not used yet: the next time step's (the hub takes one step either side, each once)."""
        assert self.totp_secret is not None, f"{self.name} has no authenticator yet"
        return pyotp.TOTP(self.totp_secret).at(time.time() + 30)


def add_person(engine: sa.Engine, name: str, roles: list[str], regions: list[str] | None = None) -> Person:
    return Person(name, add_user(engine, name, roles, regions or [], by="tests"))


def sign_in_in_browser(
    page: object, base_url: str, person: Person, *, shot: Callable[[str], object] | None = None
) -> None:
    """From the sign-in page through every step the hub asks for, to the start page; `shot(name)` at each step."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.goto(f"{base_url}/admin/sign-in")
    page.get_by_label("用户名").fill(person.name)
    page.get_by_label("密码").fill(person.password)
    if shot:
        shot("sign-in")
    page.get_by_role("button", name="登录").click()
    while True:
        page.wait_for_load_state()
        path = page.url.removeprefix(base_url)
        if path == "/admin/password":
            if shot:
                shot("new-password")
            person.password = NEW_PASSWORD
            page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
            page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
            page.get_by_role("button", name="保存密码").click()
        elif path == "/admin/second-factor/enrol":
            if shot:
                shot("enrol-authenticator")
            person.totp_secret = page.locator("#totp-secret").inner_text()
            page.get_by_label("6 位验证码").fill(pyotp.TOTP(person.totp_secret).now())
            page.get_by_role("button", name="确认").click()
        elif path == "/admin/second-factor":
            if shot:
                shot("second-factor")
            page.get_by_label("6 位验证码").fill(person.next_code())
            page.get_by_role("button", name="确认").click()
        else:
            assert path == "/admin/", f"the sign-in of {person.name} ended at {path}"
            return
