"""The review page and ops' small tools in a real browser (headless Chromium, 1440×900, users newly added to
their group), in English and Chinese (issue #21): only the actions that fit the ticket, its due time, no box
spilling out of its column, reply templates inserted where the cursor is, the queue's columns and the reasons
reordered by keyboard (and reasons by drag)."""

import re

import pytest
from playwright.sync_api import expect

from demo import journeys
from reasons.models import Reason
from tests.edges.test_admin_browser import (  # noqa: F401 (browser: a fixture)
    ARTIFACTS,
    browser,
    chinese,
    login,
)
from tests.factories import UserFactory, make_order, submit
from tickets.models import Ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LOCAL_MINUTE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")

# Every box of the review panel's forms (a field's block, its input, its label) within its form, and every form
# within the main column: what the issue saw spill ("Compensation beside it") is measured, not eyeballed.
SPILLS = """() => {
  const main = document.querySelector('#review-panel .main').getBoundingClientRect();
  const out = [];
  for (const form of document.querySelectorAll('#review-panel .main form.panel-form')) {
    const box = form.getBoundingClientRect();
    if (box.right > main.right + 0.5) out.push(`${form.id} ends at ${box.right}, its column at ${main.right}`);
    for (const el of form.querySelectorAll('.grid > div, input, select, label')) {
      const r = el.getBoundingClientRect();
      if (r.width && r.right > box.right + 0.5) out.push(`${form.id} ${el.tagName} ${el.className || el.id}: ${r.right} > ${box.right}`);
    }
  }
  return out;
}"""


def full_shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def forms_on(page) -> set[str]:
    return set(page.locator("#review-panel form.panel-form").evaluate_all("forms => forms.map(f => f.id)"))


def test_a_refund_only_claim_offers_what_fits_shows_its_due_time_and_nothing_spills(
        browser, live_server, staff, buyer):  # noqa: F811
    order = make_order(buyer=buyer, lines=[("general", "89.00", 1, None), ("general", "12.00", 2, None)])
    ticket = submit(order, type="refund_only", reason_code="missing_parts", photos=1)
    UserFactory(username="newops", groups=["ops"])
    page = login(browser, live_server, "newops")
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")

    assert forms_on(page) == {"approve-form", "reject-form", "compensate-form", "reship-form", "note-form"}
    expect(page.locator("#approve_return_address")).to_have_count(0)  # nothing comes back
    expect(page.locator("#approve_return_contact")).to_have_count(0)
    expect(page.locator("#due")).to_contain_text("Ops review · in 1 d 23 h")
    assert LOCAL_MINUTE.search(page.locator("#due").inner_text().strip())
    expect(page.locator(".object-tools")).to_have_count(0)  # no grey History over "Change history"
    assert page.evaluate(SPILLS) == []
    compensation, reship = (page.locator(s).bounding_box() for s in ("#reship_compensation", "#reship-form"))
    assert compensation["x"] + compensation["width"] <= reship["x"] + reship["width"]
    full_shot(page, "review-refund-only")

    chinese(page, live_server)
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    expect(page.locator("#review-panel")).to_contain_text("待审核")
    assert forms_on(page) == {"approve-form", "reject-form", "compensate-form", "reship-form", "note-form"}
    assert LOCAL_MINUTE.search(page.locator("#due").inner_text().strip())
    assert page.evaluate(SPILLS) == []
    full_shot(page, "review-refund-only-zh")


def test_a_return_whose_goods_are_back_offers_no_reship_or_retention(browser, live_server, staff, buyer):  # noqa: F811
    ticket = journeys.advance(submit(make_order(buyer=buyer)), Ticket.Status.AWAITING_RETURN, staff=staff)
    journeys.receive_damaged(ticket, staff)
    UserFactory(username="newops", groups=["ops"])
    page = login(browser, live_server, "newops")
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")

    expect(page.locator("#inspection-result")).to_be_visible()
    assert forms_on(page) == {"approve-form", "reject-form", "compensate-form", "note-form"}
    expect(page.locator("#approve_return_address")).to_have_count(0)  # the goods are in the warehouse already
    expect(page.locator("#due")).to_contain_text("Ops review")
    assert page.evaluate(SPILLS) == []
    full_shot(page, "review-return-goods-back")

    chinese(page, live_server)
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    assert forms_on(page) == {"approve-form", "reject-form", "compensate-form", "note-form"}
    full_shot(page, "review-return-goods-back-zh")


def test_a_return_in_review_takes_the_return_contact_and_phone_on_approval(browser, live_server, staff, buyer):  # noqa: F811
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue")
    page = login(browser, live_server, "ops1")
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")

    assert "retention-form" in forms_on(page)  # the buyer still has the goods: retention fits
    page.fill("#approve_return_contact", "Ms Wang")
    page.fill("#approve_return_phone", "+86 21 5555 0101")
    page.press("#approve_return_phone", "Enter")  # this form's action: its confirmation
    expect(page.locator("#confirm-action")).to_contain_text("Ms Wang +86 21 5555 0101")
    page.click("#confirm-form [type=submit]")

    expect(page.locator("#return-info")).to_contain_text("Ms Wang +86 21 5555 0101")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.return_contact, ticket.return_phone) == (
        Ticket.Status.AWAITING_RETURN, "Ms Wang", "+86 21 5555 0101")
    assert forms_on(page) == {"note-form"}  # decided: the buyer sends the goods now


