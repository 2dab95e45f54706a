"""The API's plumbing as a buyer meets it (API.md, General): token auth, 401 for the anonymous and 403 for
another role's endpoints, throttling, and answers in JSON (also for a path that does not exist)."""

import base64
import json

import pytest
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from aftersales.throttles import UserBurstThrottle
from demo.journeys import advance
from tests.api_helpers import API
from tests.factories import assert_error, client_for, make_order, submit

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------------------------ auth


def test_token_for_username_and_password_then_token_auth_works(buyer):
    response = APIClient().post(f"{API}/auth/token/", {"username": "alice", "password": "pass-1234"}, format="json")

    assert response.status_code == 200
    token = response.json()["token"]
    assert AuthToken.objects.get(user=buyer.user).digest != token  # kept as a hash
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
    assert not AuthToken.objects.exists()


def test_token_endpoint_malformed_json_is_400():
    response = APIClient().post(f"{API}/auth/token/", data='{"username": ', content_type="application/json")

    assert_error(response, 400, "malformed_request")


def test_a_wrong_token_is_401(buyer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    assert_error(client.get(f"{API}/orders/"), 401, "authentication_failed")


# ----------------------------------------------------------------------------- who may call what


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


# ------------------------------------------------------------------------------------ pagination


def cursor_of(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


CRAFTED_CURSORS = ["cD0yMDI2", cursor_of("p=\x00"), cursor_of("p=9999-99-99"), cursor_of("p=" + "9" * 40),
                   cursor_of("p=2026-01-01T00:00:00+99:00"), cursor_of("p=0001-01-01T00:00:00+14:00"),
                   cursor_of("p=2026&r=1&o=2"), cursor_of("o=-5"), cursor_of("r=x")]


@pytest.mark.parametrize(("role", "path"), [("buyer", "tickets/"), ("buyer", "orders/"), ("ops", "staff/tickets/"),
                                            ("finance", "finance/refunds/")])
def test_finding5_crafted_cursor_is_400_not_500(buyer, staff, role, path):
    """A cursor holds a position of the list's ordering (a time): any other position is refused as the
    cursor, before it reaches the database; the cursors the list gives out still page through it."""
    for _ in range(2):
        advance(submit(make_order(buyer=buyer), type="refund_only", reason_code="quality_issue"), "awaiting_refund",
                staff=staff)
    client = client_for(buyer.user if role == "buyer" else staff[role])
    client.raise_request_exception = False  # a 500 is an answer to look at here, not an exception

    for crafted in CRAFTED_CURSORS:
        body = assert_error(client.get(f"{API}/{path}", {"cursor": crafted}), 400, "invalid_cursor", field="cursor")
        assert set(body["fields"]) == {"cursor"}

    first = client.get(f"{API}/{path}", {"page_size": 1}).json()
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()
    assert len(first["results"]) == len(second["results"]) == 1 and first["results"] != second["results"]
    assert back["results"] == first["results"] and back["previous"] is None


@pytest.mark.parametrize("size", ["0", "-1", "101", "x", "1.5", "9" * 5000, "\u0661"],
                         ids=["zero", "negative", "above", "word", "fraction", "huge", "arabic-indic-one"])
def test_a_page_size_outside_1_to_100_is_400_naming_it(alice, size):
    assert_error(alice.get(f"{API}/tickets/", {"page_size": size}), 400, "invalid", field="page_size")


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


def test_an_address_written_by_the_client_does_not_escape_the_address_limit(alice, monkeypatch):
    from aftersales.throttles import IPBurstThrottle

    monkeypatch.setattr(IPBurstThrottle, "rate", "3/min", raising=False)
    cache.clear()
    answers = [alice.get(f"{API}/orders/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(4)]
    cache.clear()

    assert answers == [200, 200, 200, 429]  # one peer, whatever it claims to forward for


# ------------------------------------------------------------------------------ answers are JSON


def test_the_raw_body_of_a_success_is_json(buyer, alice):
    order = make_order(buyer=buyer)

    response = alice.get(f"{API}/orders/{order.order_no}/")

    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["order_no"] == order.order_no


def test_an_unknown_api_path_is_a_json_404(alice):
    for path in ("/api/v1/nothing-here/", "/api/v1/uploads/-5/file/", "/api/v1/tickets/AS1/unknown-verb/"):
        assert_error(alice.get(path), 404, "not_found")


@pytest.mark.parametrize("debug", [True, False])
def test_a_database_that_cannot_answer_is_a_json_503_not_an_error_page(buyer, alice, monkeypatch, settings, debug):
    """The SQLite demo (DEBUG on) once answered "database is locked" with Django's HTML debug page: an
    OperationalError that reaches the API is a 503 in the one error shape, with Retry-After."""
    from django.db import OperationalError

    from tickets import selectors

    def locked(**kwargs):
        raise OperationalError("database is locked")

    settings.DEBUG = debug
    monkeypatch.setattr(selectors, "list_tickets_for_buyer", locked)

    response = alice.get(f"{API}/tickets/")

    body = assert_error(response, 503, "database_unavailable")
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == "2"
    assert "locked" not in body["detail"]  # words for people, not the driver's
