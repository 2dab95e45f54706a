"""The warehouse in a real browser (headless Chromium, 1440×900): a user newly added to the warehouse group
scans a parcel's tracking number, records the inbound with one line refused and a photo; ops finds the ticket
in its queue marked "inspection rejected goods" with the refund recomputed; the clerk then ships an exchange's
replacement from the dispatch queue."""


import pytest
from PIL import Image
from playwright.sync_api import expect

from demo import journeys
from tests.edges.test_admin_browser import browser, login, shot  # noqa: F401 (browser: a fixture)
from tests.factories import UserFactory, make_order, submit
from tickets.models import Ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
S = Ticket.Status


def test_a_new_clerk_receives_a_return_with_a_line_refused_then_ships_a_replacement(
        browser, live_server, staff, buyer, tmp_path):  # noqa: F811
    order = make_order(buyer=buyer, lines=[("general", "89.00", 1, None), ("general", "12.50", 2, None)])
    ticket = journeys.advance(submit(order, type="return_refund"), S.AWAITING_RETURN, staff=staff)
    journeys.ship_back(ticket, staff)
    exchange = journeys.advance(submit(make_order(buyer=buyer), type="exchange"), S.AWAITING_EXCHANGE, staff=staff)
    photo = tmp_path / "dented-lid.jpg"
    Image.new("RGB", (640, 480), (190, 120, 60)).save(photo, "JPEG")
    UserFactory(username="newclerk", groups=["warehouse"])

    page = login(browser, live_server, "newclerk")
    page.goto(f"{live_server.url}/admin/")
    shot(page, "warehouse-index")
    page.click("a[href='/admin/warehouse/arrivalticket/']")
    expect(page.locator("#result_list")).to_contain_text(f"SF{ticket.pk:010d}")
    shot(page, "warehouse-arrivals")

    page.fill("#scan", f"sf{ticket.pk:010d}"[2:].lower())  # part of it, any case: as a person types it
    page.press("#scan", "Enter")
    expect(page.locator("#receive-form")).to_be_visible()
    expect(page.locator("#warehouse-form .facts")).to_contain_text(ticket.ticket_no)
    first, second = ticket.lines.order_by("pk")
    page.select_option(f"#id_result_{second.pk}", "damaged_by_buyer")
    page.fill(f"#id_line_note_{second.pk}", "Lid dented, box crushed")
    page.fill("#id_note", "Parcel opened at the desk")
    page.set_input_files("#id_photos", str(photo))
    shot(page, "warehouse-receive-form")
    page.click("#receive-form [type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("went back to ops review")
    shot(page, "warehouse-arrivals-after-receipt")
    ticket.refresh_from_db()
    assert (ticket.status, str(ticket.refund_amount)) == (S.PENDING_REVIEW, "89.00")
    assert ticket.inbounds.get().photos.count() == 1

    ops = login(browser, live_server, "ops1")
    ops.goto(f"{live_server.url}/admin/tickets/ticket/?attention=inspection_rejected")
    row = ops.locator("#result_list tr", has_text=ticket.ticket_no)
    expect(row.locator(".marker[title='inspection rejected goods']")).to_be_visible()
    shot(ops, "ops-queue-inspection-rejected")
    ops.click(f"text={ticket.ticket_no}")
    box = ops.locator("#inspection-result")
    expect(box.locator("tr.refused")).to_contain_text("damaged by the buyer: Lid dented, box crushed")
    expect(box).to_contain_text("114.00 → 89.00")
    expect(box.locator("img")).to_have_count(1)
    shot(ops, "ops-ticket-inspection")

    page.goto(f"{live_server.url}/admin/")
    page.click("a[href='/admin/warehouse/outboundrequest/']")
    expect(page.locator("#result_list")).to_contain_text(exchange.ticket_no)
    shot(page, "warehouse-dispatch-queue")
    page.locator("#result_list tr", has_text=exchange.ticket_no).locator("a.button").click()
    page.fill("#id_courier", "SF Express")
    page.fill("#id_tracking_no", "SF-REPL-0001")
    shot(page, "warehouse-ship-form")
    page.press("#id_tracking_no", "Enter")
    expect(page.locator(".messagelist")).to_contain_text(f"{exchange.ticket_no} shipped")
    shot(page, "warehouse-dispatch-after-shipping")
    exchange.refresh_from_db()
    assert exchange.replacement_shipped_at is not None
    assert exchange.outbounds.get().tracking_no == "SF-REPL-0001"


def test_the_clerks_screens_in_chinese(browser, live_server, staff, buyer):  # noqa: F811
    from tests.edges.test_admin_browser import chinese

    ticket = journeys.advance(submit(make_order(buyer=buyer), type="return_refund"), S.AWAITING_RETURN, staff=staff)
    journeys.ship_back(ticket, staff)
    journeys.advance(submit(make_order(buyer=buyer), type="exchange"), S.AWAITING_EXCHANGE, staff=staff)
    UserFactory(username="newclerk", groups=["warehouse"])
    page = login(browser, live_server, "newclerk")
    chinese(page, live_server)

    walk = [("/admin/warehouse/arrivalticket/", "warehouse-arrivals-zh"),
            (f"/admin/warehouse/arrivalticket/{ticket.pk}/receive/", "warehouse-receive-form-zh"),
            ("/admin/warehouse/outboundrequest/", "warehouse-dispatch-queue-zh")]
    for path, name in walk:
        page.goto(f"{live_server.url}{path}")
        for english in ("Arrivals to receive", "Scan or type", "Record the inbound", "Dispatch queue", "goods claimed",
                        "buyer's parcel", "Inspection note", "send by"):
            expect(page.locator("#content")).not_to_contain_text(english)
        shot(page, name)
