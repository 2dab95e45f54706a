"""Ops' small tools around the review page (issue #21), through Django's test client: the due time in words
and local time, no dead History button, reply templates titled in the reader's language, an order's page
linking to its tickets, and an invalid date in the queue's range filter named instead of ignored."""

import datetime as dt
import re

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from demo import journeys
from tests.factories import make_order, submit
from tickets.models import ReplyTemplate, Ticket

pytestmark = pytest.mark.django_db


def client_of(user, language: str = "en") -> Client:
    """A logged-in client whose browser asks for ``language`` (its header and the switcher's cookie)."""
    client = Client(headers={"accept-language": language})
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    return client


def page(client, ticket) -> str:
    return client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()


def listed(client, **params):
    response = client.get(reverse("admin:tickets_ticket_changelist"), params, follow=True)
    html = response.content.decode()
    return re.findall(r'<th class="field-ticket_no"><a[^>]*>([^<]+)</a>', html), html


# --- the ticket page ------------------------------------------------------------------------------------------


def test_the_page_shows_what_is_due_in_words_and_in_local_time(ops_user, buyer, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    with time_machine.travel(dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC), tick=False):  # 09:00 in Shanghai
        ticket = submit(make_order(buyer=buyer))
    ticket.refresh_from_db()
    due_local = ticket.next_deadline_at.astimezone(dt.timezone(dt.timedelta(hours=8)))

    with time_machine.travel(ticket.next_deadline_at - dt.timedelta(hours=3, minutes=20), tick=False):
        soon = page(client_of(ops_user), ticket)
    with time_machine.travel(ticket.next_deadline_at + dt.timedelta(days=2, hours=5), tick=False):
        late = page(client_of(ops_user), ticket)

    due = re.search(r'<div class="span-2" id="due">(.*?)</div>', soon, re.S).group(1)
    assert "Ops review" in due and "in 3 h 20 min" in due
    assert due_local.strftime("%Y-%m-%d %H:%M") in due  # local, to the minute
    assert ":00." not in due and "+00:00" not in due
    overdue = re.search(r'id="due">(.*?)</div>', late, re.S).group(1)
    assert '<span class="overdue">overdue 2 d 5 h</span>' in overdue


def test_a_finished_ticket_says_nothing_is_due(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), Ticket.Status.REJECTED, staff=staff)

    assert "nothing due of anyone" in page(client_of(staff["ops"]), ticket)


def test_the_page_has_no_history_button_leading_to_django_s_empty_log(ops_user, buyer):
    ticket = submit(make_order(buyer=buyer))

    html = page(client_of(ops_user), ticket)

    assert 'class="object-tools"' not in html
    assert reverse("admin:tickets_ticket_history", args=[ticket.pk]) not in html
    assert "Change history (audit)" in html  # the page's own history stays


def test_the_order_on_the_ticket_page_links_to_the_order(ops_user, buyer):
    ticket = submit(make_order(buyer=buyer))

    assert f'href="{reverse("admin:orders_order_change", args=[ticket.order_id])}"' in page(client_of(ops_user), ticket)


# --- reply templates --------------------------------------------------------------------------------------------


def test_every_installed_reply_template_has_a_chinese_title():
    assert not ReplyTemplate.objects.filter(title_zh="").exists()
    assert ReplyTemplate.objects.count() == 13


def test_reply_templates_are_titled_in_the_reader_s_language_and_their_text_is_on_the_page(ops_user, buyer):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue")
    template = ReplyTemplate.objects.get(title="Re-ship the part, at our cost")

    english = page(client_of(ops_user), ticket)
    with translation.override("zh-hans"):
        chinese = page(client_of(ops_user, "zh-hans"), ticket)

    assert "<strong>Re-ship the part, at our cost</strong>" in english
    assert "<strong>补发配件，费用我们承担</strong>" in chinese
    assert "Re-ship the part, at our cost" not in chinese
    for html in (english, chinese):  # the text itself, not only a tooltip
        assert re.search(rf'<div class="reply-text" id="reply-{template.pk}">{re.escape(template.text)}</div>', html)
        assert f'title="{template.text}"' not in html


def test_a_template_without_a_chinese_title_shows_its_title_in_chinese_too():
    template = ReplyTemplate(step="soothe", title="Thank you", text="谢谢")

    assert (template.localized_title("zh-hans"), template.localized_title("en")) == ("Thank you", "Thank you")
    template.title_zh = "谢谢您"
    assert (template.localized_title("zh-hans"), template.localized_title("en")) == ("谢谢您", "Thank you")


# --- an order's page ----------------------------------------------------------------------------------------------


def test_an_order_s_page_links_to_each_of_its_tickets_and_to_the_queue_filtered_to_it(staff, buyer):
    order = make_order(buyer=buyer, lines=(("general", "10.00", 1, None), ("general", "20.00", 1, None)))
    first = submit(order, lines=[(0, 1)])
    second = journeys.advance(submit(order, lines=[(1, 1)]), Ticket.Status.REJECTED, staff=staff)
    other = submit(make_order(buyer=buyer))
    ops = client_of(staff["ops"])

    html = ops.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    for ticket in (first, second):
        assert f'href="{reverse("admin:tickets_ticket_change", args=[ticket.pk])}"' in html
        assert ticket.ticket_no in html
    assert "return and refund · rejected" in html
    assert other.ticket_no not in html
    queue = re.search(r'<a href="([^"]*order__id__exact=[^"]*)">all 2 tickets of this order in the queue</a>', html)
    found, _html = listed(ops, **dict(pair.split("=") for pair in queue.group(1).split("?")[1].split("&")))
    assert sorted(found) == sorted([first.ticket_no, second.ticket_no])


def test_an_order_without_tickets_says_so(ops_user, buyer):
    order = make_order(buyer=buyer)

    html = client_of(ops_user).get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert "after-sales tickets" in html.lower()
    assert reverse("admin:tickets_ticket_changelist") + "?order__id__exact" not in html


# --- the queue's date range ----------------------------------------------------------------------------------------


def test_an_invalid_date_in_the_range_is_named_and_the_valid_end_still_applies(ops_user, buyer):
    with time_machine.travel(dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC), tick=False):
        early = submit(make_order(buyer=buyer))
    with time_machine.travel(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC), tick=False):
        late = submit(make_order(buyer=buyer))

    found, html = listed(client_of(ops_user), created_at__range__gte="2026-11-15",
                         created_at__range__lte="2026-13-45")

    assert found == [late.ticket_no] and early.ticket_no not in found  # the "from" end still holds
    assert html.count("is not a date") == 1
    assert "“applied at”, to date: “2026-13-45” is not a date, so the list is not limited by it." in html
    assert "created_at__range__lte" not in html.split("is not a date")[0][-200:]  # named in words, not by code


def test_an_invalid_date_is_named_in_chinese_too(ops_user, buyer):
    submit(make_order(buyer=buyer))

    with translation.override("zh-hans"):
        found, html = listed(client_of(ops_user, "zh-hans"), created_at__range__gte="yesterday")

    assert len(found) == 1  # nothing limited by a date that is none
    assert "“yesterday”" in html and "messagelist" in html
