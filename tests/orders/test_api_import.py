"""The order import endpoint (API.md, POST /api/v1/orders/import/): one order or a batch, created then
updated, each bad order refused by the field at fault without stopping the others."""

import pytest

from orders.models import Order
from tests.api_helpers import API, MANY, at
from tests.factories import assert_error, client_for

pytestmark = pytest.mark.django_db


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


def test_import_keeps_the_shops_return_desk(service_user):
    """API.md: the shop object may carry return_address, return_contact and return_phone; a later import
    that leaves them out keeps them, one that sends them replaces them."""
    from orders.models import Shop

    client = client_for(service_user)
    desk = {"return_address": "Returns, 5 Cold Chain Road, Shanghai", "return_contact": "Ms Wang",
            "return_phone": "400-820-8820"}
    record = order_record()
    record["shop"] = {**record["shop"], **desk}

    assert client.post(f"{API}/orders/import/", record, format="json").status_code == 201
    shop = Shop.objects.get(code="S1")
    assert (shop.return_address, shop.return_contact, shop.return_phone) == tuple(desk.values())

    assert client.post(f"{API}/orders/import/", order_record("SO9002"), format="json").status_code == 201
    shop.refresh_from_db()
    assert shop.return_address == desk["return_address"]  # left out: kept

    moved = order_record("SO9003")
    moved["shop"] = {**moved["shop"], "return_address": "Returns, 7 New Road, Suzhou", "return_phone": None}
    assert client.post(f"{API}/orders/import/", moved, format="json").status_code == 201
    shop.refresh_from_db()
    assert (shop.return_address, shop.return_contact, shop.return_phone) == (
        "Returns, 7 New Road, Suzhou", "Ms Wang", "400-820-8820")


@pytest.mark.parametrize(("desk", "field"), [
    ({"return_address": 12}, "shop.return_address"),
    ({"return_contact": "x" * 101}, "shop.return_contact"),
    ({"return_phone": "400\x00"}, "shop.return_phone"),
])
def test_import_refuses_a_bad_return_desk_naming_the_field(service_user, desk, field):
    record = order_record()
    record["shop"] = {**record["shop"], **desk}

    assert_error(client_for(service_user).post(f"{API}/orders/import/", record, format="json"), 400, "invalid",
                 field=field)
    assert not Order.objects.exists()
