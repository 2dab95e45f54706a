"""The warehouse's admin screens (issue #12): arrivals with the scan box, the receive form, the dispatch
queue, shipments to hold, the stock pages and the registers. Each calls the same service as the API; a
refused form keeps what was typed and names the field."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from aftersales import clock
from demo import journeys
from demo.journeys import advance
from tests.factories import UserFactory, make_order, submit
from tests.warehouse.test_flows import lines_of, png, returned, unshipped_claim
from tickets import services as tickets
from tickets.models import Ticket
from warehouse import services
from warehouse.models import Courier, Incident, Intercept, OutboundRequest, StockBalance

pytestmark = pytest.mark.django_db
S = Ticket.Status
ARRIVALS = reverse("admin:warehouse_arrivalticket_changelist")


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def receive_url(ticket) -> str:
    return reverse("admin:warehouse_arrivalticket_receive", args=[ticket.pk])


def test_arrivals_list_what_is_coming_back_oldest_first_with_the_buyer_s_parcel(buyer, staff):
    with clock.frozen_at(clock.now() - dt.timedelta(days=1)):
        older = returned(buyer, staff)
    newer = advance(submit(make_order(buyer=buyer), type="exchange"), S.AWAITING_RETURN, staff=staff)  # not sent yet
    advance(submit(make_order(buyer=buyer), type="return_refund"), S.AWAITING_REFUND, staff=staff)  # already in

    html = client_of(staff["warehouse"]).get(ARRIVALS).content.decode()

    assert html.index(older.ticket_no) < html.index(newer.ticket_no)
    assert f"SF{older.pk:010d}" in html and "not sent yet" in html
    assert Ticket.objects.filter(status=S.AWAITING_REFUND).get().ticket_no not in html


def test_scanning_part_of_a_tracking_number_in_any_case_opens_the_receive_form(buyer, staff):
    ticket = returned(buyer, staff)
    other = returned(buyer, staff)
    clerk = client_of(staff["warehouse"])

    by_tracking = clerk.get(ARRIVALS, {"q": f"sf{ticket.pk:010d}"[1:].lower()})
    by_ticket_no = clerk.get(ARRIVALS, {"q": other.ticket_no.lower()})
    nothing = clerk.get(ARRIVALS, {"q": "NO-SUCH-PARCEL"}, follow=True)

    assert by_tracking.status_code == 302 and by_tracking.url == receive_url(ticket)
    assert by_ticket_no.url == receive_url(other)
    assert "Nothing awaiting return matches" in nothing.content.decode()


def test_a_scan_of_a_ticket_already_received_says_so(buyer, staff):
    ticket = advance(submit(make_order(buyer=buyer), type="return_refund"), S.AWAITING_REFUND, staff=staff)

    html = client_of(staff["warehouse"]).get(ARRIVALS, {"q": ticket.ticket_no}).content.decode()

    assert f"{ticket.ticket_no} is awaiting refund: nothing to receive." in html


def receive_post(ticket, *, received=None, result="accepted", note="", **extra):
    """Every line received whole (or ``received`` units of each): passed, or all refused for ``result``."""
    data = {"note": "", **extra}
    for line in ticket.lines.all():
        data[f"received_{line.pk}"] = line.quantity if received is None else received
        if result != "accepted":
            data[f"refused_{line.pk}_0"] = data[f"received_{line.pk}"]
            data[f"reason_{line.pk}_0"] = result
            data[f"note_{line.pk}_0"] = note
    return data


def test_the_receive_form_records_a_rejection_with_its_photo_and_sends_the_ticket_to_ops(buyer, staff):
    ticket = returned(buyer, staff, lines=(("general", "50.00", 2, None),))
    clerk = client_of(staff["warehouse"])

    response = clerk.post(receive_url(ticket), {**receive_post(ticket, result="missing_parts", note="No charger"),
                                                "photos": [png(), png()]})

    assert response.status_code == 302 and response.url == ARRIVALS
    ticket.refresh_from_db()
    assert (ticket.status, ticket.refund_amount) == (S.PENDING_REVIEW, Decimal("0.00"))
    inbound = ticket.inbounds.get()
    assert [(line.reject_reason, line.note) for line in inbound.lines.all()] == [("missing_parts", "No charger")]
    assert inbound.photos.count() == 2
    assert StockBalance.objects.get(sku="SKU-1", location="damaged").quantity == 2


def test_a_refused_receipt_keeps_what_was_typed_and_names_the_line(buyer, staff):
    ticket = returned(buyer, staff, lines=(("general", "50.00", 2, None),))
    line = ticket.lines.get()

    response = client_of(staff["warehouse"]).post(receive_url(ticket), receive_post(
        ticket, received=5, result="used", note="Worn", note_typed="x"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "More than was claimed: the buyer claimed 2 of this line." in html
    assert f'name="received_{line.pk}" value="5"' in html
    assert 'value="Worn"' in html and '<option value="used" selected>' in html
    assert ticket.__class__.objects.get(pk=ticket.pk).status == S.AWAITING_RETURN


def test_the_receive_form_of_a_ticket_not_awaiting_return_offers_nothing_and_refuses_a_post(buyer, staff):
    ticket = advance(submit(make_order(buyer=buyer), type="return_refund"), S.AWAITING_REFUND, staff=staff)
    clerk = client_of(staff["warehouse"])

    page = clerk.get(receive_url(ticket)).content.decode()
    posted = clerk.post(receive_url(ticket), receive_post(ticket)).content.decode()

    assert "there is nothing to receive" in page and 'id="receive-form"' not in page
    assert "Cannot receive the goods" in posted
    assert ticket.inbounds.count() == 1


@pytest.mark.parametrize("role", ["ops", "finance"])
def test_only_a_clerk_gets_the_warehouse_forms(buyer, staff, role):
    ticket = returned(buyer, staff)
    intercept_ticket = unshipped_claim(buyer, price="900.00")
    tickets.approve_ticket(ticket_id=intercept_ticket.pk, actor=staff["ops"])
    client = client_of(staff[role])

    assert client.get(receive_url(ticket)).status_code == 403
    assert client.post(receive_url(ticket), receive_post(ticket)).status_code == 403
    assert client.post(reverse("admin:warehouse_intercept_mark", args=[Intercept.objects.get().pk]),
                       {"outcome": "held"}).status_code == 403
    assert ticket.__class__.objects.get(pk=ticket.pk).status == S.AWAITING_RETURN


def test_the_dispatch_queue_ships_an_exchange_replacement(buyer, staff):
    ticket = advance(submit(make_order(buyer=buyer), type="exchange"), S.AWAITING_EXCHANGE, staff=staff)
    request = OutboundRequest.objects.get(ticket=ticket)
    clerk = client_of(staff["warehouse"])
    queue = clerk.get(reverse("admin:warehouse_outboundrequest_changelist")).content.decode()
    assert ticket.ticket_no in queue and "Ship…" in queue
    ship = reverse("admin:warehouse_outboundrequest_ship", args=[request.pk])
    line = request.lines.get()

    sf = str(Courier.objects.get(code="SF").pk)  # the courier is picked from the list now (issue #21)

    refused = clerk.post(ship, {f"qty_{line.pk}": "2", "courier": sf, "tracking_no": " "})
    assert "This field is required." in refused.content.decode() and not ticket.outbounds.exists()

    done = clerk.post(ship, {f"qty_{line.pk}": "2", "courier": sf, "tracking_no": "SFX-42"})

    assert done.status_code == 302
    ticket.refresh_from_db()
    assert ticket.replacement_shipped_at is not None and ticket.outbounds.get().tracking_no == "SFX-42"
    assert ticket.outbounds.get().courier == "顺丰速运 SF Express"
    assert ship not in clerk.get(reverse("admin:warehouse_outboundrequest_changelist")).content.decode()


def test_marking_a_shipment_too_late_from_its_page(buyer, staff):
    ticket = unshipped_claim(buyer, price="900.00")
    tickets.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"])
    intercept = Intercept.objects.get()
    clerk = client_of(staff["warehouse"])
    mark = reverse("admin:warehouse_intercept_mark", args=[intercept.pk])

    assert ticket.ticket_no in clerk.get(reverse("admin:warehouse_intercept_changelist")).content.decode()
    refused = clerk.post(mark, {"outcome": "too_late", "too_late-note": ""})
    assert "This field is required." in refused.content.decode()
    clerk.post(mark, {"outcome": "too_late", "too_late-note": "Left with SF at 9:00"})

    ticket.refresh_from_db()
    assert ticket.status == S.PENDING_REVIEW
    page = client_of(staff["ops"]).get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert 'id="intercept-late"' in page and "Left with SF at 9:00" in page


def test_the_stock_page_shows_balances_per_sku_and_location(buyer, staff):
    ticket = returned(buyer, staff, lines=(("general", "50.00", 2, None),))
    services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=[
        {**lines_of(ticket)[0], "quantity": 1, "accepted": True}])
    client = client_of(staff["warehouse"])

    balances = client.get(reverse("admin:warehouse_stockbalance_changelist"), {"location__exact": "sellable"})
    movements = client.get(reverse("admin:warehouse_stockmovement_changelist"), {"q": "SKU-1"})

    assert "SKU-1" in balances.content.decode() and "alert-danger" not in balances.content.decode()
    assert "+1" in movements.content.decode()


def test_registers_record_what_it_cost_and_export_a_month_as_csv(buyer, staff):
    order = make_order(buyer=buyer)
    clerk = client_of(staff["warehouse"])
    add = reverse("admin:warehouse_lostparcel_add")

    refused = clerk.post(add, {"order_no": "NOPE", "occurred_on": "2026-01-05", "description": "Lost", "cost": "12.50",
                               "courier": "SF", "tracking_no": "SF1"})
    assert "No order with this number." in refused.content.decode() and not Incident.objects.exists()
    clerk.post(add, {"order_no": order.order_no, "occurred_on": "2026-01-05", "description": "Lost in transit",
                     "cost": "12.50", "courier": "SF", "tracking_no": "SF1"})
    services.record_incident(actor=staff["ops"], kind="lost_parcel", order_no=order.order_no, courier="YTO",
                             tracking_no="YT9", description="Never arrived", cost="7.00",
                             occurred_on=dt.date(2026, 2, 1))
    services.record_incident(actor=staff["ops"], kind="wrong_item", order_no=order.order_no, description="Blue not red",
                             cost="30.00", occurred_on=dt.date(2026, 1, 9))

    page = clerk.get(reverse("admin:warehouse_lostparcel_changelist"), {"month": "2026-01"}).content.decode()
    export = clerk.get(reverse("admin:warehouse_lostparcel_export"), {"month": "2026-01"})

    assert "1 entry, costing 12.50 in all." in page
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["occurred on", "order no"]
    assert [(row[0], row[5], row[7]) for row in rows[1:]] == [("2026-01-05", "SF1", "12.50")]
    assert Incident.objects.get(tracking_no="SF1").recorded_by == staff["warehouse"]


def test_a_user_new_to_the_warehouse_works_the_queues_at_once(buyer, staff):
    ticket = returned(buyer, staff)
    clerk = client_of(UserFactory(username="newclerk", groups=["warehouse"]))

    assert clerk.get(ARRIVALS).status_code == 200
    response = clerk.post(receive_url(ticket), receive_post(ticket))

    assert response.status_code == 302
    assert ticket.__class__.objects.get(pk=ticket.pk).status == S.AWAITING_REFUND
    journeys  # noqa: B018 (the journeys module is what the other tests use to reach states)


def queries_for(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def reshipped(buyer, staff) -> Ticket:
    ticket = submit(make_order(buyer=buyer, lines=(("general", "60.00", 1, None), ("general", "5.00", 2, None))),
                    type="refund_only", reason_code="missing_parts", photos=1)
    journeys.reship(ticket, staff)
    return ticket


@pytest.mark.parametrize("url, make", [
    (ARRIVALS, returned),
    (reverse("admin:warehouse_outboundrequest_changelist"), reshipped),
])
def test_the_clerks_queues_read_as_many_queries_for_one_row_as_for_six(url, make, buyer, staff):
    clerk = client_of(staff["warehouse"])
    make(buyer, staff)
    clerk.get(url)  # the reference data and the session, read once
    one = queries_for(clerk, url)
    for _ in range(5):
        make(buyer, staff)

    assert queries_for(clerk, url) == one