def test_insert_puts_the_reply_where_the_cursor_is_and_replaces_a_selection(browser, live_server, staff, buyer):  # noqa: F811
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue")
    UserFactory(username="newops", groups=["ops"])
    page = login(browser, live_server, "newops")
    chinese(page, live_server)
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    page.click("#reply-templates summary")
    reship = page.locator("#reply-templates .reply", has_text="补发配件，费用我们承担")
    expect(reship.locator(".reply-text")).to_be_visible()  # the text is read before it is inserted
    expect(reship.locator(".reply-text")).to_contain_text("这边给您补发对应的配件")
    text = reship.locator(".insert-reply").get_attribute("data-text")

    page.fill("#note_text", "Buyer called. Will follow up.")
    page.evaluate("() => document.getElementById('note_text').setSelectionRange(13, 13)")  # after "called."
    reship.locator(".insert-reply").click()
    expect(page.locator("#note_text")).to_have_value(f"Buyer called.{text} Will follow up.")
    page.keyboard.type("!")  # the cursor stands just after the inserted reply
    expect(page.locator("#note_text")).to_have_value(f"Buyer called.{text}! Will follow up.")
    full_shot(page, "review-reply-inserted-zh")

    page.fill("#note_text", "Hello PLACEHOLDER bye")
    page.evaluate("() => document.getElementById('note_text').setSelectionRange(6, 17)")  # "PLACEHOLDER"
    reship.locator(".insert-reply").click()
    expect(page.locator("#note_text")).to_have_value(f"Hello {text} bye")


def test_columns_move_by_keyboard(browser, live_server, staff, buyer):  # noqa: F811
    submit(make_order(buyer=buyer))
    UserFactory(username="colops", groups=["ops"])
    page = login(browser, live_server, "colops")
    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    page.click("#columns-panel summary")

    due = page.locator("#column-choices li", has=page.locator("input[value=due]"))
    due.locator(".move-earlier").focus()
    for _ in range(5):  # due stands 7th (after ticket no): five places earlier is second
        page.keyboard.press("Enter")
    page.keyboard.press("Space")  # once more: the fixed ticket no stays first
    expect(due.locator(".move-earlier")).to_be_focused()
    order = page.locator("#column-choices input[name=columns][type=checkbox]").evaluate_all(
        "boxes => boxes.map(b => b.value)")
    assert order[:3] == ["ticket_no", "due", "order_no"]
    page.locator("#column-choices li", has=page.locator("input[value=order_no]")).locator(".move-later").click()
    full_shot(page, "queue-columns-keyboard")
    with page.expect_navigation():
        page.click("#columns-form input[type=submit]:not([name])")

    headers = page.locator("#result_list thead th").evaluate_all("cells => cells.map(c => c.className)")
    names = [next((c[len("column-"):] for c in cls.split() if c.startswith("column-")), "") for cls in headers]
    assert names[1:4] == ["ticket_no", "due", "shop_name"]


def in_order() -> list[str]:
    return list(Reason.objects.order_by("display_order", "pk").values_list("code", flat=True))


def test_reasons_move_by_keyboard_and_by_drag(browser, live_server):  # noqa: F811
    UserFactory(username="root", is_superuser=True, is_staff=True)
    codes = in_order()
    page = login(browser, live_server, "root")
    chinese(page, live_server)
    page.goto(f"{live_server.url}/admin/reasons/reason/")

    third = Reason.objects.get(code=codes[2])
    up = page.locator(f'.reason-drag[data-reason="{third.pk}"] ~ .move-up')
    up.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".messagelist")).to_contain_text(third.code)
    assert in_order() == [codes[0], codes[2], codes[1], *codes[3:]]
    expect(up).to_be_focused()  # back on the button pressed: press again to go on
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#result_list tbody tr").first).to_contain_text(third.code)
    assert in_order()[:3] == [codes[2], codes[0], codes[1]]
    full_shot(page, "reasons-moved-by-keyboard-zh")

    rows = page.locator("#result_list tbody tr")
    with page.expect_navigation():
        rows.first.locator(".reason-drag").drag_to(rows.nth(3))
    moved_to = in_order().index(codes[2])
    assert moved_to >= 2  # dragged down past its neighbours
    shown = rows.evaluate_all("rows => rows.map(r => r.querySelector('.reason-drag').dataset.reason)")
    assert shown == [str(pk) for pk in Reason.objects.order_by("display_order", "pk").values_list("pk", flat=True)]
    full_shot(page, "reasons-moved-by-drag-zh")
