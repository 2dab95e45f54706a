"""The buyer side of the REST API (API.md): every buyer endpoint, its refusals, the error shape,
who may see what (401 / 403 / 404), the order import, throttling and query counts."""

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.utils.dateparse import parse_datetime
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from aftersales.throttles import UserBurstThrottle
from demo import journeys
from demo.journeys import advance
from orders.models import Order
from reasons.models import Reason
from tests.factories import (
    BuyerFactory,
    UserFactory,
    assert_error,
    client_for,
    make_order,
    make_upload,
    order_with_tickets,
    reason,
    submit,
)
from tickets.models import Note, Ticket

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def alice(buyer):
    return client_for(buyer.user)


@pytest.fixture
def bob_buyer(db):
    return BuyerFactory(account="bob")


@pytest.fixture
def ops(db):
    return UserFactory(username="ops-olga-internal", groups=["ops"], is_staff=True)


def claim_body(order, *, type="return_refund", reason_code="no_reason_7d", quantity=None, photo_ids=(),
               description="Does not fit the shelf"):
    line = order.lines.order_by("pk").first()
    return {"order_no": order.order_no, "type": type, "reason_id": reason(reason_code).pk,
            "description": description, "photo_ids": list(photo_ids),
            "lines": [{"order_line_id": line.line_id, "quantity": line.quantity if quantity is None else quantity}]}


def at(value: str) -> dt.datetime:
    parsed = parse_datetime(value)
    assert parsed is not None and parsed.tzinfo is not None, value
    return parsed


# ------------------------------------------------------------------------------------------ auth


def test_token_for_username_and_password_then_token_auth_works(buyer):
    response = APIClient().post(f"{API}/auth/token/", {"username": "alice", "password": "pass-1234"}, format="json")

    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=buyer.user).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{API}/orders/").status_code == 200


@pytest.mark.parametrize("body", [
    {"username": "alice", "password": "wrong"},
    {"username": "nobody", "password": "pass-1234"},
    {"username": "alice"},
    {"username": ["alice"], "password": {"x": 1}},
])
def test_token_refused_for_bad_credentials_and_none_issued(buyer, body):
    response = APIClient().post(f"{API}/auth/token/", body, format="json")

    body = assert_error(response, 400, "invalid")
    assert body["fields"]
    assert not Token.objects.exists()


def test_token_endpoint_malformed_json_is_400():
    response = APIClient().post(f"{API}/auth/token/", data='{"username": ', content_type="application/json")

    assert_error(response, 400, "malformed_request")


