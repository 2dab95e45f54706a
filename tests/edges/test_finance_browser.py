"""Finance's refund queue in a real browser (headless Chromium, 1440×900): a user newly added to the finance
group checks the amounts line by line and the total, sends one back with Enter in the reason (nothing is
paid), approves another after the confirmation; the same queue in Chinese."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from demo import journeys
from tests.edges.test_admin_browser import browser, chinese, login, shot  # noqa: F401 (browser: a fixture)
from tests.factories import UserFactory, make_order, submit
from tickets.models import Ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def approved(buyer, staff, lines) -> Ticket:
    return journeys.advance(submit(make_order(buyer=buyer, lines=lines), type="refund_only"),
                            Ticket.Status.AWAITING_REFUND, staff=staff)


def choose(page, ticket: Ticket, action: str) -> None:
    page.check(f"input[name=_selected_action][value='{ticket.pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def test_a_new_finance_user_works_the_refund_queue(browser, live_server, staff, buyer):  # noqa: F811
    blender = approved(buyer, staff, [("general", "89.00", 1, None), ("general", "12.50", 2, None)])
    kettle = approved(buyer, staff, [("general", "45.00", 1, None)])
    UserFactory(username="newfinance", groups=["finance"])

    page = login(browser, live_server, "newfinance")
    page.goto(f"{live_server.url}/admin/")
    page.click("a[href='/admin/refunds/refundqueueticket/']")
    expect(page.locator("#result_list")).to_contain_text("12.50 × 2")
    expect(page.locator("#result_list")).to_contain_text("114.00")
    expect(page.locator("#queue-totals")).to_contain_text("2 refunds in this selection, 159.00 in all.")
    shot(page, "finance-refund-queue")

    choose(page, kettle, "finance_send_back_selected")
    page.fill("#id_reason", "The fee is not explained.")
    page.press("#id_reason", "Enter")  # the send-back form's own submit: nothing is paid
    expect(page.locator(".messagelist")).to_contain_text("1 ticket done.")
    kettle.refresh_from_db()
    assert (kettle.status, kettle.finance_rejection_reason) == (Ticket.Status.PENDING_REVIEW,
                                                                "The fee is not explained.")
    assert not kettle.refunds.exists()

    choose(page, blender, "finance_approve_selected")
    expect(page.locator("#confirm-action")).to_contain_text("1 ticket, 114.00 in all.")
    shot(page, "finance-queue-confirmation")
    blender.refresh_from_db()
    assert blender.status == Ticket.Status.AWAITING_REFUND and not blender.refunds.exists()
    page.click("#confirm-form [type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("1 ticket done.")
    blender.refresh_from_db()
    assert blender.status == Ticket.Status.COMPLETED
    assert blender.refunds.get().amount == Decimal("114.00")
    expect(page.locator("#queue-totals")).to_contain_text("0 refunds")


def test_the_refund_queue_in_chinese(browser, live_server, staff, buyer):  # noqa: F811
    approved(buyer, staff, [("general", "89.00", 1, None), ("general", "12.50", 2, None)])
    UserFactory(username="newfinance", groups=["finance"])

    page = login(browser, live_server, "newfinance")
    chinese(page, live_server)
    page.goto(f"{live_server.url}/admin/refunds/refundqueueticket/")

    expect(page.locator("#queue-totals")).to_contain_text("114.00")
    for english in ("Refunds to approve", "refunds to approve", "applied at", "also refunded", "reviewed by ops", "escalated"):
        expect(page.locator("#content")).not_to_contain_text(english)
    shot(page, "finance-refund-queue-zh")


def test_finance_sees_a_stuck_refund_and_sends_it_again(browser, live_server, staff, buyer, settings):  # noqa: F811
    from refunds import services as refunds
    from tests.refunds.conftest import ScriptedGateway

    settings.REFUND_GATEWAY = "tests.refunds.conftest.ScriptedGateway"
    ScriptedGateway.script, ScriptedGateway.calls, ScriptedGateway.status_errors = ["error"], [], 0
    ticket = approved(buyer, staff, [("general", "45.00", 1, None)])
    refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])  # the provider is down
    refund = ticket.refunds.get()
    assert refund.status == "in_progress"

    page = login(browser, live_server, "finance1")
    page.goto(f"{live_server.url}/admin/refunds/refund/?needs=stuck")
    expect(page.locator("#result_list")).to_contain_text("scripted: service unavailable")
    shot(page, "finance-stuck-refund")
    page.check(f"input[name=_selected_action][value='{refund.pk}']")
    page.select_option("select[name=action]", "retry_selected")
    page.click("button[name=index]")

    expect(page.locator(".messagelist")).to_contain_text("1 refund sent again.")
    refund.refresh_from_db()
    ticket.refresh_from_db()
    assert (refund.status, ticket.status) == ("succeeded", Ticket.Status.COMPLETED)
    page.goto(f"{live_server.url}/admin/refunds/refund/{refund.pk}/change/")
    expect(page.locator("body")).to_contain_text("transient error")
    shot(page, "finance-refund-attempts")
