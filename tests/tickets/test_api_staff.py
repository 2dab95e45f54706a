"""Staff endpoints (API.md): the list and its filters, each ops decision with its guards (wrong role, wrong
state, one cent over), compensation, which role may do what, and query counts. Finance's endpoints are tested
in tests/refunds/test_api_finance.py, the warehouse's in tests/warehouse/test_api_warehouse.py."""

import datetime as dt

import pytest

from aftersales import clock
from demo import journeys
from demo.journeys import advance
from refunds.models import Refund
from tests.api_helpers import API, pending, status_of
from tests.factories import (
    ShopFactory,
    UserFactory,
    assert_error,
    client_for,
    order_with_tickets,
)
from tickets.models import Note

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(ops_user):
    return client_for(ops_user)


# -------------------------------------------------------------------------------------- the list


def numbers(client, **params) -> set[str]:
    response = client.get(f"{API}/staff/tickets/", params)
    assert response.status_code == 200, response.content
    return {row["ticket_no"] for row in response.json()["results"]}


def test_staff_list_filters(buyer, staff, ops):
    other_shop = ShopFactory(code="S-OTHER", name="Other Shop")
    a_week_ago = clock.now() - dt.timedelta(days=7)
    with clock.frozen_at(a_week_ago):
        old = pending(buyer, type="return_refund", delivered_ago=dt.timedelta(days=1))
    approved = advance(pending(buyer, type="refund_only"), "awaiting_refund", staff=staff)
    rejected = advance(pending(buyer, type="refund_only"), "rejected", staff=staff)
    exchange = pending(buyer, type="exchange", shop=other_shop)

    assert numbers(ops) == {old.ticket_no, approved.ticket_no, rejected.ticket_no, exchange.ticket_no}
    assert numbers(ops, ticket_no=approved.ticket_no) == {approved.ticket_no}
    assert numbers(ops, order_no=exchange.order.order_no) == {exchange.ticket_no}
    assert numbers(ops, status="rejected") == {rejected.ticket_no}
    assert numbers(ops, status=["rejected", "awaiting_refund"]) == {rejected.ticket_no, approved.ticket_no}
    assert numbers(ops, type="exchange") == {exchange.ticket_no}
    assert numbers(ops, shop="S-OTHER") == {exchange.ticket_no}
    assert numbers(ops, approved="true") == {approved.ticket_no}
    assert numbers(ops, approved="false") == {old.ticket_no, rejected.ticket_no, exchange.ticket_no}
    cut = (a_week_ago + dt.timedelta(days=1)).isoformat()
    assert numbers(ops, applied_to=cut) == {old.ticket_no}
    assert numbers(ops, applied_from=cut) == {approved.ticket_no, rejected.ticket_no, exchange.ticket_no}
    assert numbers(ops, applied_from=cut, type="refund_only", status="awaiting_refund") == {approved.ticket_no}


def test_staff_list_rows(buyer, staff, ops):
    ticket = advance(pending(buyer, lines=(("general", "218.00", 1, None),)), "awaiting_refund", staff=staff)

    page = ops.get(f"{API}/staff/tickets/").json()

    assert set(page) == {"next", "previous", "results"}
    [row] = page["results"]
    assert row["ticket_no"] == ticket.ticket_no
    assert row["shop"] == ticket.shop.name
    assert row["status"] == "awaiting_refund"
    assert row["refund_amount"] == "218.00"
    assert row["approved_at"] is not None
    assert row["lines"][0]["refund_amount"] == "218.00"


@pytest.mark.parametrize("role", ["ops", "finance", "warehouse"])
def test_every_staff_role_reads_the_list_and_the_detail(buyer, staff, role):
    ticket = pending(buyer)
    client = client_for(staff[role])

    assert numbers(client) == {ticket.ticket_no}
    detail = client.get(f"{API}/staff/tickets/{ticket.ticket_no}/")
    assert detail.status_code == 200
    assert detail.json()["buyer"] == "alice"
    assert detail.json()["timeline"][0]["actor"] == "alice"


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "lost"}, "status"),
    ({"type": "gift"}, "type"),
    ({"applied_from": "last tuesday"}, "applied_from"),
    ({"ticket_no": "AS\x00"}, "ticket_no"),
    ({"applied_from": "0001-01-01T00:00:00+05:00"}, "applied_from"),
    ({"ordered_to": "9999-12-31T23:00:00-05:00"}, "ordered_to"),
    ({"approved": "maybe"}, "approved"),  # not "no filter": the whole list
    ({"approved": "yes"}, "approved"),
    ({"page_size": "0"}, "page_size"),
    ({"cursor": "not-a-cursor"}, "cursor"),
])
def test_staff_list_refuses_bad_filters(ops, params, field):
    code = "invalid_cursor" if field == "cursor" else "invalid"
    assert_error(ops.get(f"{API}/staff/tickets/", params), 400, code, field=field)


