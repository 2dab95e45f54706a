"""Hardening (issue #14): Redis down is survived, hostile JSON is a 400 in the API's one shape, every request
carries an id, and /health/ready names what is down."""

import base64
import json

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from aftersales import clock
from aftersales.tasks import WORKER_SEEN, heartbeat
from config.urls import server_error
from demo.journeys import advance
from tests.api_helpers import API
from tests.factories import UserFactory, client_for, make_order, submit

pytestmark = pytest.mark.django_db

REDIS_DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1
DOWN_CACHE = {"default": {"BACKEND": "aftersales.cache.ResilientRedisCache", "LOCATION": REDIS_DOWN,
                          "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}


def post_raw(path: str, body: str, content_type="application/json"):
    return APIClient().generic("POST", path, body.encode("utf-8", "surrogatepass"), content_type=content_type)


def assert_error_shape(response, status: int, code: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and isinstance(body["detail"], str) and body["detail"]
    return body


# ------------------------------------------------------------------------------------- hostile bodies


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/tickets/", "/api/v1/orders/import/"])
def test_json_nested_950_levels_deep_is_a_400_not_a_crash(path):
    response = post_raw(path, "[" * 950 + "]" * 950)

    assert response.status_code in (400, 401), response.content
    assert response["Content-Type"].startswith("application/json")


def test_the_token_endpoint_refuses_deep_nesting_with_the_reason():
    body = assert_error_shape(post_raw("/api/v1/auth/token/", '{"username": ' + "[" * 950 + "]" * 950 + "}"),
                              400, "malformed_request")
    assert "nested" in body["detail"]


def test_a_lone_surrogate_as_the_username_is_a_400():
    response = post_raw("/api/v1/auth/token/", '{"username": "a\\ud800b", "password": "x"}')

    body = assert_error_shape(response, 400, "invalid")
    assert "Unicode" in body["detail"] and "username" in body["fields"]


def test_a_json_body_over_the_size_limit_is_a_413_and_changes_nothing(buyer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    order = make_order(buyer=buyer)
    body = {"order_no": order.order_no, "type": "refund_only", "reason_id": 1, "description": "x" * 4096,
            "lines": [{"order_line_id": order.lines.get().line_id, "quantity": 1}]}
    alice = client_for(buyer.user)

    too_large = alice.post(f"{API}/tickets/", body, format="json")
    small = alice.post(f"{API}/tickets/", {**body, "description": "x" * 100}, format="json")

    assert_error_shape(too_large, 413, "request_too_large")
    assert "2048 bytes" in too_large.json()["detail"]
    assert small.status_code == 400  # read and checked as usual (reason 1 is not a refund-only reason here)
    assert not order.tickets.exists()


def test_a_form_body_on_a_json_endpoint_is_refused_as_unsupported():
    response = APIClient().post("/api/v1/auth/token/", "username=a&password=b",
                                content_type="application/x-www-form-urlencoded")

    assert_error_shape(response, 415, "unsupported_media_type")


def test_the_last_resort_error_is_json_with_the_request_id_under_api():
    request = RequestFactory().get("/api/v1/tickets/")
    request.request_id = "abc123def456"

    response = server_error(request)

    assert response.status_code == 500
    body = json.loads(response.content)
    assert (body["code"], body["request_id"]) == ("server_error", "abc123def456")
    assert "abc123def456" in body["detail"] and "Traceback" not in body["detail"]


def test_every_response_carries_a_request_id_and_a_sane_one_from_the_proxy_is_kept():
    made = Client().get("/health/live")
    kept = Client().get("/health/live", HTTP_X_REQUEST_ID="proxy-0123456789")
    refused = Client().get("/health/live", HTTP_X_REQUEST_ID="<script>")

    assert len(made["X-Request-ID"]) == 32
    assert kept["X-Request-ID"] == "proxy-0123456789"
    assert refused["X-Request-ID"] != "<script>"


# ------------------------------------------------------------------------------------- Redis down


def test_with_redis_down_the_api_still_serves_and_ready_names_redis(buyer):
    order = make_order(buyer=buyer)
    UserFactory(username="ops9", groups=["ops"])
    with override_settings(CACHES=DOWN_CACHE, REDIS_URL=REDIS_DOWN, CELERY_TASK_ALWAYS_EAGER=False):
        anonymous = APIClient()
        token = anonymous.post(f"{API}/auth/token/", {"username": "ops9", "password": "pass-1234"}, format="json")
        alice = client_for(buyer.user)
        orders = alice.get(f"{API}/orders/")
        eligibility = alice.get(f"{API}/orders/{order.order_no}/eligibility/")
        reasons = alice.get(f"{API}/reasons/", {"ticket_type": "return_refund", "order_no": order.order_no})
        line = order.lines.get()
        reason = next(r for r in reasons.json() if r["code"] == "no_reason_7d")
        claim = alice.post(f"{API}/tickets/", {
            "order_no": order.order_no, "type": "return_refund", "reason_id": reason["id"],
            "lines": [{"order_line_id": line.line_id, "quantity": 1}]}, format="json")
        detail = alice.get(f"{API}/tickets/{claim.json()['ticket_no']}/")
        staff = APIClient()
        staff.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
        staff_list = staff.get(f"{API}/staff/tickets/")
        ready = Client().get("/health/ready")

    assert [r.status_code for r in (token, orders, eligibility, reasons, claim, detail, staff_list)] == [
        200, 200, 200, 200, 201, 200, 200]
    assert ready.status_code == 503
    assert ready.json()["parts"]["redis"]["up"] is False and ready.json()["parts"]["database"]["up"] is True


@override_settings(CACHES={"default": {"BACKEND": "aftersales.cache.ResilientRedisCache",
                                       "LOCATION": "redis://127.0.0.1:6379/0", "KEY_PREFIX": "test-health"}},
                   REDIS_URL="redis://127.0.0.1:6379/0", CELERY_TASK_ALWAYS_EAGER=False)
def test_ready_once_redis_answers_and_a_worker_beat_recently():
    cache.delete(WORKER_SEEN)
    silent = Client().get("/health/ready")
    heartbeat()  # what the worker runs every 30 s
    ready = Client().get("/health/ready")
    with clock.frozen_at(clock.now() + clock.dt.timedelta(minutes=5)):
        stale = Client().get("/health/ready")

    assert (silent.status_code, silent.json()["parts"]["worker"]["up"]) == (503, False)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert stale.status_code == 503


# ------------------------------------------------------------------------------------- the schema and a fuzz


def schema() -> dict:
    return APIClient().get("/api/schema/", {"format": "json"}).json()


def test_the_schema_declares_json_bodies_only_and_multipart_for_uploads():
    declared = {(path, method): sorted(op["requestBody"]["content"])
                for path, ops in schema()["paths"].items() for method, op in ops.items() if "requestBody" in op}

    assert declared[("/api/v1/uploads/", "post")] == ["multipart/form-data"]
    assert {key: kinds for key, kinds in declared.items() if key[0] != "/api/v1/uploads/"} == {
        key: ["application/json"] for key in declared if key[0] != "/api/v1/uploads/"}


HOSTILE = [
    ("application/json", "[" * 5000 + "]" * 5000),
    ("application/json", '{"a": ' * 950 + "1" + "}" * 950),
    ("application/json", '{"username": "\\ud800", "reason": "\\udfff", "lines": ["\\ud83d"]}'),
    ("application/json", '{"amount": 1e999999, "quantity": 99999999999999999999999999999999999999}'),
    ("application/json", '{"lines": ' + json.dumps([{"order_line_id": "x", "quantity": 1}] * 5000) + "}"),
    ("application/json", '{"order_no": {"$gt": ""}, "type": [], "reason_id": "1; DROP TABLE x", "lines": {}}'),
    ("application/json", "\xff\xfe not utf-8"),
    ("application/json", ""),
    ("application/json", "null"),
    ("text/plain", "hello"),
    ("application/x-www-form-urlencoded", "a=1&a=2"),
    ("multipart/form-data; boundary=x", "--x\r\nbroken"),
]


@pytest.mark.parametrize("who", ["anonymous", "buyer", "ops"])
def test_no_hostile_body_makes_any_endpoint_of_the_schema_fail_with_a_5xx(who, buyer, staff):
    client = {"anonymous": APIClient(), "buyer": client_for(buyer.user), "ops": client_for(staff["ops"])}[who]
    failures = []
    for path, operations in schema()["paths"].items():
        url = path.replace("{ticket_no}", "AS0").replace("{order_no}", "SO0").replace("{upload_id}", "1")
        for method in operations:
            if method not in ("post", "put", "patch"):
                continue
            for content_type, body in HOSTILE:
                data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
                response = client.generic(method.upper(), url, data, content_type=content_type)
                if response.status_code >= 500:
                    failures.append((method, url, content_type, body[:40], response.status_code))
                elif not response["Content-Type"].startswith("application/json"):
                    failures.append((method, url, content_type, body[:40], response["Content-Type"]))

    assert failures == []


# Crafted query strings for every list (issue #19, finding 5): cursors whose position is not a time, sizes,
# filter values of every type, NUL bytes, very long text, percent-encodings that are not UTF-8.
def crafted_cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


CRAFTED_CURSORS = [
    *(crafted_cursor(text) for text in (
        "p=2026", "p=\x00", "p=9999-99-99", "p=" + "9" * 40, "p=-1", "p=NaN", "p=2026-01-01", "p=%ff%fe",
        "p=2026-01-01T00:00:00+99:00", "p=2026-01-01T00:00:00+20:00", "p=0001-01-01T00:00:00+14:00",
        "p=9999-12-31T23:59:59-14:00", "p=" + "x" * 5000, "p=2026&p=2027", "r=1", "r=x", "r=" + "9" * 40, "o=-5",
        "o=99999999999999999999", "o=1.5", "o=" + "9" * 5000, "p=2026-01-01T00:00:00Z&r=1&o=3")),
    "", "=", "garbage", "cD0yMDI2", "cD0yMDI2===", "\x00", "é", "x" * 10_000,
]
CRAFTED_VALUES = ["", " ", "\x00", "a\x00b", "x" * 5000, "-1", "0", "1", "99999999999999999999", "1e999", "NaN",
                  "1.5", "true", "maybe", "2026-13-45", "2026-01-01", "2026-01-01T00:00:00+99:00",
                  "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "[]", "{}",
                  "'; DROP TABLE tickets_ticket; --", "%", "\u202e", "\U0001f600", ["pending_review", "\x00"]]
# Written into the query string as is: not UTF-8, a lone surrogate, an overlong NUL, a NUL, broken escapes.
RAW_VALUES = ["%ff%fe", "%ed%a0%80", "%c0%80", "%00", "%", "%zz", "x%00y", "a&b=c"]
# Who reaches which list; every GET list of the schema (a path without parameters) must be somebody's.
LISTS = {"buyer": {"/api/v1/orders/", "/api/v1/reasons/", "/api/v1/tickets/", "/api/v1/meta/states/"},
         "ops": {"/api/v1/staff/tickets/"}, "warehouse": {"/api/v1/staff/tickets/"},
         "finance": {"/api/v1/staff/tickets/", "/api/v1/finance/refunds/"}, "service": {"/api/v1/events/"}}


@pytest.mark.parametrize("who", LISTS)
def test_no_crafted_cursor_or_query_value_makes_any_list_of_the_schema_fail_with_a_5xx(who, buyer, staff, service_user):
    """Each query parameter the schema declares for a list, and the cursor, gets every crafted value: the
    answer is a page, or a 400 that names that parameter; never a 5xx."""
    order = make_order(buyer=buyer, lines=(("general", "10.00", 1, None), ("general", "20.00", 1, None)))
    submit(order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 1)])
    advance(submit(order, type="refund_only", reason_code="quality_issue", lines=[(1, 1)]), "awaiting_refund",
            staff=staff)
    client = client_for({"buyer": buyer.user, "service": service_user}.get(who) or staff[who])
    client.raise_request_exception = False  # a 500 is a finding to list, not an exception
    lists = {path: [p["name"] for p in ops["get"].get("parameters", []) if p["in"] == "query"]
             for path, ops in schema()["paths"].items() if "get" in ops and "{" not in path}
    assert set().union(*LISTS.values()) == set(lists) - {"/api/v1/ping/"}
    failures = []

    def check(path, param, value, response):
        if response.status_code >= 500 or not response["Content-Type"].startswith("application/json"):
            failures.append((path, param, repr(value)[:40], response.status_code))
        elif response.status_code != 200 and (response.status_code not in (400, 404)  # 404: no such order_no
                                              or set(response.json().get("fields", {})) != {param}):
            failures.append((path, param, repr(value)[:40], response.status_code, response.json()))

    for path in sorted(LISTS[who]):
        first = client.get(path)
        assert first.status_code == 200 and first.json(), (path, first.content)  # reached, and not empty
        for param in lists[path]:
            for value in CRAFTED_VALUES + (CRAFTED_CURSORS if param == "cursor" else []):
                check(path, param, value, client.get(path, {param: value}))
            for raw in RAW_VALUES:
                check(path, param, raw, client.get(f"{path}?{param}={raw}"))

    assert failures == []


@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/api/v1/reasons/", "/health/live"])
def test_every_page_says_which_browser_features_it_never_uses(path):
    response = Client().get(path)

    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/health/", "/health/live", "/health/ready", "/metrics"])
def test_probes_over_plain_http_are_answered_not_redirected_to_https(path, settings):
    settings.SECURE_SSL_REDIRECT = True  # as in production; the test settings turn it off for the live servers
    settings.METRICS_TOKEN = "scrape-token"

    probe = Client().get(path, HTTP_AUTHORIZATION="Bearer scrape-token")
    page = Client().get("/admin/login/")

    assert probe.status_code in (200, 503), probe.status_code  # ready: 503 while no worker has beaten
    assert page.status_code == 301 and page.url.startswith("https://")
