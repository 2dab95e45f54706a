"""Idempotency-Key on creating POSTs (API.md, General): the same key and body replay the first response,
another body is 422, keys belong to their caller, a failed request stores nothing, and ten concurrent
requests with one key create one ticket."""

import datetime as dt
import io
import json
import threading

import pytest
from django.db import connection
from PIL import Image
from rest_framework.test import APIClient

from access.tokens import issue_token
from aftersales import clock
from aftersales.models import IdempotencyKey
from aftersales.tasks import purge_idempotency_keys
from orders.models import Order
from tests.factories import BuyerFactory, make_order, reason
from tickets.models import Ticket, Upload

API = "/api/v1"
URL = f"{API}/tickets/"


def token_of(user) -> str:
    return issue_token(user)[1]


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def claim(order, quantity=2) -> dict:
    return {"order_no": order.order_no, "type": "return_refund", "reason_id": reason("no_reason_7d").pk,
            "description": "Too big", "lines": [{"order_line_id": f"{order.order_no}-1", "quantity": quantity}]}


def post(client, body, key):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def alice(buyer):
    return client_with(token_of(buyer.user))


@pytest.mark.django_db
def test_same_key_same_body_replays_the_first_response(buyer, alice):
    order = make_order(buyer=buyer)

    first = post(alice, claim(order), "key-1")
    second = post(alice, claim(order), "key-1")

    assert first.status_code == 201, first.content
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Ticket.objects.get().ticket_no == first.json()["ticket_no"]


@pytest.mark.django_db
def test_the_same_body_with_keys_in_another_order_is_the_same_request(buyer, alice):
    order = make_order(buyer=buyer)
    body = claim(order)

    first = post(alice, body, "key-order")
    second = alice.post(URL, json.dumps(dict(reversed(list(body.items())))), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="key-order")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["ticket_no"] == first.json()["ticket_no"]
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_same_key_another_body_is_422(buyer, alice):
    order = make_order(buyer=buyer)
    first = post(alice, claim(order, quantity=1), "key-2")

    response = post(alice, claim(order, quantity=2), "key-2")

    assert first.status_code == 201
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "idempotency_key_reused"
    assert body["detail"]
    assert "Idempotency-Key" in body["fields"]
    assert Ticket.objects.count() == 1
    assert Ticket.objects.get().lines.get().quantity == 1


@pytest.mark.django_db
def test_keys_belong_to_their_caller(buyer, alice):
    bob = BuyerFactory(account="bob")
    mine, bobs = make_order(buyer=buyer), make_order(buyer=bob)

    first = post(alice, claim(mine), "shared-key")
    other = post(client_with(token_of(bob.user)), claim(bobs), "shared-key")

    assert (first.status_code, other.status_code) == (201, 201)
    assert other.json()["ticket_no"] != first.json()["ticket_no"]
    assert other.json()["order_no"] == bobs.order_no
    assert set(Ticket.objects.values_list("buyer__account", flat=True)) == {"alice", "bob"}


@pytest.mark.django_db
def test_a_failed_request_stores_nothing_and_the_key_can_be_used_again(buyer, alice):
    order = make_order(buyer=buyer)

    failed = post(alice, claim(order, quantity=3), "key-3")
    failed_again = post(alice, claim(order, quantity=3), "key-3")
    fixed = post(alice, claim(order, quantity=2), "key-3")
    replay = post(alice, claim(order, quantity=2), "key-3")

    assert (failed.status_code, failed.json()["code"]) == (400, "quantity_above_claimable")
    assert failed_again.status_code == 400
    assert fixed.status_code == 201, fixed.content
    assert replay.status_code == 201 and replay.json()["ticket_no"] == fixed.json()["ticket_no"]
    assert Ticket.objects.count() == 1
    assert IdempotencyKey.objects.get().response_status == 201


