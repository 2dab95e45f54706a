"""Ops' day in a real browser (headless Chromium, 1440×900), a user newly added to ops: the home leads to
"my open work", and a decision lands on the next ticket of the same queue: open, decide, confirm — three
clicks from the queue to the next ticket. The same in Chinese."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from aftersales import clock
from demo import journeys
from tests.edges.test_admin_browser import browser, chinese, login, shot  # noqa: F401 (browser: a fixture)
from tests.factories import UserFactory, make_order, submit
from tickets.models import Ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
S = Ticket.Status


class Clicks:
    """The page's clicks, counted: what the reviewer pays for each ticket."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def click(self, selector: str) -> None:
        self.count += 1
        self.page.click(selector)


def open_work(buyer, staff) -> list[Ticket]:
    """Three claims waiting for ops, due one hour apart, and tickets that are not ops' work now."""
    waiting = []
    for hours in (1, 2, 3):
        ticket = submit(make_order(buyer=buyer, lines=[("general", "59.00", 1, None)]), type="return_refund",
                        reason_code="quality_issue")
        Ticket.objects.filter(pk=ticket.pk).update(next_deadline_at=clock.now() + dt.timedelta(hours=hours))
        waiting.append(ticket)
    for status in (S.AWAITING_REFUND, S.COMPLETED, S.CANCELLED):
        journeys.advance(submit(make_order(buyer=buyer)), status, staff=staff)
    return waiting


def approve_and_next(page, live_server, first: Ticket, second: Ticket, *, name: str) -> tuple[int, str]:
    """From the home's "my open work" tile: open the first ticket, approve, confirm; returns the clicks it
    took from the queue to the next ticket, and what the message said."""
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#home-queues .queue-tile").first).to_have_id("queue-tickets_open")
    expect(page.locator("#queue-tickets_open .waiting strong")).to_have_text("3")
    shot(page, f"{name}-home")
    page.click("#queue-tickets_open")
    expect(page.locator("#queue-views li.active")).to_have_count(1)
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)  # awaiting refund, completed and cancelled are hidden
    expect(rows.first).to_contain_text(first.ticket_no)
    shot(page, f"{name}-open-work")
    queue_url = page.url

    clicks = Clicks(page)
    clicks.click(f"#result_list >> text={first.ticket_no}")  # open
    clicks.click("#approve-form [type=submit]")  # decide
    expect(page.locator("#confirm-action")).to_be_visible()
    expect(page.locator("#back-to-queue")).to_have_attribute("href", re.compile(r"status__exact=pending_review"))
    shot(page, f"{name}-approve-confirmation")
    clicks.click("#confirm-form [type=submit]")  # confirm

    expect(page).to_have_url(re.compile(rf"/admin/tickets/ticket/{second.pk}/change/\?_changelist_filters="))
    expect(page.locator(".messagelist")).to_contain_text(first.ticket_no)
    expect(page.locator(".messagelist")).to_contain_text(second.ticket_no)
    expect(page.locator("#approve-form")).to_be_visible()  # the next one, ready to decide
    shot(page, f"{name}-next-ticket")
    said = page.locator(".messagelist").inner_text()
    page.click("#back-to-queue")  # the breadcrumb: the same filtered queue, without the ticket just done
    assert page.url == queue_url
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    return clicks.count, said


def test_a_new_ops_user_approves_and_lands_on_the_next_ticket_in_three_clicks(browser, live_server, staff, buyer):  # noqa: F811
    first, second, _third = open_work(buyer, staff)
    UserFactory(username="newops", groups=["ops"])
    page = login(browser, live_server, "newops")

    clicks, said = approve_and_next(page, live_server, first, second, name="flow")

    assert clicks == 3  # open, decide, confirm
    assert said == f"{first.ticket_no}: Approved. Next in the queue: {second.ticket_no}."
    first.refresh_from_db()
    assert first.status == S.AWAITING_RETURN
    expect(page.locator(".messagelist")).to_have_count(0)


def test_the_same_in_chinese(browser, live_server, staff, buyer):  # noqa: F811
    first, second, _third = open_work(buyer, staff)
    UserFactory(username="newops-zh", groups=["ops"])
    page = login(browser, live_server, "newops-zh")
    chinese(page, live_server)

    clicks, said = approve_and_next(page, live_server, first, second, name="flow-zh")

    assert clicks == 3
    # No English word of ours on the way: the message, the home's tile, the views.
    assert not re.search("[A-Za-z]{3,}", said.replace(first.ticket_no, "").replace(second.ticket_no, "")), said
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#home-queues")).not_to_contain_text(re.compile("waiting|due today|overdue|open work"))
    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    expect(page.locator("#queue-views")).not_to_contain_text(re.compile("My open work|All tickets|Save or manage"))
    first.refresh_from_db()
    assert first.status == S.AWAITING_RETURN


def test_ops_saves_a_view_and_tickets_opens_on_it(browser, live_server, staff, buyer):  # noqa: F811
    waiting = open_work(buyer, staff)
    UserFactory(username="viewops", groups=["ops"])
    page = login(browser, live_server, "viewops")
    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    page.click("text=All tickets")
    expect(page.locator("#result_list tbody tr")).to_have_count(6)

    page.click("#views-panel summary")
    page.fill("#id_view_name", "Everything")
    page.check("#save-view-form [name=make_default]")
    shot(page, "flow-save-view")
    page.press("#id_view_name", "Enter")  # Enter in the name saves the view, nothing else

    expect(page.locator(".messagelist")).to_contain_text("Everything")
    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    expect(page.locator("#queue-views li.active")).to_contain_text("Everything")
    expect(page.locator("#result_list tbody tr")).to_have_count(6)
    shot(page, "flow-own-default-view")
    assert all(Ticket.objects.get(pk=t.pk).status == S.PENDING_REVIEW for t in waiting)
