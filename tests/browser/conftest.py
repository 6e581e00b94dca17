"""The console in a real browser: Debian's Chromium driven by Playwright, against a hub served on loopback.

Never skipped: where Chromium is missing it is installed from Debian (tools/browser.py), and where it
cannot be, the tests fail saying what to install. Each test saves a screenshot of every page it reaches
under `.test-output/console/` (AIDGRAPH_TEST_OUTPUT names another folder).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page

from aidgraph.app import create_app
from aidgraph.settings import Settings
from tests.access import world_store
from tests.conftest import BACKENDS
from tools.browser import chromium
from tools.serving import serving

OUTPUT = Path(os.environ.get("AIDGRAPH_TEST_OUTPUT", Path(__file__).parents[2] / ".test-output")) / "console"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module, closed after it: Playwright's synchronous API runs an event loop in
    this thread while it is open, and the tests of other modules that run here after it (asyncio.run)
    must find none."""
    with chromium() as launched:
        yield launched


@dataclass
class ServedHub:
    base_url: str
    engine: sa.Engine
    test_name: str
    shots: int = 0

    def screenshot(self, page: Page, what: str) -> Path:
        """The page as the person sees it, kept with the test's output."""
        self.shots += 1
        OUTPUT.mkdir(parents=True, exist_ok=True)
        path = OUTPUT / f"{self.test_name}-{self.shots:02d}-{what}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(params=BACKENDS)
def served_hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServedHub]:
    with world_store(request, tmp_path) as (url, engine):
        with serving(create_app(Settings(database_url=url, token_rate_limit=0))) as base_url:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
            yield ServedHub(base_url, engine, name)


@pytest.fixture
def page(browser: Browser, served_hub: ServedHub) -> Iterator[Page]:
    context = browser.new_context(base_url=served_hub.base_url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()
