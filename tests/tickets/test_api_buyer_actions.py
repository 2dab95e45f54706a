"""What a buyer does to their ticket through the API (API.md): cancel a pending claim, send the goods back,
confirm receipt of a replacement; each only in the state that allows it (409 otherwise)."""

import pytest

from demo import journeys
from demo.journeys import advance
from tests.api_helpers import API
from tests.factories import assert_error, make_order, submit

pytestmark = pytest.mark.django_db


def test_cancel_a_pending_claim_then_again_is_409(buyer, alice):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="no_reason_7d")

    response = alice.post(f"{API}/tickets/{ticket.ticket_no}/cancel/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["timeline"][-1]["transition"] == "cancel"
    assert_error(alice.post(f"{API}/tickets/{ticket.ticket_no}/cancel/"), 409, "invalid_transition")
    ticket.refresh_from_db()
    assert ticket.status == "cancelled"


def test_return_shipment_while_awaiting_return(buyer, alice, staff):
    ticket = advance(submit(make_order(buyer=buyer), type="return_refund"), "awaiting_return", staff=staff)
    url = f"{API}/tickets/{ticket.ticket_no}/return-shipment/"

    assert_error(alice.post(url, {"courier": "SF"}, format="json"), 400, "invalid", field="tracking_no")
    assert_error(alice.post(url, {"courier": "SF", "tracking_no": "x" * 101}, format="json"), 400, "invalid",
                 field="tracking_no")
    assert_error(alice.post(url, '{"courier": "SF", "tracking_no": "\\ud800"}', content_type="application/json"),
                 400, "invalid", field="tracking_no")
    assert not ticket.return_shipments.exists()
    response = alice.post(url, {"courier": "SF Express", "tracking_no": "SF123"}, format="json")

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "awaiting_return"
    assert [(s["direction"], s["courier"], s["tracking_no"]) for s in data["shipments"]] == [
        ("return", "SF Express", "SF123")]
    # Goods on their way back: no more cancelling.
    assert_error(alice.post(f"{API}/tickets/{ticket.ticket_no}/cancel/"), 409, "invalid_transition")


def test_return_shipment_on_a_pending_claim_is_409(buyer, alice):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="no_reason_7d")

    response = alice.post(f"{API}/tickets/{ticket.ticket_no}/return-shipment/",
                          {"courier": "SF Express", "tracking_no": "SF123"}, format="json")

    assert_error(response, 409, "invalid_transition")
    assert not ticket.return_shipments.exists()


def test_confirm_receipt_of_the_replacement(buyer, alice, staff):
    ticket = advance(submit(make_order(buyer=buyer), type="exchange"), "awaiting_exchange", staff=staff)
    url = f"{API}/tickets/{ticket.ticket_no}/confirm-receipt/"
    assert_error(alice.post(url), 409, "invalid_transition")  # nothing shipped yet
    journeys.ship_replacement(ticket, staff)

    response = alice.post(url)

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "completed"
    assert [s["direction"] for s in data["shipments"]] == ["return", "replacement"]
    assert data["timeline"][-1]["transition"] == "confirm_receipt"
    assert_error(alice.post(url), 409, "invalid_transition")
