"""The ship form (issue #21): where the parcel goes, what is on hand of each SKU, the courier picked from the
list administrators keep or typed under "other"; the API still takes any courier's name as text."""

import pytest
from django.urls import reverse

from demo.journeys import advance
from tests.api_helpers import API
from tests.factories import client_for, make_order, submit
from tests.warehouse.test_flows import lines_of, returned
from tests.warehouse.test_screens import client_of
from tickets.models import Ticket
from warehouse import services
from warehouse.models import Courier, OutboundRequest

pytestmark = pytest.mark.django_db
S = Ticket.Status


def to_ship(buyer, staff):
    ticket = advance(submit(make_order(buyer=buyer), type="exchange"), S.AWAITING_EXCHANGE, staff=staff)
    request = OutboundRequest.objects.get(ticket=ticket)
    return ticket, request, reverse("admin:warehouse_outboundrequest_ship", args=[request.pk])


def test_the_ship_form_shows_the_buyer_s_address_the_stock_on_hand_and_the_couriers(buyer, staff):
    ticket, request, url = to_ship(buyer, staff)  # its goods came back: 2 of SKU-1 on hand
    other = returned(buyer, staff, lines=(("general", "10.00", 3, None),))
    services.record_inbound(ticket_id=other.pk, actor=staff["warehouse"], lines=lines_of(other, accepted=True))

    html = client_of(staff["warehouse"]).get(url).content.decode()

    ship_to = html[html.index('id="ship-to"'):html.index('id="ship-form"')]
    assert buyer.account in ship_to and "8 Garden Lane" in ship_to
    assert "phone" not in ship_to  # the order named no phone: none is shown
    assert '<td class="num on-hand">5</td>' in html  # 2 back from this exchange, 3 from the other return
    assert "顺丰速运 SF Express" in html and "中通快递 ZTO Express" in html and 'value="other"' in html


def test_the_ship_form_shows_the_buyer_s_name_and_phone_from_the_order_import(buyer, staff):
    from orders.services import import_order

    ticket, request, url = to_ship(buyer, staff)
    order = ticket.order
    import_order({"order_no": order.order_no, "shop": {"code": order.shop.code, "name": order.shop.name},
                  "buyer": {"account": buyer.account, "level": 1, "address": "8 Garden Lane",
                            "name": "Alice Chen", "phone": "+86 138 0000 0000"},
                  "status": order.status, **{field: getattr(order, field) and getattr(order, field).isoformat()
                                             for field in ("placed_at", "paid_at", "shipped_at", "delivered_at")},
                  "lines": [{"line_id": line.line_id, "sku": line.sku, "product_name": line.product_name,
                             "category": line.category, "unit_price": str(line.unit_price), "quantity": line.quantity,
                             "paid_amount": str(line.paid_amount)} for line in order.lines.all()],
                  "amount_paid": str(order.amount_paid)})
    buyer.refresh_from_db()
    assert (buyer.name, buyer.phone) == ("Alice Chen", "+86 138 0000 0000")

    html = client_of(staff["warehouse"]).get(url).content.decode()

    ship_to = html[html.index('id="ship-to"'):html.index('id="ship-form"')]
    assert "Alice Chen (" in ship_to and "+86 138 0000 0000" in ship_to and "8 Garden Lane" in ship_to


def test_a_courier_taken_off_the_list_is_no_longer_offered_nor_accepted(buyer, staff):
    ticket, request, url = to_ship(buyer, staff)
    ems = Courier.objects.get(code="EMS")
    ems.active = False
    ems.save()
    line = request.lines.get()

    clerk = client_of(staff["warehouse"])
    page = clerk.get(url).content.decode()
    refused = clerk.post(url, {f"qty_{line.pk}": "2", "courier": str(ems.pk), "tracking_no": "E1"})

    assert "中国邮政 EMS" not in page
    assert "Select a valid choice." in refused.content.decode()
    assert not ticket.outbounds.exists()


def test_other_needs_the_courier_s_name_and_keeps_what_was_typed(buyer, staff):
    ticket, request, url = to_ship(buyer, staff)
    line = request.lines.get()
    clerk = client_of(staff["warehouse"])

    refused = clerk.post(url, {f"qty_{line.pk}": "2", "courier": "other", "courier_other": " ", "tracking_no": "LC-9"})
    done = clerk.post(url, {f"qty_{line.pk}": "2", "courier": "other", "courier_other": "Local Courier Co",
                            "tracking_no": "LC-9"})

    assert "Type the courier&#x27;s name, or pick one from the list." in refused.content.decode()
    assert 'value="LC-9"' in refused.content.decode()
    assert done.status_code == 302
    assert ticket.outbounds.get().courier == "Local Courier Co"