def test_a_wrong_token_is_401(buyer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    assert_error(client.get(f"{API}/orders/"), 401, "authentication_failed")


# ---------------------------------------------------------------------------------------- orders


def test_orders_lists_only_the_callers_orders_paginated(buyer, bob_buyer, alice):
    mine = make_order(buyer=buyer, lines=(("general", "10.00", 2, None), ("fresh", "5.50", 1, None)),
                      shipping_fee="8.00")
    make_order(buyer=bob_buyer)

    response = alice.get(f"{API}/orders/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert body["next"] is None and body["previous"] is None
    assert [o["order_no"] for o in body["results"]] == [mine.order_no]
    order = body["results"][0]
    assert order["goods_amount"] == "25.50"
    assert order["shipping_fee"] == "8.00"
    assert order["amount_paid"] == "33.50"
    assert order["status"] == "delivered"
    assert [ln["order_line_id"] for ln in order["lines"]] == [f"{mine.order_no}-1", f"{mine.order_no}-2"]
    assert order["lines"][0]["unit_price"] == "10.00"
    assert order["lines"][0]["paid_amount"] == "20.00"


def test_order_detail_with_its_lines(buyer, alice):
    order = make_order(buyer=buyer, lines=(("general", "218.00", 1, None),), coupon="18.00")

    response = alice.get(f"{API}/orders/{order.order_no}/")

    assert response.status_code == 200
    body = response.json()
    assert body["order_no"] == order.order_no
    assert body["shop"] == {"code": order.shop.code, "name": order.shop.name}
    assert body["coupon_discount"] == "18.00"
    assert body["lines"] == [{
        "order_line_id": f"{order.order_no}-1", "sku": "SKU-1", "product_name": "Product 1", "product_code": "P-1",
        "category": "general", "unit_price": "218.00", "quantity": 1, "paid_amount": "200.00"}]
    assert at(body["delivered_at"]) == order.delivered_at


def test_unknown_order_is_404(alice):
    assert_error(alice.get(f"{API}/orders/SO-NOPE/"), 404, "not_found")
    assert_error(alice.get(f"{API}/orders/SO-NOPE/eligibility/"), 404, "not_found")


# ----------------------------------------------------------------------------------- eligibility


def test_eligibility_claimable_quantity_max_refund_types_and_deadlines(buyer, alice):
    order = make_order(buyer=buyer, lines=(("general", "10.00", 3, "20.00"),))

    body = alice.get(f"{API}/orders/{order.order_no}/eligibility/").json()

    assert body["order_no"] == order.order_no
    assert body["order_status"] == "delivered"
    assert body["max_photos"] == 6
    [line] = body["lines"]
    assert line["order_line_id"] == f"{order.order_no}-1"
    assert (line["quantity"], line["claimed_quantity"], line["claimable_quantity"]) == (3, 0, 3)
    assert line["max_refund"] == "20.00"
    assert line["allowed_types"] == ["refund_only", "return_refund", "exchange"]
    deadlines = {d["name"]: d for d in line["deadlines"]}
    assert set(deadlines) == {"no_reason", "quality"}
    assert deadlines["no_reason"]["types"] == ["exchange", "return_refund"]
    assert deadlines["no_reason"]["reasons"] == "buyer"
    assert at(deadlines["no_reason"]["ends_at"]) == order.delivered_at + dt.timedelta(days=7)
    assert deadlines["quality"]["types"] == ["exchange", "refund_only", "return_refund"]
    assert at(deadlines["quality"]["ends_at"]) == order.delivered_at + dt.timedelta(days=15)
    assert deadlines["quality"]["open"] is True and deadlines["no_reason"]["open"] is True


def test_eligibility_after_a_claim_counts_what_is_left_to_the_cent(buyer, alice):
    order = make_order(buyer=buyer, lines=(("general", "10.00", 3, "20.00"), ("general", "4.00", 1, None)))
    first = submit(order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 1), (1, 1)])
    assert str(first.refund_amount) == "10.66"  # 6.66 (20.00 / 3 rounded down) + 4.00

    body = alice.get(f"{API}/orders/{order.order_no}/eligibility/").json()

    left, gone = body["lines"]
    assert (left["claimed_quantity"], left["claimable_quantity"], left["max_refund"]) == (1, 2, "13.34")
    assert (gone["claimed_quantity"], gone["claimable_quantity"], gone["max_refund"]) == (1, 0, "0.00")
    assert gone["allowed_types"] == []


def test_eligibility_of_fresh_produce_48_hours_quality_only(buyer, alice):
    order = make_order(buyer=buyer, lines=(("fresh", "30.00", 1, None),), delivered_ago=dt.timedelta(hours=10))

    [line] = alice.get(f"{API}/orders/{order.order_no}/eligibility/").json()["lines"]

    [window] = line["deadlines"]
    assert window["name"] == "fresh_quality"
    assert window["reasons"] == "quality_only"
    assert at(window["ends_at"]) == order.delivered_at + dt.timedelta(hours=48)
    assert line["photos_required_for"] == ["exchange", "refund_only", "return_refund"]


def test_eligibility_after_the_window_offers_nothing(buyer, alice):
    order = make_order(buyer=buyer, delivered_ago=dt.timedelta(days=16))

    [line] = alice.get(f"{API}/orders/{order.order_no}/eligibility/").json()["lines"]

    assert line["claimable_quantity"] == 2
    assert line["allowed_types"] == []
    assert [d["open"] for d in line["deadlines"]] == [False, False]


# --------------------------------------------------------------------------------------- reasons


def test_reasons_fit_the_type_in_display_order(alice):
    Reason.objects.filter(code="size_issue").update(display_order=1)
    hidden = Reason.objects.get(code="wrong_item")
    hidden.is_visible = False
    hidden.save()

    response = alice.get(f"{API}/reasons/", {"ticket_type": "exchange"})

    assert response.status_code == 200
    codes = [r["code"] for r in response.json()]
    assert codes == ["size_issue", "quality_issue", "damaged_in_transit", "not_as_described", "colour_difference"]
    first = response.json()[0]
    assert set(first) >= {"id", "code", "name", "group", "is_quality_issue", "requires_photos", "responsible"}
    assert (first["group"], first["responsible"], first["requires_photos"]) == ("product", "buyer", False)