def test_staff_list_takes_any_offset_python_accepts(buyer, ops):
    """PostgreSQL refuses offsets beyond ±15:59; the filter compares in UTC instead of failing with a 500."""
    ticket = pending(buyer)
    before = (ticket.created_at - dt.timedelta(minutes=1)).astimezone(dt.timezone(dt.timedelta(hours=-17, minutes=-38)))

    assert numbers(ops, applied_from=before.isoformat()) == {ticket.ticket_no}
    assert numbers(ops, applied_to=before.isoformat()) == set()
    assert numbers(ops, applied_from="3207-02-27T00:18:46.703447-17:38") == set()


def test_staff_detail_of_an_unknown_ticket_is_404(ops):
    assert_error(ops.get(f"{API}/staff/tickets/AS-NOPE/"), 404, "not_found")
    assert_error(ops.post(f"{API}/staff/tickets/AS%00/approve/", {}, format="json"), 404, "not_found")


# ----------------------------------------------------------------------------------- ops review


def test_approve_at_the_computed_maximum(buyer, ops, ops_user):
    ticket = pending(buyer, type="return_refund")

    response = ops.post(f"{API}/staff/tickets/{ticket.ticket_no}/approve/", {}, format="json")

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "awaiting_return"
    assert data["refund_amount"] == "20.00"
    assert data["service_fee"] == "0.00"
    assert data["return_address"] == ticket.shop.return_address
    assert data["reviewer"] == ops_user.username
    assert data["return_deadline"] is not None
    assert [e["transition"] for e in data["timeline"]] == ["submit", "approve"]


def test_approve_lower_with_a_fee_reason(buyer, ops):
    ticket = pending(buyer)

    response = ops.post(f"{API}/staff/tickets/{ticket.ticket_no}/approve/",
                        {"refund_amount": "15.00", "fee_reason": "Opened and used"}, format="json")

    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["refund_amount"], data["service_fee"]) == ("awaiting_refund", "15.00", "5.00")
    assert data["fee_reason"] == "Opened and used"
    ticket.refresh_from_db()
    assert str(ticket.refund_amount) == "15.00"


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"refund_amount": "20.01"}, "amount_above_maximum", "refund_amount"),
    ({"refund_amount": "15.00"}, "required", "fee_reason"),
    ({"refund_amount": "-1.00", "fee_reason": "x"}, "invalid", "refund_amount"),
    ({"refund_amount": "1.005", "fee_reason": "x"}, "invalid", "refund_amount"),
    ({"refund_amount": "abc"}, "invalid", "refund_amount"),
    ({"refund_amount": "NaN"}, "invalid", "refund_amount"),
    ({"refund_amount": "Infinity"}, "invalid", "refund_amount"),
    ({"refund_amount": "1e400"}, "invalid", "refund_amount"),
    ({"refund_amount": 10**30}, "invalid", "refund_amount"),
    ({"refund_amount": "15.00", "fee_reason": "x" * 501}, "invalid", "fee_reason"),
    ({"refund_shipping": "perhaps"}, "invalid", "refund_shipping"),
    ({"return_address": ["a"]}, "invalid", "return_address"),
])
def test_approve_refused_changes_nothing(buyer, ops, body, code, field):
    ticket = pending(buyer)

    response = ops.post(f"{API}/staff/tickets/{ticket.ticket_no}/approve/", body, format="json")

    assert_error(response, 400, code, field=field)
    ticket.refresh_from_db()
    assert (ticket.status, str(ticket.refund_amount), ticket.approved_at) == ("pending_review", "20.00", None)
    assert list(ticket.events.values_list("transition", flat=True)) == ["submit"]