def test_the_api_still_takes_any_courier_as_text(buyer, staff):
    ticket, request, _url = to_ship(buyer, staff)

    response = client_for(staff["warehouse"]).post(f"{API}/warehouse/outbound/", {
        "ticket_no": ticket.ticket_no, "lines": lines_of(ticket), "courier": "Neighbourhood Van",
        "tracking_no": "NV-1"}, format="json")

    assert response.status_code == 201, response.content
    assert ticket.outbounds.get().courier == "Neighbourhood Van"


def test_the_couriers_are_read_by_the_warehouse_and_kept_by_administrators(staff):
    clerk = client_of(staff["warehouse"])
    changelist = reverse("admin:warehouse_courier_changelist")

    assert clerk.get(changelist).status_code == 200
    assert clerk.get(reverse("admin:warehouse_courier_add")).status_code == 403
    assert clerk.post(reverse("admin:warehouse_courier_add"), {"name": "X", "code": "X", "position": 1}).status_code == 403
    assert [c.code for c in Courier.objects.all()][:4] == ["SF", "JD", "ZTO", "YTO"]


def test_records_are_titled_by_number_and_listed_with_their_goods(buyer, staff):
    ticket = returned(buyer, staff, lines=(("general", "25.00", 2, None),))
    inbound = services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=[
        {**lines_of(ticket)[0], "quantity": 1, "accepted": True},
        {**lines_of(ticket)[0], "quantity": 1, "accepted": False, "reject_reason": "damaged_by_buyer"}])
    clerk = client_of(staff["warehouse"])

    listing = clerk.get(reverse("admin:warehouse_inbound_changelist")).content.decode()
    page = clerk.get(reverse("admin:warehouse_inbound_change", args=[inbound.pk])).content.decode()

    assert f"IN{inbound.pk:06d}" in listing and "Product 1 <small>SKU-1</small> × 1" in listing
    assert "1 unit refused" in listing
    assert f"<h2>IN{inbound.pk:06d} {ticket.ticket_no}</h2>" in page and "object (" not in page
    assert "Inbound object" not in listing


def test_a_negative_cost_is_named_in_words_even_beside_another_mistake(buyer, staff):
    clerk = client_of(staff["warehouse"])

    html = clerk.post(reverse("admin:warehouse_lostparcel_add"), {
        "order_no": "NO-SUCH-ORDER", "occurred_on": "2026-01-05", "description": "Lost", "cost": "-5",
        "courier": "SF", "tracking_no": "SF1"}).content.decode()

    assert "The cost cannot be negative: enter what the shop lost, 0 or more." in html
    assert "No order with this number." in html
    assert "incident_cost_gte_0" not in html and "Constraint" not in html


def test_the_register_csv_says_when_it_was_recorded_in_local_time_to_the_minute_with_the_offset(buyer, staff):
    import csv
    import datetime as dt
    import io

    from aftersales import clock

    order = make_order(buyer=buyer)
    with clock.frozen_at(dt.datetime(2026, 3, 1, 23, 30, 15, 123456, tzinfo=dt.UTC)):
        services.record_incident(actor=staff["ops"], kind="lost_parcel", order_no=order.order_no, courier="YTO",
                                 tracking_no="YT9", description="Never arrived", cost="7.00",
                                 occurred_on=dt.date(2026, 3, 1))

    export = client_of(staff["warehouse"]).get(reverse("admin:warehouse_lostparcel_export"))

    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[1][-1] == "2026-03-02 07:30+08:00"  # Asia/Shanghai; no seconds, no microseconds


def test_the_ticket_page_shows_the_shipments_in_local_time_to_the_minute(buyer, staff):
    import datetime as dt

    from aftersales import clock

    with clock.frozen_at(dt.datetime(2026, 3, 1, 23, 30, 15, 123456, tzinfo=dt.UTC)):
        ticket, request, _url = to_ship(buyer, staff)
        services.ship_request(request_id=request.pk, actor=staff["warehouse"], lines=lines_of(ticket),
                              courier="YTO", tracking_no="YT-77")

    page = client_of(staff["ops"]).get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()

    assert "sent by the warehouse: YTO YT-77 (2026-03-02 07:30)" in page
    records = page[page.index('id="warehouse-records"'):]
    assert "2026-03-02 07:30" in records and "YTO YT-77" in records
    assert "23:30:15" not in page and ".123456" not in page


def test_a_register_entry_is_announced_by_its_order_and_kind_never_a_label_starting_with_a_dot(buyer, staff):
    order = make_order(buyer=buyer)

    response = client_of(staff["warehouse"]).post(reverse("admin:warehouse_lostparcel_add"), {
        "order_no": order.order_no, "occurred_on": "2026-01-05", "description": "Lost", "cost": "12.50",
        "courier": "SF", "tracking_no": "SF1"}, follow=True)

    html = response.content.decode()
    assert f"{order.order_no} parcel lost" in html
    assert "“ · " not in html and "“ ·" not in html
