"""The OpenAPI schema is valid and served, the docs page works, and Schemathesis finds no 5xx and no
response that breaks the schema on any operation, for a buyer and for staff."""

import copy
from collections import Counter
from decimal import Decimal

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from access.tokens import issue_token
from demo.journeys import advance
from tests.factories import UserFactory, make_order, make_upload, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]


def test_the_generated_schema_is_valid_openapi():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    validate_schema(schema)
    paths = schema["paths"]
    assert "/api/v1/tickets/" in paths and "/api/v1/staff/tickets/{ticket_no}/approve/" in paths
    assert set(paths["/api/v1/tickets/"]) == {"get", "post"}
    error = schema["components"]["schemas"]["ErrorOutput"]
    assert set(error["required"]) == {"code", "detail"}


def test_spectacular_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert out.read_text().startswith("openapi: 3.0.3")


def test_schema_and_docs_are_served():
    client = APIClient()

    schema = client.get("/api/schema/", {"format": "json"})
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "After-sales back office API"
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


# ------------------------------------------------------------------------------------ Schemathesis

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
HYPOTHESIS = hypothesis_settings(max_examples=25, deadline=None, database=None, derandomize=True,
                                 suppress_health_check=list(HealthCheck))


@pytest.fixture
def keep_the_test_connection():
    """A bare WSGI handler closes the database connection after each request (the test client does not):
    keep it open, or the test's transaction goes with it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def json_only(raw: dict) -> dict:
    """The schema with JSON request bodies only (the contract's format; DRF also parses forms). Negative
    data is generated from this one: Schemathesis cannot negate form or multipart bodies."""
    raw = copy.deepcopy(raw)
    for path in raw["paths"].values():
        for operation in path.values():
            content = operation.get("requestBody", {}).get("content")
            if content and "application/json" in content:
                operation["requestBody"]["content"] = {"application/json": content["application/json"]}
    return raw


def load_schemas():
    """The schema as served, bound to a WSGI app built here (after the settings above apply): as is for
    positive data, JSON bodies only for negative data."""
    app = WSGIHandler()
    positive = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
    negative = schemathesis.openapi.from_dict(json_only(positive.raw_schema))
    negative.app = app
    return positive, negative


def describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and not isinstance(exc, FailureGroup):
        return "\n".join(describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


def negatable(operation) -> bool:
    """Negative data needs something to negate: a query parameter or a JSON body."""
    return bool(list(operation.query)) or any(b.media_type == "application/json" for b in operation.body)


def fuzz_one(operation, mode: GenerationMode, send, real: dict[str, str]) -> None:
    fixed = {}
    if mode is GenerationMode.NEGATIVE:
        # Any string is a valid path parameter, so none can be negated: Schemathesis would reject every
        # example. Negative cases keep real (or unknown) path parameters and negate the body or query.
        fixed["path_parameters"] = {p.name: real.get(p.name, "UNKNOWN") for p in operation.path_parameters}

    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @HYPOTHESIS
    def run(case):
        send(case)
        if mode is GenerationMode.POSITIVE and set(case.path_parameters or {}) & set(real):
            case.path_parameters = {**case.path_parameters,
                                    **{k: v for k, v in real.items() if k in case.path_parameters}}
            send(case)

    run()


def fuzz(schemas, token: str, real: dict[str, str], *, prefixes=("/api/v1/",), exclude=(),
         modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE)) -> tuple[list[str], Counter]:
    """Every operation under ``prefixes``: positive data, and negative data where there is something to
    negate. Each positive case is also sent once with real path parameters (a ticket or order of the
    caller), so the handlers behind the 404 run too. Returns the failures, described, and how often each
    operation answered with each status."""
    failures, seen = [], Counter()
    headers = {"Authorization": f"Token {token}"}

    def send(case):
        response = case.call(base_url="http://testserver", headers=headers)
        seen[(case.operation.label, response.status_code)] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    for schema, mode in zip(schemas, modes, strict=False):
        for result in schema.get_all_operations():
            operation = result.ok()
            if not operation.path.startswith(prefixes) or operation.path.startswith(exclude):
                continue
            if mode is GenerationMode.NEGATIVE and not negatable(operation):
                continue

            try:
                fuzz_one(operation, mode, send, real)
            except (Exception, FailureGroup) as exc:  # collected, then asserted empty by the caller
                failures.append(f"{operation.label} [{mode.value}]: {describe(exc)}")
    return failures, seen


@pytest.fixture
def world(buyer, staff, service_user):
    """A buyer with an order, a pending claim, a claim waiting for the goods back, and a photo."""
    order = make_order(buyer=buyer, lines=(("general", "218.00", 2, None), ("general", "10.00", 3, None)))
    ticket = submit(order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 1)])
    advance(submit(order, type="return_refund", reason_code="quality_issue", lines=[(1, 1)]), "awaiting_return",
            staff=staff)
    make_upload(buyer.user)
    return {"order": order, "ticket": ticket}


STAFF_PREFIXES = ("/api/v1/staff/", "/api/v1/finance/", "/api/v1/warehouse/", "/api/v1/orders/import/")


def test_schemathesis_as_a_buyer(buyer, world, keep_the_test_connection):
    token = issue_token(buyer.user)[1]
    real = {"order_no": world["order"].order_no, "ticket_no": world["ticket"].ticket_no}

    failures, seen = fuzz(load_schemas(), token, real)

    assert failures == [], "\n\n".join(failures)
    # The fuzzer reached the handlers, not only the 404s: the real ticket and order were read...
    assert seen[("GET /api/v1/tickets/{ticket_no}/", 200)] > 0
    assert seen[("GET /api/v1/orders/{order_no}/eligibility/", 200)] > 0
    # ... the claim was withdrawn once, and never again;
    assert seen[("POST /api/v1/tickets/{ticket_no}/cancel/", 200)] == 1
    # every staff, finance, warehouse and import call was refused.
    staff_calls = {status for (label, status) in seen if label.split()[1].startswith(STAFF_PREFIXES)}
    assert staff_calls == {403}
    assert world["order"].lines.first().paid_amount == Decimal("436.00")  # the order mirror is untouched


def test_schemathesis_as_staff(buyer, world, keep_the_test_connection):
    root = UserFactory(username="fuzz-admin", is_superuser=True, is_staff=True)
    token = issue_token(root)[1]

    failures, seen = fuzz(load_schemas(), token, {"ticket_no": world["ticket"].ticket_no},
                          prefixes=STAFF_PREFIXES)

    assert failures == [], "\n\n".join(failures)
    assert seen[("GET /api/v1/staff/tickets/{ticket_no}/", 200)] > 0
    assert seen[("POST /api/v1/staff/tickets/{ticket_no}/notes/", 201)] > 0
    # The pending claim was decided at most once, whatever the fuzzer sent.
    decided = sum(seen[(f"POST /api/v1/staff/tickets/{{ticket_no}}/{action}/", 200)]
                  for action in ("approve", "reject", "compensate"))
    assert decided <= 1
    world["ticket"].refresh_from_db()
    assert world["ticket"].events.exclude(transition__in=["submit", "note"]).count() == decided


def test_schemathesis_anonymous_gets_401_in_the_schema_everywhere_but_login(keep_the_test_connection):
    failures, seen = fuzz(load_schemas(), "not-a-token", {}, exclude=("/api/v1/auth/",),
                          modes=(GenerationMode.POSITIVE,))

    assert failures == [], "\n\n".join(failures)
    assert {status for _, status in seen} == {401}
