"""The review page in a real browser (headless Chromium): ops decides, finance pays, what they see."""

import datetime as dt
import re
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from playwright.sync_api import expect, sync_playwright

from aftersales import clock
from demo import journeys
from refunds import services as refunds
from tests.factories import UserFactory, client_for, make_order, submit
from tickets.models import Ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]


# Every page the browser tests open is watched for Content-Security-Policy violations, by two ears: Chromium's
# own console message ("Refused to execute inline script because it violates the following Content Security
# Policy directive ...") and the page's securitypolicyviolation event, listened to before any script of the
# page runs and said on the console too. The `browser` fixture fails the test that saw one.
CSP_VIOLATION_LISTENER = """document.addEventListener("securitypolicyviolation", (e) => console.error(
    `CSP violation: ${e.effectiveDirective} refused ${e.blockedURI || "an inline script or style"}`
    + ` (${e.sourceFile || document.URL}:${e.lineNumber})`), true);"""


def is_csp_violation(message) -> bool:
    return message.text.startswith("CSP violation:") or "Content Security Policy" in message.text


class WatchedBrowser:
    """Chromium, whose every new page (each in a context of its own, as Browser.new_page does) and every
    window it opens (the admin's related-object popups) is watched: `violations` collects what they report."""

    def __init__(self, chromium):
        self.chromium, self.violations, self.contexts = chromium, [], []

    def new_page(self, **options):
        context = self.chromium.new_context(**options)
        context.add_init_script(CSP_VIOLATION_LISTENER)
        context.on("console", lambda message: self.heard(context, message))
        self.contexts.append(context)
        return context.new_page()

    def heard(self, context, message) -> None:
        if is_csp_violation(message):
            self.violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def settle(self) -> None:
        """A round trip to every open page, once loaded, delivers what its console said before (messages
        come in order)."""
        for context in self.contexts:
            for page in context.pages:
                page.wait_for_load_state()
                page.evaluate("0")

    def __getattr__(self, name):
        return getattr(self.chromium, name)


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
    # synchronous, so Django's guard against ORM use from async code does not apply here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        watched = WatchedBrowser(p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS))
        yield watched
        watched.settle()
        watched.chromium.close()
    assert watched.violations == [], "the Content-Security-Policy refused something:\n" + "\n".join(
        watched.violations)


def login(browser, live_server, username):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass-1234")
    page.click("#login-form [type=submit]")
    return page


