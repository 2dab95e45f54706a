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
