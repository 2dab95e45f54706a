"""Issue #21, words, in a real browser: the language chosen on the login page and kept on the account (it
follows the user to another browser), the refusal page in the back office's look, the calendar in Chinese."""

import re

import pytest
from playwright.sync_api import expect

from access.models import LanguagePreference
from tests.edges.test_admin_browser import browser, shot  # noqa: F401 - browser is a fixture
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VIEWPORT = {"width": 1440, "height": 900}


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-1234")
    page.click("#login-form [type=submit]")


def test_the_language_chosen_at_login_follows_the_account_to_another_browser(browser, live_server):  # noqa: F811
    UserFactory(username="newops", groups=["ops"])
    page = browser.new_page(viewport=VIEWPORT, locale="en-US")
    page.goto(f"{live_server.url}/admin/login/")
    expect(page.locator("#login-form [type=submit]")).to_have_value("Log in")

    page.select_option("#language-select", "zh-hans")
    page.click("#language-switcher [type=submit]")
    expect(page.locator("#login-form [type=submit]")).to_have_value("登录")
    expect(page.locator("#language-select")).to_have_value("zh-hans")
    shot(page, "login-language-switcher-chinese")
    page.fill("#id_username", "newops")
    page.fill("#id_password", "pass-1234")
    page.click("#login-form [type=submit]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert LanguagePreference.objects.get(user__username="newops").language == "zh-hans"
    page.click("#logout-form [type=submit]")

    elsewhere = browser.new_page(viewport=VIEWPORT, locale="en-US")  # another browser, asking for English
    elsewhere.goto(f"{live_server.url}/admin/login/")
    expect(elsewhere.locator("#login-form [type=submit]")).to_have_value("Log in")
    log_in(elsewhere, live_server, "newops")
    expect(elsewhere.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(elsewhere.locator("#site-name")).to_contain_text("售后管理后台")
    shot(elsewhere, "language-kept-on-the-account")

    elsewhere.select_option("#language-select", "en")  # back to English in the header: kept too
    elsewhere.click("#language-switcher [type=submit]")
    expect(elsewhere.locator("html")).to_have_attribute("lang", "en")
    assert LanguagePreference.objects.get(user__username="newops").language == "en"


def test_a_page_the_role_does_not_open_is_refused_in_the_admin_s_look(browser, live_server):  # noqa: F811
    UserFactory(username="newclerk", groups=["warehouse"])
    page = browser.new_page(viewport=VIEWPORT, locale="zh-CN")
    log_in(page, live_server, "newclerk")

    answer = page.goto(f"{live_server.url}/admin/auth/user/")

    assert answer.status == 403
    expect(page.locator("#content h1")).to_have_text("您无权打开此页面")
    expect(page.locator("#refusal")).to_contain_text("您的角色无权打开此页面")
    expect(page.locator("#site-name")).to_be_visible()
    box = page.locator("#refusal").evaluate(
        "e => { const s = getComputedStyle(e); return [s.borderTopStyle, s.backgroundColor]; }")
    assert box[0] == "solid" and box[1] not in ("rgba(0, 0, 0, 0)", "transparent")  # its stylesheet applies
    shot(page, "refusal-403-chinese")
    page.click("#refusal a.button")
    expect(page).to_have_url(re.compile(r"/admin/$"))


def test_the_queue_s_calendar_names_the_weekdays_in_chinese(browser, live_server):  # noqa: F811
    UserFactory(username="newops2", groups=["ops"])
    page = browser.new_page(viewport=VIEWPORT, locale="zh-CN")
    log_in(page, live_server, "newops2")
    page.goto(f"{live_server.url}/admin/tickets/ticket/")

    page.locator("#calendarlink0").click()
    calendar = page.locator(".calendarbox").first
    expect(calendar).to_be_visible()

    expect(calendar.locator("th")).to_have_text(["一", "二", "三", "四", "五", "六", "日"])  # the week starts on Monday
    expect(calendar.locator("caption")).to_contain_text("月")
    shot(page, "calendar-chinese")
