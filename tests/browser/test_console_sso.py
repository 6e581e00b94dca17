"""Single sign-on in Chromium against a local OpenID provider the test starts: the person the issuer names
signs in to the console with what the hub's own table gives them; someone the hub does not know does not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from aidgraph.app import create_app
from aidgraph.settings import Settings
from tests.access import world_store
from tests.browser.conftest import ServedHub
from tests.conftest import BACKENDS
from tools.console_people import add_person
from tools.oidc_issuer import LocalIssuer, serve_issuer
from tools.serving import loopback_socket, serving


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    local = LocalIssuer()
    with serve_issuer(local):
        yield local


@pytest.fixture(params=BACKENDS)
def sso_hub(request: pytest.FixtureRequest, tmp_path: Path, issuer: LocalIssuer) -> Iterator[ServedHub]:
    """A hub whose console signs in through `issuer`."""
    listening, base_url = loopback_socket()
    issuer.redirect_uri = f"{base_url}/admin/sign-in/sso/callback"
    with world_store(request, tmp_path) as (url, engine):
        settings = Settings(
            database_url=url,
            oidc_issuer=issuer.url,
            oidc_client_id=issuer.client_id,
            oidc_redirect_uri=issuer.redirect_uri,
        )
        with serving(create_app(settings), listening=listening):
            yield ServedHub(base_url, engine, request.node.name)


def test_the_person_the_issuer_names_signs_in_with_the_hubs_own_roles(
    browser: Browser, sso_hub: ServedHub, issuer: LocalIssuer
) -> None:
    # given a caseworker of Nan'an in the hub's table, whom the issuer signs in
    add_person(sso_hub.engine, "chen.mei", ["civil-affairs"], ["350583"])
    issuer.user = "chen.mei"
    page: Page = browser.new_context(base_url=sso_hub.base_url, locale="zh-CN").new_page()
    # when they choose single sign-on on the sign-in page
    page.goto("/admin/sign-in")
    sso_hub.screenshot(page, "sign-in-with-sso")
    page.get_by_role("link", name="使用统一身份认证登录").click()
    # then they are at the console's start page, as the hub's table has them: the ledger, not the policies
    expect(page).to_have_url(f"{sso_hub.base_url}/admin/")
    expect(page.get_by_role("navigation").get_by_role("link", name="比对台账")).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link", name="访问策略")).to_have_count(0)
    sso_hub.screenshot(page, "signed-in-by-sso")
    page.context.close()


def test_someone_the_hub_does_not_know_is_not_signed_in(
    browser: Browser, sso_hub: ServedHub, issuer: LocalIssuer
) -> None:
    # given a person the issuer knows and the hub does not
    issuer.user = "stranger.zhang"
    page: Page = browser.new_context(base_url=sso_hub.base_url, locale="zh-CN").new_page()
    # when they come back from the issuer
    page.goto("/admin/sign-in/sso")
    # then the sign-in page says the hub has no account for them, and no page of the console opens
    expect(page.get_by_role("alert")).to_contain_text("本系统没有您的账号")
    page.goto("/admin/")
    expect(page).to_have_url(f"{sso_hub.base_url}/admin/sign-in")
    page.context.close()