def shot(page, name: str) -> None:
    """Screenshots are test artifacts (test-artifacts/screenshots/), for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_ops_lowers_the_amount_only_with_a_reason_and_finance_pays(browser, live_server, staff, buyer):
    order = make_order(buyer=buyer, lines=[("general", "120.00", 1, None)])
    ticket = submit(order, type="refund_only", reason_code="missing_parts", photos=1)
    page = login(browser, live_server, "ops1")
    page.goto(f"{live_server.url}/admin/tickets/ticket/?status__exact=pending_review")
    page.click(f"text={ticket.ticket_no}")
    expect(page.locator("#review-panel")).to_contain_text("120.00")

    page.fill("#approve_refund_amount", "100.00")
    page.click("#approve-form [type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("Fee reason: This field is required")
    expect(page.locator("#approve_refund_amount")).to_have_value("100.00")  # what was typed is kept
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING_REVIEW

    page.fill("#approve_fee_reason", "Box opened: 20.00 restocking fee agreed with the buyer")
    page.click("#approve-form [type=submit]")
    expect(page.locator("#confirm-action")).to_contain_text("100.00")  # asked first, with the amount
    shot(page, "ops-approve-confirmation")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING_REVIEW
    page.click("#confirm-form [type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("Approved")
    # Opened from the queue: the next ticket of it would open; none is left, so the queue does, with a word.
    expect(page.locator(".messagelist")).to_contain_text("Nothing else is left in this queue")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.refund_amount, ticket.service_fee) == (
        Ticket.Status.AWAITING_REFUND, Decimal("100.00"), Decimal("20.00"))
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    expect(page.locator("#review-panel")).not_to_contain_text("Reject")  # decided: no more buttons for ops

    finance = login(browser, live_server, "finance1")
    finance.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    expect(finance.locator("#finance-form")).to_contain_text("Refund ¥100.00")
    finance.click("#finance_approve-form [type=submit]")
    expect(finance.locator("#confirm-action")).to_contain_text("Yes, pay ¥100.00")
    finance.click("#confirm-form [type=submit]")
    expect(finance.locator(".messagelist")).to_contain_text("Paid 1 of 1 refund.")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.COMPLETED
    assert ticket.refunds.get().amount == Decimal("100.00")


def test_enter_in_the_rejection_reason_rejects_with_that_reason(browser, live_server, staff, buyer):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue")
    page = login(browser, live_server, "ops1")
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    shot(page, "ops-review-panel")

    page.click("#reply-templates summary")
    page.click("#reply-templates .insert-reply >> nth=0")  # one click: the reply is in the note
    page.click("#note-form [type=submit]")
    expect(page.locator("#notes")).to_contain_text("亲的心情我们理解呢")

    page.fill("#reject_reason", "Photos show normal wear.")
    page.press("#reject_reason", "Enter")

    expect(page.locator(".messagelist")).to_contain_text("Rejected")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rejection_reason) == (Ticket.Status.REJECTED, "Photos show normal wear.")
    assert not ticket.events.filter(transition="approve").exists()


def test_enter_in_the_send_back_reason_sends_back_and_pays_nothing(browser, live_server, staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), Ticket.Status.AWAITING_REFUND, staff=staff)
    page = login(browser, live_server, "finance1")
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    shot(page, "finance-panel")

    page.fill("#finance_reject_reason", "The fee is not explained.")
    page.press("#finance_reject_reason", "Enter")

    expect(page.locator(".messagelist")).to_contain_text("Sent back to ops")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.finance_rejection_reason) == (Ticket.Status.PENDING_REVIEW,
                                                                "The fee is not explained.")
    assert not ticket.refunds.exists()


def test_ops_re_ships_a_missing_part_and_enter_in_its_note_re_ships_only(browser, live_server, staff, buyer):
    order = make_order(buyer=buyer, lines=[("general", "89.00", 1, None), ("general", "12.00", 2, None)])
    ticket = submit(order, type="refund_only", reason_code="missing_parts", photos=1)
    charger = ticket.lines.order_by("pk")[1]
    page = login(browser, live_server, "ops1")
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")

    page.fill(f"#reship_part_{charger.pk}", "1")
    page.fill("#reship_note", "Charger missing from the box: sending one.")
    page.press("#reship_note", "Enter")  # this form's action, nothing else

    expect(page.locator(".messagelist")).to_contain_text("Re-ship recorded")
    expect(page.locator("#reship-info")).to_contain_text(f"{charger.order_line.product_name} × 1")
    expect(page.locator("#reship-info")).to_contain_text("not shipped yet")
    shot(page, "ops-reship-recorded")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.AWAITING_EXCHANGE
    assert list(ticket.outbound_requests.get().lines.values_list("order_line_id", "quantity")) == [
        (charger.order_line_id, 1)]
    assert not ticket.events.filter(transition__in=["approve", "compensate"]).exists()


def test_a_warehouse_clerk_sees_no_review_buttons(browser, live_server, staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), Ticket.Status.PENDING_REVIEW, staff=staff)
    page = login(browser, live_server, "warehouse1")
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")

    expect(page.locator("#note-form")).to_be_visible()
    expect(page.locator("#approve-form")).to_have_count(0)
    expect(page.locator("#finance_approve-form")).to_have_count(0)


def test_a_new_ops_user_works_the_queue_at_1440_px(browser, live_server, staff, buyer):
    """A user newly added to ops (the group alone) sees the queue, due first, and all of it fits the screen."""
    UserFactory(username="newops", groups=["ops"])
    with time_machine.travel(clock.now() - dt.timedelta(days=3), tick=False):
        overdue = submit(make_order(buyer=buyer))
    sent_back = journeys.advance(submit(make_order(buyer=buyer)), Ticket.Status.AWAITING_REFUND, staff=staff)
    refunds.finance_reject_ticket(ticket_id=sent_back.pk, actor=staff["finance"], reason="Fee not explained.")
    page = login(browser, live_server, "newops")

    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    shot(page, "ops-queue")
    expect(page.locator("#result_list tbody tr").first).to_contain_text(overdue.ticket_no)
    expect(page.locator("#result_list .overdue").first).to_be_visible()
    table, room = page.evaluate("[document.querySelector('#result_list').scrollWidth,"
                                " document.querySelector('.changelist-form-container').clientWidth]")
    assert table <= room, f"the list needs {table} px, the screen gives it {room}"

    page.click("text=sent back by finance")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody")).to_contain_text(sent_back.ticket_no)


def test_ops_hides_reorders_and_freezes_columns_and_finds_them_so_after_logging_in_again(
        browser, live_server, staff, buyer):
    submit(make_order(buyer=buyer))
    UserFactory(username="colops", groups=["ops"])
    page = login(browser, live_server, "colops")
    page.goto(f"{live_server.url}/admin/tickets/ticket/")

    page.click("#columns-panel summary")
    page.uncheck("#column-choices input[value=shop_name]")
    due = page.locator("#column-choices li", has=page.locator("input[value=due]")).locator(".drag-handle")
    order_no = page.locator("#column-choices li", has=page.locator("input[value=order_no]"))
    due.drag_to(order_no)  # SortableJS: "due" now stands before "order no"
    page.select_option("#id_frozen", "2")
    shot(page, "ops-columns-panel")
    page.click("#columns-form input[type=submit]:not([name])")

    again = login(browser, live_server, "colops")  # a new browser context: a new session
    again.goto(f"{live_server.url}/admin/tickets/ticket/")
    headers = again.locator("#result_list thead th").evaluate_all("cells => cells.map(c => c.className)")
    names = [next((c[len("column-"):] for c in cls.split() if c.startswith("column-")), "") for cls in headers]
    assert names[1:4] == ["ticket_no", "due", "order_no"]
    assert "shop_name" not in names
    expect(again.locator("#result_list tbody td.frozen").first).to_be_visible()  # the first columns stay put
    assert again.locator("#result_list tbody tr").first.locator(".frozen").count() == 3  # checkbox + 2
    shot(again, "ops-queue-own-columns")


def test_ops_switches_to_chinese_from_the_header_and_works_in_it(browser, live_server, staff, buyer):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue", photos=1)
    page = login(browser, live_server, "ops1")
    page.goto(f"{live_server.url}/admin/tickets/ticket/")

    page.select_option("#language-select", "zh-hans")
    page.click("#language-switcher [type=submit]")

    expect(page.locator("#result_list thead")).to_contain_text("售后单号")
    shot(page, "ops-queue-zh")
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    expect(page.locator("#review-panel")).to_contain_text("待审核")
    shot(page, "ops-review-panel-zh")
    page.fill("#reject_reason", "照片显示正常磨损。")
    page.press("#reject_reason", "Enter")
    expect(page.locator(".messagelist")).to_contain_text("已拒绝")


def chinese(page, live_server):
    page.goto(f"{live_server.url}/admin/")
    page.select_option("#language-select", "zh-hans")
    page.click("#language-switcher [type=submit]")


def test_each_role_new_to_its_group_works_in_chinese(browser, live_server, staff, buyer):
    """Ops approves (the confirmation in Chinese), finance pays, a new warehouse clerk reads the ticket."""
    ticket = submit(make_order(buyer=buyer, lines=[("general", "88.00", 1, None)]), type="refund_only",
                    reason_code="missing_parts", photos=1)
    UserFactory(username="newfinance", groups=["finance"])
    UserFactory(username="newclerk", groups=["warehouse"])

    ops = login(browser, live_server, "ops1")
    chinese(ops, live_server)
    ops.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    ops.click("#approve-form [type=submit]")
    expect(ops.locator("#confirm-action")).to_contain_text("88.00")
    shot(ops, "ops-approve-confirmation-zh")
    ops.click("#confirm-form [type=submit]")
    expect(ops.locator(".messagelist")).to_contain_text("已同意")

    finance = login(browser, live_server, "newfinance")
    chinese(finance, live_server)
    finance.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    expect(finance.locator("#finance-form")).to_contain_text("88.00")
    shot(finance, "finance-panel-zh")
    finance.click("#finance_approve-form [type=submit]")
    shot(finance, "finance-confirmation-zh")
    finance.click("#confirm-form [type=submit]")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.COMPLETED

    clerk = login(browser, live_server, "newclerk")
    chinese(clerk, live_server)
    clerk.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    expect(clerk.locator("#goods")).to_contain_text("88.00")
    expect(clerk.locator("#approve-form")).to_have_count(0)
    expect(clerk.locator("#reply-templates")).to_have_count(0)  # replies to buyers are ops' work
    shot(clerk, "warehouse-ticket-zh")


def test_the_change_history_names_the_user_the_command_and_raw_sql(browser, live_server, staff, buyer):
    """Issue #14: who changed the ticket, in words: the ops user, the deadline sweep's command, psql."""
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue")
    client_for(staff["ops"]).post(f"/api/v1/staff/tickets/{ticket.ticket_no}/approve/", {}, format="json")
    ticket.refresh_from_db()
    call_command("run_deadlines", "--now", (ticket.return_deadline + dt.timedelta(minutes=1)).isoformat(),
                 stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tickets_ticket SET fee_reason = 'typed in psql' WHERE id = %s", [ticket.pk])

    page = login(browser, live_server, "ops1")
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    page.click("#history summary")
    history = page.locator("#history")
    expect(history).to_contain_text("raw SQL (no request, no task) · changed")
    expect(history).to_contain_text("command run_deadlines · changed")
    expect(history).to_contain_text("ops1 · changed")
    history.scroll_into_view_if_needed()
    shot(page, "ticket-change-history")
def test_the_api_docs_render_every_operation_from_our_own_files(browser, live_server):
    """Swagger UI comes from drf-spectacular-sidecar's static files and starts from a script file of its own:
    it renders under the Content-Security-Policy (the fixture fails on any violation) with no CDN."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(f"{live_server.url}/api/docs/")

    expect(page.locator(".opblock-summary-path[data-path='/api/v1/auth/token/']")).to_be_visible()
    expect(page.locator(".opblock-summary-path[data-path='/api/v1/tickets/{ticket_no}/']").first).to_be_visible()
    assert page.locator(".opblock").count() > 20  # one block per operation of the schema
    shot(page, "api-docs")
    assert [url for url in fetched if not url.startswith(live_server.url)] == []


def test_the_csp_watcher_fails_a_page_with_an_inline_script(browser, live_server, staff):
    """The watcher itself can fail: a script slipped into a page (no nonce) is refused and reported."""
    page = login(browser, live_server, "ops1")
    page.goto(f"{live_server.url}/admin/tickets/ticket/")

    with page.expect_console_message(lambda message: message.text.startswith("CSP violation:")):
        page.evaluate("""() => { const script = document.createElement("script");
                                 script.textContent = "window.injected = true"; document.body.append(script); }""")

    assert page.evaluate("window.injected") is None  # refused, not run
    browser.settle()
    assert any("script-src" in seen and "Content Security Policy" in seen for seen in browser.violations)
    assert any(seen.endswith(")") and "CSP violation: script-src" in seen for seen in browser.violations)
    browser.violations.clear()  # seen and checked; left in place they fail this test at teardown


def test_ops_picks_a_date_in_the_applied_at_filter_with_its_calendar(browser, live_server, staff, buyer):
    """django-admin-rangefilter's date filter is an inline script carrying the response's nonce, which loads
    the admin's calendar with the nonce too: the calendar opens, fills the date, and Search filters."""
    ticket = submit(make_order(buyer=buyer))
    page = login(browser, live_server, "ops1")
    page.goto(f"{live_server.url}/admin/tickets/ticket/")

    dates = page.locator(".admindatefilter").first
    page.click("#calendarlink0")  # the calendar icon beside "From date"
    page.click("#calendarbox0 .calendar-shortcuts a >> text=Today")
    expect(dates.locator("input[type=text]").first).not_to_have_value("")
    dates.locator("input[type=submit]").click()

    expect(page).to_have_url(re.compile(r"created_at__range__gte="))
    expect(page.locator("#result_list tbody")).to_contain_text(ticket.ticket_no)


def test_ops_opens_a_claim_photo_large_in_a_tab_of_its_own(browser, live_server, staff, buyer):
    """The photo is not a page of ours (default-src 'none'), yet the browser's own image viewer styles it
    inline: that is allowed, so the photo shows and nothing is reported."""
    ticket = submit(make_order(buyer=buyer), type="refund_only", reason_code="missing_parts", photos=1)
    page = login(browser, live_server, "ops1")
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")

    with page.context.expect_page() as opened:
        page.click("#photos a >> nth=0")
    photo = opened.value
    photo.wait_for_load_state()

    assert photo.evaluate("[document.contentType, document.images.length, document.images[0].complete]") == [
        "image/png", 1, True]


def test_an_administrator_adds_a_group_from_the_user_page_in_a_popup_window(browser, live_server, staff):
    """The admin's related-object popups are windows, not frames (frame-ancestors 'none' refuses frames), and
    the popup's answer to its opener (popup_response.js) runs under the policy."""
    UserFactory(username="root", is_staff=True, is_superuser=True)
    page = login(browser, live_server, "root")
    page.goto(f"{live_server.url}/admin/auth/user/{staff['ops'].pk}/change/")

    with page.expect_popup() as opened:
        page.click("#add_id_groups")
    popup = opened.value
    popup.wait_for_load_state("load")  # the permissions widget (SelectFilter) rebuilds the form on load
    popup.wait_for_selector("#id_permissions_from")  # ... and is built: what is typed now stays
    popup.fill("#id_name", "returns desk")
    expect(popup.locator("#id_name")).to_have_value("returns desk")
    popup.click("input[name=_save]")
    popup.wait_for_event("close")

    expect(page.locator("#id_groups_to option", has_text="returns desk")).to_have_count(1)  # chosen in the opener
    shot(page, "admin-user-groups")


def test_a_buyer_who_works_here_is_refused_in_words_on_their_own_claim_and_what_they_typed_stays(
        browser, live_server, staff):
    """Separation of duties in the browser (issue #19): a buyer later added to ops opens their own claim; the
    rejection they type is refused, in their language, beside the panel, and the reason stays in its box."""
    from django.contrib.auth.models import Group

    from tests.factories import BuyerFactory

    insider = BuyerFactory(account="insider")
    ticket = submit(make_order(buyer=insider), type="return_refund", reason_code="quality_issue")
    insider.user.set_password("pass-1234")
    insider.user.save()
    insider.user.groups.add(Group.objects.get(name="ops"))
    page = login(browser, live_server, "insider")
    for language, words in (("en", "You filed this claim yourself"), ("zh-hans", "这张售后单是您本人提交的")):
        if language == "zh-hans":
            chinese(page, live_server)
        page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
        page.fill("#reject_reason", "Not worth it")
        page.press("#reject_reason", "Enter")

        expect(page.locator(".messagelist")).to_contain_text(words)
        expect(page.locator("#reject_reason")).to_have_value("Not worth it")
        shot(page, "own-claim-refused" + ("-zh" if language == "zh-hans" else ""))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING_REVIEW


def test_an_administrator_sees_who_holds_api_tokens_and_revokes_one(browser, live_server, staff, buyer):
    """The API tokens (issue #19): who holds one, since when, until when (a staff token's idle expiry, a
    buyer's none); deleting one revokes it."""
    client_for(staff["finance"]), client_for(buyer.user)  # each makes a token
    UserFactory(username="root", is_staff=True, is_superuser=True)
    page = login(browser, live_server, "root")
    page.goto(f"{live_server.url}/admin/access/apitoken/")

    expect(page.locator("#result_list")).to_contain_text("finance1")
    expect(page.locator("#result_list")).to_contain_text("alice")
    shot(page, "admin-api-tokens")
