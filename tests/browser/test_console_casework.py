"""A caseworker at the console in Chromium: the ledger of their county, a status change without a reload,
the conflict when a colleague changed the item first, and nothing of another county."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ServedHub
from tests.browser.steps import sign_in
from tests.casework.graphql.ledger import make_item, make_run
from tests.console.people import add_person
from tests.world import SMALL


def _ledger(hub: ServedHub) -> tuple[int, int, int]:
    run = make_run(hub.engine, region="3505")
    inside = make_item(hub.engine, run, rule="C1", household=SMALL, region_code="350583101201")
    outside = make_item(hub.engine, run, rule="C1", household="350524000001", region_code="350524101001")
    return run, inside, outside


def test_a_caseworker_assigns_an_item_and_a_colleague_on_a_stale_page_gets_a_conflict(
    page: Page, browser: Browser, served_hub: ServedHub
) -> None:
    # given a ledger and a Nanan caseworker signed in, with the run's ledger open for the comparison
    run, inside, outside = _ledger(served_hub)
    sign_in(page, served_hub, add_person(served_hub.engine, "li.nanan", ["civil-affairs"], ["350583"]), shots=True)
    page.get_by_role("navigation").get_by_role("link", name="比对台账").click()
    page.get_by_label("用途").select_option("comparison")
    page.get_by_role("button", name="显示").click()
    served_hub.screenshot(page, "runs")
    page.get_by_role("link", name=f"第 {run} 批").click()
    page.get_by_label("用途").select_option("comparison")
    page.get_by_role("button", name="显示").click()
    item = page.locator(f"#item-{inside}")
    expect(item).to_be_visible()
    expect(page.locator(f"#item-{outside}")).to_have_count(0)
    item.locator("summary").click()
    served_hub.screenshot(page, "ledger")
    # and a colleague with the same page open in another browser
    other = browser.new_context(base_url=served_hub.base_url, locale="zh-CN").new_page()
    sign_in(other, served_hub, add_person(served_hub.engine, "wang.nanan", ["civil-affairs"], ["350583"]))
    other.goto(f"/admin/casework/runs/{run}?purpose=comparison")
    # when the first assigns the item (swapped in place by htmx, no reload)
    item.get_by_label("承办人").fill("li.nanan")
    item.get_by_label("备注").fill("已电话联系，安排上门核查")
    item.get_by_role("button", name="保存").click()
    expect(page.locator(f"#item-{inside}").get_by_role("status")).to_contain_text("已分派")
    served_hub.screenshot(page, "item-assigned")
    # and the colleague then assigns it from the page they read before
    stale = other.locator(f"#item-{inside}")
    stale.get_by_label("承办人").fill("wang.nanan")
    stale.get_by_role("button", name="保存").click()
    # then the colleague is told it changed meanwhile, with its current status, and nothing was overwritten
    expect(other.locator(f"#item-{inside}")).to_contain_text("已被他人修改")
    expect(other.locator(f"#item-{inside}")).to_contain_text("已分派")
    served_hub.screenshot(other, "item-conflict")
    other.context.close()


def test_a_caseworker_of_another_county_sees_none_of_nanans_items(page: Page, served_hub: ServedHub) -> None:
    # given the ledger and a caseworker of county 350524
    run, inside, outside = _ledger(served_hub)
    sign_in(page, served_hub, add_person(served_hub.engine, "he.yongchun", ["civil-affairs"], ["350524"]))
    # when they open the run's ledger
    page.goto(f"/admin/casework/runs/{run}?purpose=comparison")
    # then only their county's item is on it
    expect(page.locator(f"#item-{outside}")).to_be_visible()
    expect(page.locator(f"#item-{inside}")).to_have_count(0)
    served_hub.screenshot(page, "other-county-ledger")