def test_approving_a_return_with_no_address_anywhere_is_400_naming_return_address(buyer, ops):
    """API.md: goods must come back, no address given and none on the shop: refused, naming the field; with
    one given on approval it goes through."""
    shop = ShopFactory(code="S-NODESK", return_address="", return_contact="", return_phone="")
    ticket = pending(buyer, type="return_refund", shop=shop)
    url = f"{API}/staff/tickets/{ticket.ticket_no}/approve/"

    assert_error(ops.post(url, {}, format="json"), 400, "required", field="return_address")
    assert_error(ops.post(url, {"return_address": "   "}, format="json"), 400, "invalid", field="return_address")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.approved_at, ticket.return_address) == ("pending_review", None, "")
    assert list(ticket.events.values_list("transition", flat=True)) == ["submit"]

    response = ops.post(url, {"return_address": "Returns, 9 Logistics Park, Suzhou", "return_contact": "Mr Li",
                              "return_phone": "0512-1234"}, format="json")

    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["return_address"], data["return_contact"], data["return_phone"]) == (
        "awaiting_return", "Returns, 9 Logistics Park, Suzhou", "Mr Li", "0512-1234")


def test_approving_a_refund_only_claim_needs_no_address(buyer, ops):
    shop = ShopFactory(code="S-NODESK", return_address="", return_contact="", return_phone="")
    ticket = pending(buyer, type="refund_only", shop=shop)

    response = ops.post(f"{API}/staff/tickets/{ticket.ticket_no}/approve/", {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "awaiting_refund"


def test_approving_a_rejected_ticket_is_409(buyer, staff, ops):
    ticket = advance(pending(buyer), "rejected", staff=staff)

    response = ops.post(f"{API}/staff/tickets/{ticket.ticket_no}/approve/", {}, format="json")

    assert_error(response, 409, "invalid_transition")
    assert status_of(ticket) == "rejected"


def test_reject_needs_a_reason(buyer, ops):
    ticket = pending(buyer)
    url = f"{API}/staff/tickets/{ticket.ticket_no}/reject/"

    assert_error(ops.post(url, {}, format="json"), 400, "invalid", field="reason")
    assert_error(ops.post(url, {"reason": "   "}, format="json"), 400, "invalid", field="reason")
    assert status_of(ticket) == "pending_review"
    response = ops.post(url, {"reason": "The photos show no defect."}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "rejected"
    assert response.json()["rejection_reason"] == "The photos show no defect."
    assert_error(ops.post(url, {"reason": "again"}, format="json"), 409, "invalid_transition")


@pytest.mark.parametrize("role", ["ops", "finance", "warehouse"])
def test_staff_add_notes(buyer, staff, role):
    ticket = pending(buyer)
    client = client_for(staff[role])

    response = client.post(f"{API}/staff/tickets/{ticket.ticket_no}/notes/",
                           {"text": "Called the buyer, photos on the way"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["author"] == staff[role].username
    assert response.json()["text"] == "Called the buyer, photos on the way"
    detail = client.get(f"{API}/staff/tickets/{ticket.ticket_no}/").json()
    assert [n["text"] for n in detail["notes"]] == ["Called the buyer, photos on the way"]
    assert detail["status"] == "pending_review"


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "x" * 2001}, {"text": {"a": 1}}])
def test_a_bad_note_is_refused(buyer, ops, body):
    ticket = pending(buyer)

    assert_error(ops.post(f"{API}/staff/tickets/{ticket.ticket_no}/notes/", body, format="json"), 400, "invalid",
                 field="text")
    assert not Note.objects.exists()


# ------------------------------------------------------------------------------------ compensation


def test_compensation_up_to_20_percent_of_218(buyer, ops):
    ticket = pending(buyer, lines=(("general", "218.00", 1, None),))
    url = f"{API}/staff/tickets/{ticket.ticket_no}/compensate/"

    refused = ops.post(url, {"amount": "43.61", "note": "Small scratch, buyer keeps it"}, format="json")
    assert_error(refused, 400, "amount_above_maximum", field="amount")
    assert "43.60" in refused.json()["detail"]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.is_compensation, str(ticket.refund_amount)) == ("pending_review", False, "218.00")
    assert not Note.objects.exists()

    response = ops.post(url, {"amount": "43.60", "note": "Small scratch, buyer keeps it"}, format="json")

    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["refund_amount"], data["is_compensation"]) == ("awaiting_refund", "43.60", True)
    assert [n["text"] for n in data["notes"]] == ["Small scratch, buyer keeps it"]
    assert_error(ops.post(url, {"amount": "1.00", "note": "again"}, format="json"), 409, "invalid_transition")