@pytest.mark.django_db
def test_a_replay_returns_the_original_response_even_after_the_ticket_moved(buyer, alice):
    order = make_order(buyer=buyer)
    first = post(alice, claim(order), "key-4")
    alice.post(f"{API}/tickets/{first.json()['ticket_no']}/cancel/")

    replay = post(alice, claim(order), "key-4")

    assert replay.status_code == 201
    assert replay.json()["status"] == "pending_review"
    assert Ticket.objects.get().status == "cancelled"


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_an_empty_or_overlong_key_is_400(buyer, alice, key):
    order = make_order(buyer=buyer)

    response = post(alice, claim(order), key)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "Idempotency-Key" in response.json()["fields"]
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_keys_are_per_endpoint(buyer, alice):
    order = make_order(buyer=buyer)
    png = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(png, "PNG")
    png.name = "a.png"
    png.seek(0)

    upload = alice.post(f"{API}/uploads/", {"file": png}, format="multipart", HTTP_IDEMPOTENCY_KEY="key-5")
    ticket = post(alice, claim(order), "key-5")

    assert (upload.status_code, ticket.status_code) == (201, 201)
    assert Upload.objects.count() == 1 and Ticket.objects.count() == 1


@pytest.mark.django_db
def test_an_upload_replayed_is_stored_once(buyer, alice):
    def photo():
        buf = io.BytesIO()
        Image.new("RGB", (4, 4), "blue").save(buf, "PNG")
        buf.name = "a.png"
        buf.seek(0)
        return buf

    first = alice.post(f"{API}/uploads/", {"file": photo()}, format="multipart", HTTP_IDEMPOTENCY_KEY="up-1")
    second = alice.post(f"{API}/uploads/", {"file": photo()}, format="multipart", HTTP_IDEMPOTENCY_KEY="up-1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]
    assert Upload.objects.count() == 1


@pytest.mark.django_db
def test_order_import_with_a_key_replays(service_user):
    client = client_with(token_of(service_user))
    record = {"order_no": "SO7001", "shop": {"code": "S1", "name": "Shop"}, "buyer": {"account": "dave"},
              "status": "unshipped", "placed_at": "2026-01-20T10:00:00+08:00", "amount_paid": "5.00",
              "lines": [{"line_id": "SO7001-1", "sku": "A", "product_name": "A", "category": "general",
                         "unit_price": "5.00", "quantity": 1}]}

    first = client.post(f"{API}/orders/import/", record, format="json", HTTP_IDEMPOTENCY_KEY="imp-1")
    second = client.post(f"{API}/orders/import/", record, format="json", HTTP_IDEMPOTENCY_KEY="imp-1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json() == {"created": 1, "updated": 0, "refused": []}
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_kept_at_least_24_hours(buyer, alice):
    order = make_order(buyer=buyer)
    first = post(alice, claim(order), "key-6")
    IdempotencyKey.objects.update(created_at=clock.now() - dt.timedelta(hours=25))

    assert purge_idempotency_keys() == 0
    replay = post(alice, claim(order), "key-6")

    assert replay.status_code == 201 and replay.json()["ticket_no"] == first.json()["ticket_no"]
    assert Ticket.objects.count() == 1
    IdempotencyKey.objects.update(created_at=clock.now() - dt.timedelta(hours=49))
    assert purge_idempotency_keys() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_requests_with_one_key_create_one_ticket():
    buyer = BuyerFactory(account="racer")
    order = make_order(buyer=buyer)
    body, token = claim(order), token_of(buyer.user)
    threads_n = 10
    barrier = threading.Barrier(threads_n)
    results: list = [None] * threads_n

    def call(i: int) -> None:
        client = client_with(token)
        try:
            barrier.wait(timeout=30)
            response = post(client, body, "race-key")
            results[i] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(r is not None for r in results), results
    assert {status for status, _ in results} == {201}
    assert len({data["ticket_no"] for _, data in results}) == 1
    assert Ticket.objects.count() == 1
    assert Ticket.objects.get().ticket_no == results[0][1]["ticket_no"]
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_without_a_key_cannot_overclaim():
    """Without a key each request is its own claim; the line lock still lets only one take both units."""
    buyer = BuyerFactory(account="racer2")
    order = make_order(buyer=buyer)
    body, token = claim(order), token_of(buyer.user)
    barrier = threading.Barrier(5)
    statuses: list = []

    def call() -> None:
        client = client_with(token)
        try:
            barrier.wait(timeout=30)
            statuses.append(client.post(URL, body, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [201, 400, 400, 400, 400]
    assert Ticket.objects.count() == 1
