"""A buyer's orders through the API (API.md, GET /api/v1/orders/): only the caller's, paginated, with their
lines and amounts; an unknown order is a 404."""

import pytest

from tests.api_helpers import API, at
from tests.factories import assert_error, make_order

pytestmark = pytest.mark.django_db


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