def test_reasons_fit_the_orders_categories(buyer, alice):
    fresh = make_order(buyer=buyer, lines=(("fresh", "30.00", 1, None),))

    codes = [r["code"] for r in alice.get(f"{API}/reasons/", {"order_no": fresh.order_no,
                                                              "ticket_type": "refund_only"}).json()]

    assert codes[:3] == ["quality_issue", "damaged_in_transit", "wrong_item"]
    assert "not_as_described" not in codes  # not for fresh produce
    assert "presale_attitude" not in codes
    assert "changed_mind" in codes
    expected = [r.code for r in Reason.objects.offered() if "refund_only" in r.ticket_types and r.for_fresh]
    assert codes == expected


def test_reasons_refuse_a_bad_type_and_hide_other_buyers_orders(bob_buyer, alice):
    bobs = make_order(buyer=bob_buyer)

    assert_error(alice.get(f"{API}/reasons/", {"ticket_type": "gift"}), 400, "invalid", field="ticket_type")
    assert_error(alice.get(f"{API}/reasons/", {"order_no": bobs.order_no}), 404, "not_found")
    assert_error(alice.get(f"{API}/reasons/", {"order_no": "x" * 65}), 400, "invalid", field="order_no")


# ------------------------------------------------------------------------------------ submission


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


MANY = 10**30


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


# ------------------------------------------------------------------------------- list and detail


def test_my_tickets_with_filters(buyer, bob_buyer, alice, staff):
    first = make_order(buyer=buyer, lines=(("general", "10.00", 1, None), ("general", "5.00", 1, None)))
    second = make_order(buyer=buyer)
    pending = submit(first, type="return_refund", reason_code="no_reason_7d", lines=[(0, 1)])
    exchange = submit(first, type="exchange", reason_code="quality_issue", lines=[(1, 1)])
    rejected = advance(submit(second, type="refund_only", reason_code="quality_issue"), "rejected", staff=staff)
    submit(make_order(buyer=bob_buyer), type="return_refund", reason_code="no_reason_7d")

    def numbers(**params):
        response = alice.get(f"{API}/tickets/", params)
        assert response.status_code == 200, response.content
        return {t["ticket_no"] for t in response.json()["results"]}

    assert numbers() == {pending.ticket_no, exchange.ticket_no, rejected.ticket_no}
    assert numbers(status="rejected") == {rejected.ticket_no}
    assert numbers(type="exchange") == {exchange.ticket_no}
    assert numbers(order_no=first.order_no) == {pending.ticket_no, exchange.ticket_no}
    assert numbers(order_no=first.order_no, status="pending_review", type="return_refund") == {pending.ticket_no}
    assert numbers(order_no="SO-NOPE") == set()
    assert_error(alice.get(f"{API}/tickets/", {"status": "lost"}), 400, "invalid", field="status")


def test_my_tickets_cursor_pagination(buyer, alice):
    tickets = [submit(make_order(buyer=buyer), type="return_refund", reason_code="no_reason_7d") for _ in range(5)]

    page = alice.get(f"{API}/tickets/", {"page_size": 2}).json()
    seen = [t["ticket_no"] for t in page["results"]]
    assert set(page) == {"next", "previous", "results"}
    assert page["previous"] is None and page["next"].startswith("http://testserver/api/v1/tickets/?cursor=")
    while page["next"]:
        page = alice.get(page["next"]).json()
        assert page["previous"] is not None
        seen += [t["ticket_no"] for t in page["results"]]

    assert seen == [t.ticket_no for t in reversed(tickets)]  # newest first, each once
    assert_error(alice.get(f"{API}/tickets/", {"cursor": "garbage"}), 400, "invalid", field="cursor")


