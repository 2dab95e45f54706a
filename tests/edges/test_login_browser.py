"""Staff logins in a real browser (issue #14): the lockout page, setting up two-factor, logging in with a code."""

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.edges.test_admin_browser import browser, chinese, login, shot  # noqa: F401 - browser is a fixture

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def guess_wrong(page, live_server, username: str, times: int = 5) -> None:
    for _ in range(times):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", "a wrong guess")
        page.click("#login-form [type=submit]")


def test_five_wrong_passwords_show_the_lockout_page_in_the_admin_look(browser, live_server, staff):  # noqa: F811
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    guess_wrong(page, live_server, "ops1")

    expect(page.locator("#content-main h1")).to_have_text("Too many failed logins")
    expect(page.locator("#content-main")).to_contain_text("Wait 30 minutes")
    expect(page.locator("#site-name")).to_contain_text("After-sales back office")
    shot(page, "login-locked-out")

    right = login(browser, live_server, "ops1")  # the right password, too late
    expect(right.locator("#content-main h1")).to_have_text("Too many failed logins")


def test_finance_sets_up_two_factor_then_logs_in_with_a_code(browser, live_server, staff, settings):  # noqa: F811
    settings.STAFF_2FA_REQUIRED = True
    page = login(browser, live_server, "finance1")

    expect(page).to_have_url(re.compile(r"/admin/two-factor/$"))
    expect(page.locator("#two-factor-qr svg")).to_be_visible()
    secret = page.locator("#two-factor-secret").inner_text()
    device = TOTPDevice.objects.get(user=staff["finance"])
    assert secret.replace(" ", "") in device.config_url
    shot(page, "two-factor-setup")
    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    expect(page).to_have_url(re.compile(r"/admin/two-factor/$"))  # nothing else until it is done

    page.fill("#id_otp_token", code_for(device))
    page.click("#two-factor-form [type=submit]")
    expect(page.locator("#two-factor-on")).to_contain_text("Two-factor login is on")
    expect(page.locator("#backup-codes li")).to_have_count(8)
    shot(page, "two-factor-backup-codes")

    again = browser.new_page(viewport={"width": 1440, "height": 900})
    again.goto(f"{live_server.url}/admin/login/")
    again.fill("#id_username", "finance1")
    again.fill("#id_password", "pass-1234")
    again.click("#login-form [type=submit]")
    expect(again.locator(".errorlist")).to_contain_text("Enter the code")
    again.fill("#id_password", "pass-1234")
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # the code used to set up may be given again
    again.fill("#id_otp_token", code_for(device))
    shot(again, "login-with-code")
    again.click("#login-form [type=submit]")
    expect(again.locator("#user-tools")).to_contain_text("finance1")
    again.goto(f"{live_server.url}/admin/tickets/ticket/")
    expect(again.locator("#result_list, .paginator").first).to_be_visible()


def test_the_lockout_and_two_factor_pages_in_chinese(browser, live_server, staff, settings):  # noqa: F811
    """A browser that asks for Chinese gets the lockout page in Chinese before anyone logs in; a finance user
    who switches to Chinese sets up two-factor in Chinese."""
    page = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}).new_page()
    guess_wrong(page, live_server, "warehouse1")
    expect(page.locator("#content-main h1")).to_have_text("登录失败次数过多")
    expect(page.locator("#content-main")).to_contain_text("30 分钟")
    shot(page, "login-locked-out-zh")

    settings.STAFF_2FA_REQUIRED = True
    finance = login(browser, live_server, "finance1")
    chinese(finance, live_server)
    expect(finance).to_have_url(re.compile(r"/admin/two-factor/$"))
    expect(finance.locator("#content")).to_contain_text("您的角色要求两步验证登录")
    expect(finance.locator("#two-factor-form [type=submit]")).to_have_value("开启两步验证登录")
    shot(finance, "two-factor-setup-zh")