@pytest.mark.parametrize(("body", "field"), [
    ({"amount": "0.00", "note": "x"}, "amount"),
    ({"amount": "10.00"}, "note"),
    ({"note": "x"}, "amount"),
    ({"amount": "10.001", "note": "x"}, "amount"),
    ({"amount": 10**30, "note": "x"}, "amount"),
])
def test_compensation_refused_with_the_field(buyer, ops, body, field):
    ticket = pending(buyer, lines=(("general", "218.00", 1, None),))

    assert_error(ops.post(f"{API}/staff/tickets/{ticket.ticket_no}/compensate/", body, format="json"), 400,
                 "invalid", field=field)
    assert status_of(ticket) == "pending_review"


# -------------------------------------------------------------------------------------- roles


ROLE_REFUSALS = [
    ("finance", "post", "staff/tickets/{no}/approve/"),
    ("finance", "post", "staff/tickets/{no}/reject/"),
    ("finance", "post", "staff/tickets/{no}/compensate/"),
    ("warehouse", "post", "staff/tickets/{no}/approve/"),
    ("warehouse", "post", "finance/tickets/{no}/approve/"),
    ("warehouse", "post", "finance/tickets/{no}/reject/"),
    ("warehouse", "get", "finance/refunds/"),
    ("ops", "post", "finance/tickets/{no}/approve/"),
    ("ops", "post", "finance/tickets/{no}/reject/"),
    ("ops", "get", "finance/refunds/"),
    ("ops", "post", "warehouse/inbound/"),
    ("ops", "post", "warehouse/outbound/"),
    ("ops", "post", "orders/import/"),
    ("finance", "post", "warehouse/inbound/"),
    ("service", "get", "staff/tickets/"),
    ("service", "post", "staff/tickets/{no}/notes/"),
]


@pytest.mark.parametrize(("role", "method", "path"), ROLE_REFUSALS)
def test_a_role_may_not_do_anothers_work(buyer, staff, service_user, role, method, path):
    ticket = advance(pending(buyer), "awaiting_refund", staff=staff)
    user = service_user if role == "service" else staff[role]
    url = f"{API}/" + path.format(no=ticket.ticket_no)
    body = {"reason": "x", "text": "x", "amount": "1.00", "note": "x", "ticket_no": ticket.ticket_no,
            "lines": [{"order_line_id": ticket.lines.get().order_line.line_id, "quantity": 1, "accepted": True}],
            "courier": "SF", "tracking_no": "1"}

    client = client_for(user)
    response = client.get(url) if method == "get" else client.post(url, body, format="json")

    assert_error(response, 403, "not_allowed")
    assert status_of(ticket) == "awaiting_refund"
    assert not Refund.objects.exists()
    assert not Note.objects.exists()


def test_a_superuser_may_do_everything(buyer):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    ticket = pending(buyer)

    response = client_for(root).post(f"{API}/staff/tickets/{ticket.ticket_no}/approve/", {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "awaiting_refund"


# --------------------------------------------------------------------------------- query counts


# Measured: token + the user's groups + the page (with order, shop, buyer) + lines (with order lines).
STAFF_LIST_QUERIES = 4
# token + groups + the ticket + lines, photos, return shipments, replacement shipments, refunds, notes
# (with their authors), events (with their actors).
STAFF_DETAIL_QUERIES = 10


@pytest.mark.parametrize("count", [2, 20])
def test_staff_list_query_count_does_not_grow(buyer, ops, django_assert_max_num_queries, count):
    order_with_tickets(buyer, count)

    with django_assert_max_num_queries(STAFF_LIST_QUERIES):
        response = ops.get(f"{API}/staff/tickets/", {"page_size": 50})

    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("lines", [1, 10])
def test_staff_detail_query_count_does_not_grow(buyer, staff, ops, django_assert_max_num_queries, lines):
    ticket = advance(pending(buyer, type="return_refund", lines=tuple(("general", "10.00", 1, None)
                                                                      for _ in range(lines))),
                     "awaiting_return", staff=staff)
    journeys.ship_back(ticket, staff)
    ops.post(f"{API}/staff/tickets/{ticket.ticket_no}/notes/", {"text": "Parcel on its way"}, format="json")

    with django_assert_max_num_queries(STAFF_DETAIL_QUERIES):
        response = ops.get(f"{API}/staff/tickets/{ticket.ticket_no}/")

    assert len(response.json()["lines"]) == lines
    assert len(response.json()["notes"]) == 1
