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
    expect(page.locator("#result_list")).to_contain_text("¥114.00")
    expect(page.locator("#queue-totals")).to_contain_text("2 refunds in this list, ¥159.00 in all.")
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
    expect(page.locator(".messagelist")).to_contain_text("Paid 1 of 1 refund.")
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

    expect(page.locator(".messagelist")).to_contain_text("Paid 1 of 1 refund.")
    refund.refresh_from_db()
    ticket.refresh_from_db()
    assert (refund.status, ticket.status) == ("succeeded", Ticket.Status.COMPLETED)
    page.goto(f"{live_server.url}/admin/refunds/refund/{refund.pk}/change/")
    expect(page.locator("body")).to_contain_text("transient error")
    shot(page, "finance-refund-attempts")


WORDS = {  # what finance reads, in each language (the Chinese from the catalogue, checked here)
    "en": {"none paid": "Paid 0 of 2 refunds.", "one paid": "Paid 1 of 1 refund.",
           "refused": " refused by the gateway: sandbox: the original payment account refused the refund",
           "declined": "the original payment account refused the refund"},
    "zh-hans": {"none paid": "已支付 0 / 2 笔退款。", "one paid": "已支付 1 / 1 笔退款。",
                "refused": " 被支付渠道拒绝：沙箱：原支付账户拒绝了退款", "declined": "原支付账户拒绝了退款"},
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_finance_pays_two_while_the_http_sandbox_declines_then_after_it_recovers(
        browser, live_server, staff, buyer, settings, language):  # noqa: F811
    """Refusals are loud (issue #21): the message names both tickets as refused with the gateway's reason, the
    queue marks them and its filter finds them, the ticket shows the banner; once the sandbox pays again,
    one is paid and its refused record leaves finance's work list. Ticked rows total live, with the sign."""
    import threading

    from refunds.models import Refund
    from refunds.sandbox import Faults, Sandbox, SandboxServer

    server = SandboxServer(("127.0.0.1", 0), Sandbox(Faults(decline_rate=1.0), seed=1))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.REFUND_GATEWAY = "refunds.sandbox.HttpGateway"
    settings.REFUND_GATEWAY_URL = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        blender = approved(buyer, staff, [("general", "1089.00", 1, None), ("general", "12.50", 2, None)])
        kettle = approved(buyer, staff, [("general", "45.00", 1, None)])
        UserFactory(username="newfinance", groups=["finance"])
        page = login(browser, live_server, "newfinance")
        if language != "en":
            chinese(page, live_server)
        page.goto(f"{live_server.url}/admin/refunds/refundqueueticket/")
        expect(page.locator("#queue-totals")).to_contain_text("¥1,159.00")
        page.check(f"input[name=_selected_action][value='{blender.pk}']")
        expect(page.locator("#ticked-total")).to_contain_text("¥1,114.00")
        page.check(f"input[name=_selected_action][value='{kettle.pk}']")
        expect(page.locator("#ticked-total")).to_contain_text("¥1,159.00")
        shot(page, f"finance-ticked-total-{language}")
        page.select_option("select[name=action]", "finance_approve_selected")
        page.click("button[name=index]")
        page.click("#confirm-form [type=submit]")

        said, words = page.locator(".messagelist"), WORDS[language]
        expect(said).to_contain_text(words["none paid"])
        for ticket in (blender, kettle):
            expect(said).to_contain_text(f"{ticket.ticket_no}{words['refused']}")
        expect(page.locator("#result_list .refund-refused")).to_have_count(2)
        shot(page, f"finance-refused-{language}")
        page.goto(f"{live_server.url}/admin/refunds/refundqueueticket/?refund=refused")
        expect(page.locator("#result_list")).to_contain_text(blender.ticket_no)
        expect(page.locator("#result_list")).to_contain_text(kettle.ticket_no)
        page.click(f"#result_list a:text-is('{kettle.ticket_no}')")  # finance's view, from its own queue
        expect(page.locator(".breadcrumbs a[href$='?refund=refused']")).to_have_count(1)
        expect(page.locator("#refund-banner")).to_contain_text(words["declined"])
        shot(page, f"finance-refused-banner-{language}")

        server.sandbox.faults = Faults()  # the provider pays again
        page.click("#finance_approve-form [type=submit]")
        page.click("#confirm-form [type=submit]")
        expect(page.locator(".messagelist")).to_contain_text(words["one paid"])
        assert page.url.endswith("/admin/refunds/refundqueueticket/?refund=refused")  # back in the queue, filtered
        expect(page.locator("#result_list")).not_to_contain_text(kettle.ticket_no)
        shot(page, f"finance-back-in-queue-{language}")
        kettle.refresh_from_db()
        assert kettle.status == Ticket.Status.COMPLETED
        assert Refund.objects.get(ticket=kettle, status="failed").superseded_by.status == "succeeded"
        page.goto(f"{live_server.url}/admin/refunds/refund/?needs=failed")
        expect(page.locator("#result_list")).to_contain_text(blender.ticket_no)
        expect(page.locator("#result_list")).not_to_contain_text(kettle.ticket_no)
        shot(page, f"finance-work-list-after-{language}")
    finally:
        server.shutdown()
        server.server_close()