def test_ticket_detail_shows_decisions_but_no_internal_notes_or_staff_names(buyer, alice, ops, staff):
    order = make_order(buyer=buyer, lines=(("general", "50.00", 1, None),), shipping_fee="6.00")
    ticket = submit(order, type="return_refund", reason_code="quality_issue")
    secret = "Internal: buyer filed 9 claims this month, check photos against order SO-XYZ"
    note = client_for(ops).post(f"{API}/staff/tickets/{ticket.ticket_no}/notes/", {"text": secret}, format="json")
    assert note.status_code == 201, note.content
    assert note.json()["author"] == "ops-olga-internal"
    approved = client_for(ops).post(f"{API}/staff/tickets/{ticket.ticket_no}/approve/",
                                    {"return_address": "Dock 7, 1 Depot Road"}, format="json")
    assert approved.status_code == 200, approved.content
    journeys.ship_back(ticket, staff)

    response = alice.get(f"{API}/tickets/{ticket.ticket_no}/")

    assert response.status_code == 200
    assert secret.encode() not in response.content
    assert b"ops-olga-internal" not in response.content
    assert b'"notes"' not in response.content
    data = response.json()
    assert data["status"] == "awaiting_return"
    assert data["return_address"] == "Dock 7, 1 Depot Road"
    assert data["refund_amount"] == "50.00"
    assert data["rejection_reason"] == ""
    assert at(data["return_deadline"]) > at(data["reviewed_at"])
    assert [(s["direction"], s["courier"], s["tracking_no"]) for s in data["shipments"]] == [
        ("return", "SF Express", f"SF{ticket.pk:010d}")]
    assert [(e["transition"], e["by"]) for e in data["timeline"]] == [
        ("submit", "buyer"), ("approve", "ops"), ("record_return_shipment", "buyer")]
    assert all("actor" not in e and "changes" not in e for e in data["timeline"])
    assert Note.objects.get(ticket=ticket).text == secret


def test_ticket_detail_shows_the_rejection_reason(buyer, alice, staff):
    ticket = advance(submit(make_order(buyer=buyer), type="refund_only"), "rejected", staff=staff)

    data = alice.get(f"{API}/tickets/{ticket.ticket_no}/").json()

    assert data["status"] == "rejected"
    assert data["rejection_reason"] == "Photos do not show a defect."
    assert data["timeline"][-1]["reason"] == "Photos do not show a defect."
    assert data["reviewed_at"] is not None


def test_unknown_ticket_is_404_and_nul_in_path_is_not_a_5xx(alice):
    assert_error(alice.get(f"{API}/tickets/AS-NOPE/"), 404, "not_found")
    assert_error(alice.get(f"{API}/tickets/AS%00X/"), 404, "not_found")
    assert_error(alice.get(f"{API}/orders/SO%00X/"), 404, "not_found")
    assert_error(alice.post(f"{API}/tickets/AS%00X/cancel/"), 404, "not_found")


# ---------------------------------------------------------------------------- buyer ticket moves


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


# ------------------------------------------------------------------------- who may see what


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


ALL_CALLS = [
    ("get", "orders/"), ("get", "orders/SO1/"), ("get", "orders/SO1/eligibility/"), ("post", "orders/import/"),
    ("get", "reasons/"), ("post", "uploads/"), ("get", "tickets/"), ("post", "tickets/"), ("get", "tickets/AS1/"),
    ("post", "tickets/AS1/cancel/"), ("post", "tickets/AS1/return-shipment/"),
    ("post", "tickets/AS1/confirm-receipt/"), ("get", "staff/tickets/"), ("get", "staff/tickets/AS1/"),
    ("post", "staff/tickets/AS1/approve/"), ("post", "staff/tickets/AS1/reject/"),
    ("post", "staff/tickets/AS1/compensate/"), ("post", "staff/tickets/AS1/notes/"), ("get", "finance/refunds/"),
    ("post", "finance/tickets/AS1/approve/"), ("post", "finance/tickets/AS1/reject/"),
    ("post", "warehouse/inbound/"), ("post", "warehouse/outbound/"), ("get", "ping/"),
]


@pytest.mark.parametrize(("method", "path"), ALL_CALLS)
def test_anonymous_is_401_everywhere(method, path):
    client = APIClient()
    response = client.post(f"{API}/{path}", {}, format="json") if method == "post" else client.get(f"{API}/{path}")

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_anonymous_may_read_the_schema_and_docs_and_ask_for_a_token():
    client = APIClient()

    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    assert_error(client.post(f"{API}/auth/token/", {}, format="json"), 400, "invalid", field="username")


STAFF_CALLS = [
    ("get", "staff/tickets/"), ("get", "staff/tickets/{ticket_no}/"), ("post", "staff/tickets/{ticket_no}/approve/"),
    ("post", "staff/tickets/{ticket_no}/reject/"), ("post", "staff/tickets/{ticket_no}/compensate/"),
    ("post", "staff/tickets/{ticket_no}/notes/"), ("get", "finance/refunds/"),
    ("post", "finance/tickets/{ticket_no}/approve/"), ("post", "finance/tickets/{ticket_no}/reject/"),
    ("post", "warehouse/inbound/"), ("post", "warehouse/outbound/"), ("post", "orders/import/"),
]


