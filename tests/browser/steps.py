"""A person's steps at the console in the browser (tools/console_people.py), with the test's screenshots."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.conftest import ServedHub
from tools.console_people import Person, sign_in_in_browser


def sign_in(page: Page, hub: ServedHub, person: Person, *, shots: bool = False) -> None:
    sign_in_in_browser(page, hub.base_url, person, shot=(lambda what: hub.screenshot(page, what)) if shots else None)
