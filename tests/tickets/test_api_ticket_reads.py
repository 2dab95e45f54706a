"""A buyer reads their tickets (API.md, GET /api/v1/tickets/ and /tickets/{ticket_no}/): filters, cursor
pagination, the detail with decisions but no internal notes or staff names, and query counts that do not grow."""

import pytest

from demo import journeys
from demo.journeys import advance
from tests.api_helpers import API, at
from tests.factories import assert_error, client_for, make_order, order_with_tickets, submit
from tickets.models import Note

pytestmark = pytest.mark.django_db


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
    assert_error(alice.get(f"{API}/tickets/", {"cursor": "garbage"}), 400, "invalid_cursor", field="cursor")


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
