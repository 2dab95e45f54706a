"""The 201 of a submission is built from what the service already holds: it must equal a fresh read."""

import pytest
from rest_framework.test import APIClient

from tests.factories import make_order, make_upload, reason

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def claim(order, **extra) -> dict:
    return {"order_no": order.order_no, "type": "return_refund", "reason_id": reason("quality_issue").pk,
            "description": "Cracked lid", "lines": [{"order_line_id": order.lines.get().line_id, "quantity": 1}],
            **extra}


def test_the_created_ticket_body_is_what_reading_it_back_returns(buyer):
    order = make_order(buyer=buyer)
    photos = [make_upload(buyer.user).pk for _ in range(2)]
    client = client_for(buyer.user)

    created = client.post("/api/v1/tickets/", claim(order, photo_ids=photos), format="json")
    assert created.status_code == 201
    read = client.get(f"/api/v1/tickets/{created.data['ticket_no']}/")

    assert created.json() == read.json()
    assert [p["id"] for p in created.json()["photos"]] == photos
    assert [e["transition"] for e in created.json()["timeline"]] == ["submit"]


def test_an_auto_approved_claim_shows_its_approval_and_refund_in_the_201(buyer):
    order = make_order(buyer=buyer, status="unshipped", lines=(("general", "50.00", 1, None),),
                       shipping_fee="10.00", coupon="5.00")
    body = client_for(buyer.user).post("/api/v1/tickets/", {**claim(order), "type": "refund_only",
                                                             "reason_id": reason("changed_mind").pk},
                                       format="json").json()

    assert body["refund_amount"] == "55.00"
    assert [e["transition"] for e in body["timeline"]] == ["submit", "auto_approve"]  # the intercept stays internal
    assert body["refund_status"] == "pending"


def test_a_submission_reads_and_writes_a_bounded_number_of_times(buyer, django_assert_max_num_queries):
    """Token; the order with its lines locked; what is claimed already; the id; the ticket, its lines and
    its event; and, around the request, who made the change, for the history rows (set, then cleared:
    aftersales.history_context). Policies and the reason come from memory once read (aftersales.refcache).
    The outbox's event (events.outbox) adds five: what the buyer sees of the ticket, frozen into the event (its
    lines, its refunds, its shipments each way: the ticket itself is the service's, already in hand), and the
    event's row."""
    client = client_for(buyer.user)
    warm = make_order(buyer=buyer, lines=(("general", "10.00", 3, None),))
    assert client.post("/api/v1/tickets/", {**claim(warm), "reason_id": reason("no_reason_7d").pk},
                       format="json").status_code == 201
    body = {**claim(make_order(buyer=buyer, lines=(("general", "10.00", 3, None),))),
            "reason_id": reason("no_reason_7d").pk}
    with django_assert_max_num_queries(15) as captured:  # and the test's savepoint around the service's atomic
        response = client.post("/api/v1/tickets/", body, format="json")
    assert response.status_code == 201, response.json()
    assert not [q for q in captured.captured_queries if q["sql"].startswith("UPDATE")]  # the number goes in with the row
    assert not [q for q in captured.captured_queries if "tickets_upload" in q["sql"]]  # no photos, no query
