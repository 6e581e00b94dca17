"""A policy change in Chromium, the issue's main scenario: an author denies a cell of a draft, reads its diff,
asks why and runs its impact; a second person, signed in with an authenticator in a browser of their own,
approves it; and the API's answer to a client changes."""

from __future__ import annotations

import time

import httpx2
from playwright.sync_api import Browser, Page, expect

from tests.access import post, register, token
from tests.browser.conftest import ServedHub
from tests.browser.steps import sign_in
from tests.console.people import add_person
from tests.world import SMALL

CLIENT = "housing-office"
NAMES = "query Names($n: String!) { household(householdNumber: $n) { members { name } } }"
ASKED = f'{{ household(householdNumber: "{SMALL}") {{ members {{ name }} }} }}'
CELL = "housing assistance-review Person.name"


def _names(http: httpx2.Client, secret: str) -> list[str | None]:
    answer = post(http, NAMES, token(http, CLIENT, secret), purpose="assistance-review", n=SMALL)
    return [member["name"] for member in answer["data"]["household"]["members"]]


def test_an_author_denies_a_cell_a_second_person_approves_and_the_api_answers_differently(
    page: Page, browser: Browser, served_hub: ServedHub
) -> None:
    # given a housing client that reads the names of a household's members
    secret = register(served_hub.engine, CLIENT, roles=["housing"], purposes=["assistance-review"])
    with httpx2.Client(base_url=served_hub.base_url) as api:
        assert all(_names(api, secret))
        # and a policy author signed in, on the policies page
        sign_in(page, served_hub, add_person(served_hub.engine, "zhang.author", ["policy-author"]))
        page.get_by_role("navigation").get_by_role("link", name="访问策略").click()
        expect(page.locator("#version-1")).to_contain_text("现行")
        served_hub.screenshot(page, "versions")
        # when they make a draft from the live version
        page.get_by_label("理由").first.fill("住房部门不需要姓名")
        page.get_by_role("button", name="以现行版本新建草稿").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("第 2 版")
        served_hub.screenshot(page, "draft-matrix")
        # and filter the matrix to housing's names (the table swapped in place)
        page.get_by_label("字段名包含").fill("Person.name")
        page.get_by_label("housing", exact=True).check()
        page.get_by_role("button", name="显示").click()
        cell = page.get_by_role("link", name=f"{CELL}: allow")
        expect(cell).to_be_visible()
        # and open that cell and deny it
        read = page.locator("#sha256").inner_text()
        cell.click()
        editor = page.locator("#editor")
        expect(editor).to_contain_text("housing / assistance-review / personal: allow")
        editor.get_by_label("本格规则").select_option("deny")
        editor.get_by_role("button", name="保存到草稿").click()
        # then the draft holds it, and the matrix shows it denied
        expect(page.locator("#editor").get_by_role("status")).to_contain_text("已保存到第 2 版草稿")
        expect(page.get_by_role("link", name=f"{CELL}: deny")).to_be_visible()
        expect(page.locator("#sha256")).not_to_have_text(read)  # the text an approval would name is the new one
        served_hub.screenshot(page, "cell-edited")
        # when they follow the saved cell to the draft's diff against the live version
        page.locator("#editor").get_by_role("link", name="与现行版本的差异").click()
        changed = page.locator("#diff-housing-assistance-review")
        expect(changed).to_contain_text("Person.name")
        expect(changed).to_contain_text("deny")
        served_hub.screenshot(page, "diff")
        # and ask why for the client's query under the draft
        page.get_by_role("link", name="原因查询").click()
        page.get_by_label("接入系统").select_option(CLIENT)
        page.get_by_label("用途").select_option("assistance-review")
        page.get_by_label("GraphQL 查询").fill(ASKED)
        page.get_by_role("button", name="查询原因").click()
        expect(page.locator("#outcome")).to_contain_text("housing / assistance-review / Person.name: deny")
        served_hub.screenshot(page, "why")
        # and run the impact of the last 7 days
        page.get_by_role("link", name="发布前影响评估").click()
        page.get_by_role("button", name="评估影响").click()
        row = page.locator(f"#impact-{CLIENT}")
        expect(row.locator(".badge.broken").first).to_have_text("1")
        expect(row).to_contain_text("Person.name")
        served_hub.screenshot(page, "impact")
        # then the client still gets the names: the draft is not live
        assert all(_names(api, secret))

        # when a second person, a policy approver with an authenticator, approves it in a browser of their own
        size = {"width": 1280, "height": 900}
        approver = browser.new_context(base_url=served_hub.base_url, locale="zh-CN", viewport=size)
        other = approver.new_page()
        sign_in(other, served_hub, add_person(served_hub.engine, "li.approver", ["policy-approver"]), shots=True)
        other.goto("/admin/policies/2")
        served_hub.screenshot(other, "approve")
        other.get_by_role("button", name="批准并发布").click()
        # then the version is live, naming both people
        expect(other.locator("#approval")).to_contain_text("起草人 zhang.author，批准人 li.approver")
        expect(other.get_by_role("heading", level=1)).to_contain_text("现行")
        served_hub.screenshot(other, "approved")
        approver.close()
        # and within the hub's policy cache's seconds the client no longer gets the names
        deadline = time.monotonic() + 15
        while any(_names(api, secret)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _names(api, secret) == [None, None]


def test_the_author_is_offered_no_approval_and_sees_four_eyes_asked_of_a_second_person(
    page: Page, served_hub: ServedHub
) -> None:
    # given a person who may write and approve, with a draft of their own
    sign_in(page, served_hub, add_person(served_hub.engine, "zhao.both", ["policy-author", "policy-approver"]))
    page.goto("/admin/policies")
    page.get_by_label("理由").first.fill("自己批准试试")
    page.get_by_role("button", name="以现行版本新建草稿").click()
    # when they approve it themselves
    page.get_by_role("button", name="批准并发布").click()
    # then it is refused, naming the four eyes, and the draft stays a draft
    expect(page.get_by_role("alert")).to_contain_text("a second person must approve it")
    expect(page.get_by_role("heading", level=1)).to_contain_text("草稿")
    served_hub.screenshot(page, "four-eyes-refused")
