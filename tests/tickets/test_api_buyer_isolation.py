"""Who may see what (API.md): another buyer's order or ticket is a 404 on every call that names it, cannot
be claimed, and is never listed."""

import pytest

from demo.journeys import advance
from tests.api_helpers import API, claim_body
from tests.factories import assert_error, make_order, submit
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


BUYER_OBJECT_CALLS = [
    ("get", "orders/{order_no}/"),
    ("get", "orders/{order_no}/eligibility/"),
    ("get", "tickets/{ticket_no}/"),
    ("post", "tickets/{ticket_no}/cancel/"),
    ("post", "tickets/{ticket_no}/return-shipment/"),
    ("post", "tickets/{ticket_no}/confirm-receipt/"),
]


@pytest.mark.parametrize(("method", "path"), BUYER_OBJECT_CALLS)
def test_another_buyers_order_or_ticket_is_404(buyer, bob_buyer, alice, staff, method, path):
    bobs = advance(submit(make_order(buyer=bob_buyer), type="return_refund"), "awaiting_return", staff=staff)
    url = f"{API}/" + path.format(order_no=bobs.order.order_no, ticket_no=bobs.ticket_no)

    response = getattr(alice, method)(url, {"courier": "SF", "tracking_no": "1"}, format="json")

    assert_error(response, 404, "not_found")
    bobs.refresh_from_db()
    assert bobs.status == "awaiting_return"
    assert not bobs.return_shipments.exists()


def test_another_buyers_order_cannot_be_claimed(bob_buyer, alice):
    bobs = make_order(buyer=bob_buyer)

    assert_error(alice.post(f"{API}/tickets/", claim_body(bobs), format="json"), 404, "not_found", field="order_no")
    assert not Ticket.objects.exists()


def test_another_buyers_tickets_are_not_listed(buyer, bob_buyer, alice):
    submit(make_order(buyer=bob_buyer), type="return_refund", reason_code="no_reason_7d")

    assert alice.get(f"{API}/tickets/").json()["results"] == []
    assert alice.get(f"{API}/orders/").json()["results"] == []
