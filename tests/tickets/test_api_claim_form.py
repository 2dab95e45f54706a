"""What the claim form reads before a claim (API.md): an order line's eligibility (claimable quantity, the
most it may refund, the types and deadlines open) and the reasons that fit a type and an order."""

import datetime as dt

import pytest

from reasons.models import Reason
from tests.api_helpers import API, at
from tests.factories import assert_error, make_order, submit

pytestmark = pytest.mark.django_db


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
