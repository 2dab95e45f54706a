"""The warehouse's endpoints (API.md): goods received back (accepted: on to the refund; refused: back to
ops), each bad line refused by its field, and the replacement shipped out."""

import pytest

from demo import journeys
from demo.journeys import advance
from tests.api_helpers import API, pending, status_of
from tests.factories import assert_error, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse(warehouse_user):
    return client_for(warehouse_user)


def inbound_body(ticket, **line):
    return {"ticket_no": ticket.ticket_no, "note": "Unopened",
            "lines": [{"order_line_id": tl.order_line.line_id, "quantity": tl.quantity, "accepted": True, **line}
                      for tl in ticket.lines.select_related("order_line")]}


def test_warehouse_inbound_accepted_goes_to_refund(buyer, staff, warehouse):
    ticket = advance(pending(buyer, type="return_refund"), "awaiting_return", staff=staff)
    journeys.ship_back(ticket, staff)

    response = warehouse.post(f"{API}/warehouse/inbound/", inbound_body(ticket), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "awaiting_refund"
    assert response.json()["timeline"][-1]["transition"] == "receive_goods"
    assert_error(warehouse.post(f"{API}/warehouse/inbound/", inbound_body(ticket), format="json"), 409,
                 "invalid_transition")


def test_warehouse_inbound_rejected_goes_back_to_ops(buyer, staff, warehouse):
    ticket = advance(pending(buyer, type="return_refund"), "awaiting_return", staff=staff)

    response = warehouse.post(f"{API}/warehouse/inbound/", inbound_body(ticket, accepted=False), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending_review"


@pytest.mark.parametrize(("change", "field"), [
    ({"quantity": 3}, "lines.0.quantity"),
    ({"quantity": 10**30}, "lines.0.quantity"),
    ({"order_line_id": "NOPE-1"}, "lines.0.order_line_id"),
    ({"accepted": "yes please"}, "lines.0.accepted"),
])
def test_warehouse_inbound_refused_with_the_field(buyer, staff, warehouse, change, field):
    ticket = advance(pending(buyer, type="return_refund"), "awaiting_return", staff=staff)

    response = warehouse.post(f"{API}/warehouse/inbound/", inbound_body(ticket, **change), format="json")

    assert_error(response, 400, "invalid", field=field)
    assert status_of(ticket) == "awaiting_return"


def test_warehouse_inbound_for_an_unknown_or_pending_ticket(buyer, warehouse):
    ticket = pending(buyer, type="return_refund")

    assert_error(warehouse.post(f"{API}/warehouse/inbound/", {**inbound_body(ticket), "ticket_no": "AS-NOPE"},
                                format="json"), 404, "not_found")
    assert_error(warehouse.post(f"{API}/warehouse/inbound/", inbound_body(ticket), format="json"), 409,
                 "invalid_transition")
    assert_error(warehouse.post(f"{API}/warehouse/inbound/", {"ticket_no": ticket.ticket_no}, format="json"), 400,
                 "invalid", field="lines")


def test_warehouse_outbound_ships_the_replacement(buyer, staff, warehouse):
    ticket = advance(pending(buyer, type="exchange"), "awaiting_exchange", staff=staff)
    body = {"ticket_no": ticket.ticket_no, "courier": "SF Express", "tracking_no": "SFR1",
            "lines": [{"order_line_id": ticket.lines.get().order_line.line_id, "quantity": 2}]}
    assert_error(warehouse.post(f"{API}/warehouse/outbound/", {**body, "tracking_no": ""}, format="json"), 400,
                 "invalid", field="tracking_no")

    response = warehouse.post(f"{API}/warehouse/outbound/", body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "awaiting_exchange"
    assert data["confirm_deadline"] is not None
    assert [(s["direction"], s["tracking_no"]) for s in data["shipments"]] == [
        ("return", f"SF{ticket.pk:010d}"), ("replacement", "SFR1")]
    assert_error(warehouse.post(f"{API}/warehouse/outbound/", body, format="json"), 409, "invalid_transition")


def outbound_body(ticket, **line):
    return {"ticket_no": ticket.ticket_no, "courier": "SF Express", "tracking_no": "SFR1",
            "lines": [{"order_line_id": ticket.lines.get().order_line.line_id, "quantity": 2, **line}]}


# Each warehouse input in a JSON type other than its own, as the rest of the API's strict fields refuse it.
WRONG_TYPES = [
    ("inbound", {"quantity": "2"}, {}, "lines.0.quantity"),
    ("inbound", {"quantity": 2.0}, {}, "lines.0.quantity"),
    ("inbound", {"quantity": True}, {}, "lines.0.quantity"),
    ("inbound", {"accepted": "yes"}, {}, "lines.0.accepted"),
    ("inbound", {"accepted": "true"}, {}, "lines.0.accepted"),
    ("inbound", {"accepted": 1}, {}, "lines.0.accepted"),
    ("inbound", {"order_line_id": 1}, {}, "lines.0.order_line_id"),
    ("inbound", {"note": 5}, {}, "lines.0.note"),
    ("inbound", {}, {"note": 5}, "note"),
    ("inbound", {}, {"photo_ids": ["1"]}, "photo_ids.0"),
    ("inbound", {}, {"ticket_no": 12345}, "ticket_no"),
    ("outbound", {"quantity": "2"}, {}, "lines.0.quantity"),
    ("outbound", {"order_line_id": 1}, {}, "lines.0.order_line_id"),
    ("outbound", {}, {"courier": 12}, "courier"),
    ("outbound", {}, {"tracking_no": 1234567890}, "tracking_no"),
    ("outbound", {}, {"ticket_no": 12345}, "ticket_no"),
]


@pytest.mark.parametrize(("endpoint", "line", "change", "field"), WRONG_TYPES,
                         ids=[f"{e}-{f}={next(iter({**ln, **c}.values()))!r}" for e, ln, c, f in WRONG_TYPES])
def test_finding11_warehouse_api_refuses_string_quantity_and_yes(buyer, staff, warehouse, endpoint, line, change,
                                                                 field):
    """Integers are JSON integers, booleans JSON booleans, text JSON strings: "2" or "yes" is a 400 naming the
    field, and the goods are neither received nor shipped."""
    if endpoint == "inbound":
        ticket = advance(pending(buyer, type="return_refund"), "awaiting_return", staff=staff)
        body, before = inbound_body(ticket, **line), "awaiting_return"
    else:
        ticket = advance(pending(buyer, type="exchange"), "awaiting_exchange", staff=staff)
        body, before = outbound_body(ticket, **line), "awaiting_exchange"
    events = ticket.events.count()

    response = warehouse.post(f"{API}/warehouse/{endpoint}/", {**body, **change}, format="json")

    assert_error(response, 400, "invalid", field=field)
    assert status_of(ticket) == before
    assert ticket.events.count() == events and not ticket.outbounds.exists()
