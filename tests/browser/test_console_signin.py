"""Signing in to the console in Chromium: password and authenticator code, the lockout after wrong passwords,
and a form whose CSRF token was tampered with."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import ServedHub
from tests.browser.steps import sign_in
from tools.console_people import add_person


def test_an_administrator_signs_in_with_password_and_authenticator_code(page: Page, served_hub: ServedHub) -> None:
    # given a user administrator who enrolled an authenticator at the first sign-in
    admin = add_person(served_hub.engine, "wang.admin", ["user-admin"])
    sign_in(page, served_hub, admin, shots=True)
    page.get_by_role("button", name="退出登录").click()
    # when they sign in again
    sign_in(page, served_hub, admin, shots=True)
    # then the people page is theirs
    page.get_by_role("navigation").get_by_role("link", name="人员").click()
    expect(page.get_by_role("heading", name="人员", exact=True)).to_be_visible()
    served_hub.screenshot(page, "people")


def test_five_wrong_passwords_lock_the_name_out_even_for_the_right_one(page: Page, served_hub: ServedHub) -> None:
    # given a caseworker
    person = add_person(served_hub.engine, "sun.nanan", ["civil-affairs"], ["350583"])
    # when someone tries five wrong passwords for the name
    for attempt in range(5):
        page.goto("/admin/sign-in")
        page.get_by_label("用户名").fill(person.name)
        page.get_by_label("密码").fill(f"guess number {attempt}")
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    # then the right password is refused too, saying to wait
    page.get_by_label("用户名").fill(person.name)
    page.get_by_label("密码").fill(person.password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("尝试次数过多")
    served_hub.screenshot(page, "locked-out")
    expect(page).to_have_url(f"{served_hub.base_url}/admin/sign-in")


def test_a_form_whose_csrf_token_was_changed_is_refused(page: Page, served_hub: ServedHub) -> None:
    # given a signed-in caseworker
    person = add_person(served_hub.engine, "qian.nanan", ["civil-affairs"], ["350583"])
    sign_in(page, served_hub, person)
    # when the sign-out form's token is changed before it is sent (as a forged form would carry another)
    page.locator("form[action='/admin/sign-out'] input[name=csrf]").evaluate("field => field.value = 'forged'")
    page.get_by_role("button", name="退出登录").click()
    # then the console refuses it, and the session still works
    expect(page.get_by_role("heading", name="表单已失效")).to_be_visible()
    served_hub.screenshot(page, "csrf-refused")
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="欢迎，qian.nanan")).to_be_visible()
