"""An auditor at the console in Chromium: the trail searched by a resident's id (sent in the form's body,
never in the address), the results swapped in by htmx, and the chain verified from the page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from auth.audit import AuditLog
from tests.auth.test_audit import NANAN, OTHER, event
from tests.browser.conftest import ServedHub
from tests.browser.steps import sign_in
from tests.console.people import add_person


def test_an_auditor_finds_a_residents_events_and_verifies_the_chain(page: Page, served_hub: ServedHub) -> None:
    # given two reads of a resident and one of another, and an auditor signed in
    log = AuditLog(served_hub.engine)
    named = [
        log.append(event(number, subjects=subjects)) for number, subjects in enumerate([(NANAN,), (OTHER,), (NANAN,)])
    ]
    sign_in(page, served_hub, add_person(served_hub.engine, "zhou.audit", ["auditor"], ["3505"]), shots=True)
    # when they open the audit section and search by the resident's id
    page.get_by_role("navigation").get_by_role("link", name="审计").click()
    served_hub.screenshot(page, "audit")
    address = page.url
    page.get_by_label("居民身份证号").fill(NANAN)
    page.get_by_role("button", name="检索").click()
    # then the events naming them are shown, newest first, swapped in without leaving the page
    expect(page.locator(f"#event-{named[2]}")).to_be_visible()
    expect(page.locator(f"#event-{named[0]}")).to_be_visible()
    expect(page.locator(f"#event-{named[1]}")).to_have_count(0)
    assert page.url == address and NANAN not in page.url
    served_hub.screenshot(page, "audit-resident-search")
    # when they verify the chain
    page.get_by_role("button", name="校验").click()
    # then it is intact, with the head to keep as the next anchor
    expect(page.locator("#verify-ok")).to_contain_text("哈希链完整")
    head = page.locator("#head").inner_text()
    served_hub.screenshot(page, "audit-verified")
    # and checked again against that head, the page names the anchor used
    page.get_by_label("锚点（可选）").fill(head)
    page.get_by_role("button", name="校验").click()
    expect(page.locator("#anchor-used")).to_contain_text(head)
    served_hub.screenshot(page, "audit-verified-with-anchor")