@pytest.mark.parametrize(("method", "path"), STAFF_CALLS)
def test_a_buyer_may_not_use_staff_finance_warehouse_or_import_endpoints(buyer, alice, method, path):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="no_reason_7d")
    url = f"{API}/" + path.format(ticket_no=ticket.ticket_no)
    body = {"reason": "x", "text": "x", "amount": "1.00", "note": "x", "ticket_no": ticket.ticket_no,
            "lines": [{"order_line_id": ticket.lines.get().order_line.line_id, "quantity": 1, "accepted": True}],
            "courier": "SF", "tracking_no": "1"}

    response = alice.get(url) if method == "get" else alice.post(url, body, format="json")

    assert_error(response, 403, "not_allowed")
    ticket.refresh_from_db()
    assert ticket.status == "pending_review"
    assert not ticket.notes.exists()


# ---------------------------------------------------------------------------------- order import


def order_record(order_no="SO9001", *, account="carol", amount_paid="55.00", quantity=10):
    return {"order_no": order_no, "shop": {"code": "S1", "name": "Fresh Farm"},
            "buyer": {"account": account, "level": 2, "address": "3 Orchard Way"},
            "status": "delivered", "placed_at": "2026-01-20T10:00:00+08:00", "paid_at": "2026-01-20T10:01:00+08:00",
            "shipped_at": "2026-01-21T09:00:00+08:00", "delivered_at": "2026-01-22T15:00:00+08:00",
            "shipping_fee": "10.00", "coupon_discount": "5.00", "virtual_currency": "0.00",
            "amount_paid": amount_paid,
            "lines": [{"line_id": f"{order_no}-1", "sku": "APL-10", "product_name": "Apples x10",
                       "product_code": "P-APL", "category": "fresh", "unit_price": "5.00", "quantity": quantity}]}


def test_import_one_order_then_again_updates(service_user):
    client = client_for(service_user)

    created = client.post(f"{API}/orders/import/", order_record(), format="json")
    again = client.post(f"{API}/orders/import/", order_record(amount_paid="50.00"), format="json")

    assert created.status_code == 201, created.content
    assert created.json() == {"created": 1, "updated": 0, "refused": []}
    assert again.status_code == 200, again.content
    assert again.json() == {"created": 0, "updated": 1, "refused": []}
    order = Order.objects.get(order_no="SO9001")
    assert str(order.amount_paid) == "50.00"
    assert order.buyer.account == "carol"
    assert str(order.lines.get().paid_amount) == "40.00"


def test_import_a_batch_with_a_bad_order_refuses_only_that_one(service_user):
    bad = order_record("SO9002", amount_paid="999.00")

    response = client_for(service_user).post(
        f"{API}/orders/import/", {"orders": [order_record("SO9001"), bad, "not an order", order_record("SO9003")]},
        format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["updated"]) == (2, 0)
    assert [(r["index"], r["order_no"], r["field"]) for r in body["refused"]] == [
        (1, "SO9002", "amount_paid"), (2, None, "order")]
    assert set(Order.objects.values_list("order_no", flat=True)) == {"SO9001", "SO9003"}


@pytest.mark.parametrize(("record", "code", "field"), [
    ({"order_no": "SO1"}, "required", "shop"),
    ([1, 2], "invalid", "order"),
    ({**order_record(), "lines": [{**order_record()["lines"][0], "quantity": MANY}]}, "invalid", "lines.0.quantity"),
    ({**order_record(), "amount_paid": "1e400"}, "invalid", "amount_paid"),
    ({**order_record(), "amount_paid": 10**400}, "invalid", "amount_paid"),
    ({**order_record(), "placed_at": "yesterday"}, "invalid", "placed_at"),
    ({**order_record(), "order_no": "SO\x00X"}, "invalid", "order_no"),
    ({**order_record(), "buyer": {"account": "x\x00y"}}, "invalid", "buyer.account"),
])
def test_import_refuses_a_bad_single_order_naming_the_field(service_user, record, code, field):
    response = client_for(service_user).post(f"{API}/orders/import/", record, format="json")

    assert_error(response, 400, code, field=field)
    assert not Order.objects.exists()


