"""Submitting a claim through the API (API.md, POST /api/v1/tickets/): the 201 and what it holds, and every
refusal naming its field with nothing created: bad values, malformed bodies, outside the window, staff, another
user's photo."""

import datetime as dt
import json

import pytest

from tests.api_helpers import API, MANY, claim_body
from tests.factories import assert_error, client_for, make_order, make_upload, reason
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_submit_a_claim(buyer, alice):
    order = make_order(buyer=buyer, lines=(("general", "10.00", 2, None), ("general", "3.00", 1, None)))
    photo = make_upload(buyer.user)
    body = claim_body(order, type="return_refund", reason_code="quality_issue", quantity=2, photo_ids=[photo.pk])

    response = alice.post(f"{API}/tickets/", body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    ticket = Ticket.objects.get()
    assert data["ticket_no"] == ticket.ticket_no and ticket.ticket_no.startswith("AS")
    assert data["status"] == "pending_review"
    assert data["type"] == "return_refund"
    assert data["order_no"] == order.order_no
    assert data["reason_id"] == reason("quality_issue").pk
    assert data["reason"]["code"] == "quality_issue"
    assert data["refund_amount"] == "20.00"
    assert data["lines"] == [{
        "order_line_id": f"{order.order_no}-1", "sku": "SKU-1", "product_name": "Product 1", "product_code": "P-1",
        "category": "general", "unit_price": "10.00", "quantity": 2, "refund_amount": "20.00"}]
    assert [p["id"] for p in data["photos"]] == [photo.pk]
    assert [(e["transition"], e["by"], e["to_status"]) for e in data["timeline"]] == [
        ("submit", "buyer", "pending_review")]
    assert data["rejection_reason"] == ""
    assert ticket.photos.get() == photo


@pytest.mark.parametrize(("change", "status", "code", "field"), [
    ({"lines": [{"quantity": 3}]}, 400, "quantity_above_claimable", "lines.0.quantity"),
    ({"lines": [{"quantity": 0}]}, 400, "invalid", "lines.0.quantity"),
    ({"lines": [{"quantity": MANY}]}, 400, "invalid", "lines.0.quantity"),
    ({"lines": [{"quantity": "two"}]}, 400, "invalid", "lines.0.quantity"),
    ({"lines": [{"quantity": 1.5}]}, 400, "invalid", "lines.0.quantity"),
    ({"lines": [{"order_line_id": "SO-OTHER-1"}]}, 400, "invalid", "lines.0.order_line_id"),
    ({"lines": []}, 400, "invalid", "lines"),
    ({"reason_id": MANY}, 400, "invalid", "reason_id"),
    ({"reason_id": 987654321}, 400, "invalid", "reason_id"),
    ({"reason_id": -1}, 400, "invalid", "reason_id"),
    ({"reason_id": "quality_issue"}, 400, "invalid", "reason_id"),
    ({"reason_id": None}, 400, "invalid", "reason_id"),
    ({"reason_code": "changed_mind", "type": "refund_only"}, 400, "reason_not_allowed", "reason_id"),
    ({"reason_code": "late_delivery", "type": "exchange"}, 400, "reason_not_allowed", "reason_id"),
    ({"type": "gift"}, 400, "invalid", "type"),
    ({"type": None}, 400, "invalid", "type"),
    ({"type": "exchange", "reason_code": "quality_issue"}, 400, "required", "photo_ids"),
    ({"description": "x" * 100_000}, 400, "invalid", "description"),
    ({"description": ["a", "list"]}, 400, "invalid", "description"),
    ({"description": "nul \x00 inside"}, 400, "invalid", "description"),
    ({"description": "lone surrogate \ud800 inside"}, 400, "invalid", "description"),
    ({"photo_ids": [MANY]}, 400, "invalid", "photo_ids.0"),
    ({"photo_ids": [987654321]}, 400, "invalid", "photo_ids"),
    ({"photo_ids": "1,2"}, 400, "invalid", "photo_ids"),
    ({"order_no": "SO-NOPE"}, 404, "not_found", "order_no"),
    ({"order_no": ["SO1"]}, 400, "invalid", "order_no"),
    ({"order_no": "x" * 10_000}, 400, "invalid", "order_no"),
])
def test_submission_refused_with_the_field_and_nothing_created(buyer, alice, change, status, code, field):
    order = make_order(buyer=buyer)
    change = dict(change)
    body = claim_body(order, type=change.pop("type", "return_refund"),
                      reason_code=change.pop("reason_code", "no_reason_7d"))
    if "lines" in change:
        body["lines"] = [{**body["lines"][0], **item} for item in change.pop("lines")]
    body.update(change)

    response = alice.post(f"{API}/tickets/", json.dumps(body), content_type="application/json")

    assert_error(response, status, code, field=field)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(("raw", "content_type", "status", "code"), [
    ('{"order_no": "SO1", "lines": [', "application/json", 400, "malformed_request"),
    ("\xff\xfe not json", "application/json", 400, "malformed_request"),
    ("[1, 2, 3]", "application/json", 400, "invalid"),
    ("null", "application/json", 400, "invalid"),
    ('"just a string"', "application/json", 400, "invalid"),
    ("order_no=SO1", "text/plain", 415, "unsupported_media_type"),
])
def test_malformed_bodies_are_4xx(alice, raw, content_type, status, code):
    response = alice.post(f"{API}/tickets/", data=raw, content_type=content_type)

    assert_error(response, status, code)
    assert not Ticket.objects.exists()


def test_the_same_line_twice_is_refused(buyer, alice):
    order = make_order(buyer=buyer)
    body = claim_body(order, quantity=1)
    body["lines"] = body["lines"] * 2

    assert_error(alice.post(f"{API}/tickets/", body, format="json"), 400, "invalid", field="lines.1.order_line_id")
    assert not Ticket.objects.exists()


def test_claim_outside_the_window_is_refused(buyer, alice):
    order = make_order(buyer=buyer, delivered_ago=dt.timedelta(days=8))

    response = alice.post(f"{API}/tickets/", claim_body(order), format="json")

    body = assert_error(response, 400, "outside_window", field="order_no")
    assert "7-day" in body["detail"]
    assert not Ticket.objects.exists()


def test_staff_cannot_submit_claims(ops, buyer):
    order = make_order(buyer=buyer)

    response = client_for(ops).post(f"{API}/tickets/", claim_body(order), format="json")

    assert_error(response, 403, "not_allowed")
    assert not Ticket.objects.exists()


def test_another_users_upload_cannot_be_attached(buyer, bob_buyer, alice):
    order = make_order(buyer=buyer)
    bobs_photo = make_upload(bob_buyer.user)

    response = alice.post(f"{API}/tickets/", claim_body(order, photo_ids=[bobs_photo.pk]), format="json")

    assert_error(response, 400, "invalid", field="photo_ids")
    assert not Ticket.objects.exists()
    bobs_photo.refresh_from_db()
    assert bobs_photo.ticket_id is None
