"""Issue #21, words: counts in plural forms in both languages, refusals named by the field's label (never its
code), the reason and the "Staff status" help in the reader's words, a refusal page in the back office's
look, and the language kept on the account."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import reverse

from access.models import LanguagePreference
from config.urls import forbidden
from tests.factories import UserFactory, make_order, submit
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

QUEUE = "/admin/tickets/ticket/"


def staff_client(username: str, groups: list[str], language: str = "en") -> Client:
    client = Client()
    client.force_login(UserFactory(username=username, groups=groups))
    if language != "en":
        client.post(reverse("set_language"), {"language": language, "next": "/admin/"})
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def assign_to_me(client, tickets) -> list[str]:
    response = client.post(QUEUE, {"action": "assign_to_me", "_selected_action": [t.pk for t in tickets]},
                           follow=True)
    return messages_of(response)


@pytest.mark.parametrize(("language", "one", "three"), [
    ("en", "1 ticket done.", "3 tickets done."),
    ("zh-hans", "已处理 1 个售后单。", "已处理 3 个售后单。"),
])
def test_a_list_action_reports_its_count_in_the_language_s_plural_form(buyer, language, one, three):
    tickets = [submit(make_order(buyer=buyer)) for _ in range(4)]
    ops = staff_client(f"ops-{language}", ["ops"], language)

    assert one in assign_to_me(ops, tickets[:1])
    said = assign_to_me(ops, tickets[1:])
    assert three in said
    assert not any("(s)" in message for message in said)
    assert Ticket.objects.filter(assignee__username=f"ops-{language}").count() == 4


def test_a_refusal_on_the_ticket_page_names_the_field_by_its_chinese_label(buyer):
    ticket = submit(make_order(buyer=buyer, lines=[("general", "120.00", 1, None)]), type="refund_only",
                    reason_code="missing_parts", photos=1)
    ops = staff_client("ops-zh", ["ops"], "zh-hans")

    response = ops.post(reverse("admin:tickets_ticket_act", args=[ticket.pk]),
                        {"action": "approve", "refund_amount": "100.00", "fee_reason": ""}, follow=True)

    said = messages_of(response)
    assert len(said) == 1 and said[0].startswith("扣费原因："), said  # the label, its hint in brackets left off
    assert not re.search(r"fee.reason|Fee reason", said[0], re.I)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING_REVIEW


def test_the_ticket_s_basics_name_its_reason_in_chinese(buyer):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue", photos=1)
    ops = staff_client("ops-reason", ["ops"], "zh-hans")

    html = ops.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()

    basics = re.search(r'form-row field-reason">.*?<div class="readonly">(.*?)</div>', html, re.S).group(1)
    assert ticket.reason.name_zh and ticket.reason.name_zh in basics
    assert ticket.reason.name not in basics


@pytest.mark.parametrize(("language", "says", "not_says"), [
    ("en", "Not needed to log in here: a user in a role", "Designates whether the user can log into this admin site"),
    ("zh-hans", "在本系统登录无需此项", "指明用户是否可以登录到这个管理站点"),
])
def test_the_user_admin_says_a_role_s_group_is_enough_to_log_in(language, says, not_says):
    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pass-1234")
    client = Client()
    client.force_login(admin_user)
    client.post(reverse("set_language"), {"language": language, "next": "/admin/"})
    clerk = UserFactory(username="clerk", groups=["warehouse"])

    html = client.get(reverse("admin:auth_user_change", args=[clerk.pk])).content.decode()

    assert says in html
    assert not_says not in html


def test_a_page_the_role_does_not_open_is_refused_in_the_back_office_s_look_in_chinese():
    ops = staff_client("ops-403", ["ops"], "zh-hans")

    response = ops.get(reverse("admin:auth_user_changelist"))

    assert response.status_code == 403
    html = response.content.decode()
    assert 'lang="zh-hans"' in html
    assert "您无权打开此页面" in html and "您的角色无权打开此页面" in html
    assert 'id="site-name"' in html and "access/refusal.css" in html  # the admin's header, its own styles
    assert "403 Forbidden" not in html
    assert " style=" not in html and "<style" not in html  # the CSP allows no inline style


def test_an_expired_form_is_refused_in_the_back_office_s_look_not_django_s_csrf_page():
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("admin:login"), {"username": "x", "password": "y"},
                           headers={"accept-language": "zh-hans"})

    assert response.status_code == 403
    html = response.content.decode()
    assert "此表单已过期" in html and "请返回，刷新页面后重试。" in html
    assert "CSRF verification failed" not in html


def test_a_refusal_under_the_api_is_the_api_s_error_shape():
    response = forbidden(RequestFactory().get("/api/v1/staff/tickets/"))

    assert response.status_code == 403
    assert json.loads(response.content)["code"] == "not_allowed"


def log_in(client: Client, username: str):
    client.get(reverse("admin:login"))
    return client.post(reverse("admin:login"), {"username": username, "password": "pass-1234", "next": "/admin/"})


def test_the_language_chosen_follows_the_account_to_another_browser():
    UserFactory(username="traveller", groups=["finance"])
    first = Client()
    log_in(first, "traveller")
    first.post(reverse("set_language"), {"language": "zh-hans", "next": "/admin/"})
    assert LanguagePreference.objects.get(user__username="traveller").language == "zh-hans"

    second = Client(headers={"accept-language": "en"})  # another browser, which asks for English
    answer = log_in(second, "traveller")

    assert answer.status_code == 302
    assert answer.cookies["django_language"].value == "zh-hans"
    assert 'lang="zh-hans"' in second.get("/admin/").content.decode()


def test_a_language_chosen_on_the_login_page_is_kept_on_the_account_that_logs_in():
    UserFactory(username="newcomer", groups=["ops"])
    browser = Client()
    browser.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("admin:login")})
    assert 'lang="zh-hans"' in browser.get(reverse("admin:login")).content.decode()
    assert not LanguagePreference.objects.exists()  # nobody to keep it for yet

    log_in(browser, "newcomer")

    assert LanguagePreference.objects.get(user__username="newcomer").language == "zh-hans"
    assert 'lang="zh-hans"' in browser.get("/admin/").content.decode()


def test_a_language_the_site_does_not_offer_is_not_kept():
    client = staff_client("ops-fr", ["ops"])

    client.post(reverse("set_language"), {"language": "fr", "next": "/admin/"})

    assert not LanguagePreference.objects.exists()


def test_a_user_with_no_language_chosen_keeps_the_browser_s(staff):
    browser = Client(headers={"accept-language": "zh-hans"})

    answer = log_in(browser, "ops1")

    assert "django_language" not in answer.cookies
    assert 'lang="zh-hans"' in browser.get("/admin/").content.decode()
    assert not LanguagePreference.objects.exists()


def test_the_login_page_offers_the_languages_in_their_own_names():
    html = Client().get(reverse("admin:login")).content.decode()

    switcher = re.search(r'<form action="/i18n/setlang/".*?</form>', html, re.S).group(0)
    assert "English" in switcher and "简体中文" in switcher