def test_import_takes_any_offset_python_accepts(service_user):
    """PostgreSQL stores offsets up to ±15:59 only; a time with -17:38 is the same instant in UTC."""
    record = {**order_record(), "delivered_at": "2026-01-22T15:00:00-17:38"}

    response = client_for(service_user).post(f"{API}/orders/import/", record, format="json")

    assert response.status_code == 201, response.content
    assert Order.objects.get().delivered_at == at("2026-01-22T15:00:00-17:38")


def test_import_batch_must_be_a_list(service_user):
    response = client_for(service_user).post(f"{API}/orders/import/", {"orders": "all"}, format="json")

    assert_error(response, 400, "invalid", field="orders")


# ------------------------------------------------------------------------------------ throttling


@pytest.fixture
def three_per_minute(monkeypatch):
    monkeypatch.setattr(UserBurstThrottle, "rate", "3/min", raising=False)
    cache.clear()
    yield
    cache.clear()


def test_a_fourth_request_in_a_minute_is_429_in_the_error_shape(alice, three_per_minute):
    for _ in range(3):
        assert alice.get(f"{API}/orders/").status_code == 200

    response = alice.get(f"{API}/orders/")

    body = assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert set(body) == {"code", "detail"}


def test_throttling_counts_per_user(buyer, bob_buyer, alice, three_per_minute):
    for _ in range(3):
        alice.get(f"{API}/orders/")
    assert_error(alice.get(f"{API}/orders/"), 429, "throttled")

    assert client_for(bob_buyer.user).get(f"{API}/orders/").status_code == 200


# --------------------------------------------------------------------------------- query counts


# Measured: the list is token + page + lines (with their order lines); the detail is token + ticket (with
# order, shop, buyer, reason, reviewer) + one query each for lines, photos, return shipments, replacement
# shipments, refunds and buyer-visible events. Neither grows with the number of tickets or lines.
BUYER_LIST_QUERIES = 3
BUYER_DETAIL_QUERIES = 8


@pytest.mark.parametrize("tickets", [2, 20])
def test_my_ticket_list_query_count_does_not_grow(buyer, alice, django_assert_max_num_queries, tickets):
    order_with_tickets(buyer, tickets)

    with django_assert_max_num_queries(BUYER_LIST_QUERIES):
        response = alice.get(f"{API}/tickets/", {"page_size": 50})

    assert len(response.json()["results"]) == tickets


@pytest.mark.parametrize("lines", [1, 10])
def test_my_ticket_detail_query_count_does_not_grow(buyer, alice, staff, django_assert_max_num_queries, lines):
    order = make_order(buyer=buyer, lines=tuple(("general", "10.00", 1, None) for _ in range(lines)))
    ticket = advance(submit(order, type="return_refund"), "awaiting_return", staff=staff)
    journeys.ship_back(ticket, staff)

    with django_assert_max_num_queries(BUYER_DETAIL_QUERIES):
        response = alice.get(f"{API}/tickets/{ticket.ticket_no}/")

    assert len(response.json()["lines"]) == lines
    assert len(response.json()["timeline"]) == 3


def test_the_raw_body_of_a_success_is_json(buyer, alice):
    order = make_order(buyer=buyer)

    response = alice.get(f"{API}/orders/{order.order_no}/")

    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["order_no"] == order.order_no


def test_password_guessing_is_throttled_per_address_and_account(buyer, monkeypatch):
    from aftersales.throttles import LoginThrottle

    monkeypatch.setattr(LoginThrottle, "rate", "3/min", raising=False)
    cache.clear()
    client = APIClient()
    for _ in range(3):
        assert_error(client.post(f"{API}/auth/token/", {"username": "alice", "password": "guess"}, format="json"),
                     400, "invalid")

    assert_error(client.post(f"{API}/auth/token/", {"username": "alice", "password": "guess"}, format="json"),
                 429, "throttled")
    other = client.post(f"{API}/auth/token/", {"username": "bob", "password": "guess"}, format="json")
    assert other.status_code == 400  # another account from the same address is still judged
    cache.clear()


def test_an_unknown_api_path_is_a_json_404(alice):
    for path in ("/api/v1/nothing-here/", "/api/v1/uploads/-5/file/", "/api/v1/tickets/AS1/unknown-verb/"):
        assert_error(alice.get(path), 404, "not_found")
