"""The staff list's parity with the admin queue (API.md: "filters as the admin list"): needs attention, whose,
the partial search over four sources and the queue's due order, through the same selectors the admin uses;
a bad value is a 400 naming its parameter, and the cursor still pages."""

import base64
import datetime as dt

import pytest

from aftersales import clock
from demo import journeys
from demo.journeys import advance
from tests.api_helpers import API, pending
from tests.factories import UserFactory, assert_error, client_for
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(ops_user):
    return client_for(ops_user)


def numbers(client, **params) -> set[str]:
    response = client.get(f"{API}/staff/tickets/", params)
    assert response.status_code == 200, response.content
    return {row["ticket_no"] for row in response.json()["results"]}


def in_order(client, **params) -> list[str]:
    """Every ticket no of the list, page after page, following the cursor."""
    out, url, query = [], f"{API}/staff/tickets/", params
    while url:
        response = client.get(url, query)
        assert response.status_code == 200, response.content
        out += [row["ticket_no"] for row in response.json()["results"]]
        url, query = response.json()["next"], None
    return out


def test_attention_filters_name_the_same_tickets_as_the_queue(buyer, staff, ops):
    plain = pending(buyer)
    overdue = pending(buyer)
    Ticket.objects.filter(pk=overdue.pk).update(next_deadline_at=clock.now() - dt.timedelta(minutes=1))
    escalated = pending(buyer)
    Ticket.objects.filter(pk=escalated.pk).update(escalated_at=clock.now())
    sent_back = advance(pending(buyer), "awaiting_refund", staff=staff)
    from refunds import services as refunds

    refunds.finance_reject_ticket(ticket_id=sent_back.pk, actor=staff["finance"], reason="Check the fee")
    refused = advance(pending(buyer, type="return_refund"), "awaiting_return", staff=staff)
    journeys.ship_back(refused, staff)
    journeys.receive_damaged(refused, staff)
    noted = pending(buyer)
    services.add_note(ticket_id=noted.pk, actor=staff["ops"], text="Asked for a photo of the label.")
    done = advance(pending(buyer), "rejected", staff=staff)

    assert numbers(ops, attention="overdue") == {overdue.ticket_no}
    assert numbers(ops, attention="escalated") == {escalated.ticket_no}
    assert numbers(ops, attention="sent_back") == {sent_back.ticket_no}
    assert numbers(ops, attention="inspection_rejected") == {refused.ticket_no}
    # Open and no note since the last decision: everything open but the noted one (seed notes none).
    assert numbers(ops, attention="no_note") == {plain.ticket_no, overdue.ticket_no, escalated.ticket_no,
                                                 sent_back.ticket_no, refused.ticket_no} - {noted.ticket_no}
    assert done.ticket_no not in numbers(ops, attention="no_note")
    assert numbers(ops, attention=["overdue", "no_note"]) == {overdue.ticket_no}  # all of them hold


def test_mine_and_unassigned(buyer, staff, ops, ops_user):
    colleague = UserFactory(username="ops2", groups=["ops"], is_staff=True)
    mine = pending(buyer)
    services.assign_ticket(ticket_id=mine.pk, actor=ops_user, assignee=ops_user)
    theirs = pending(buyer)
    services.assign_ticket(ticket_id=theirs.pk, actor=colleague, assignee=colleague)
    reviewed = advance(pending(buyer), "awaiting_refund", staff=staff)  # reviewed by ops_user (staff["ops"])
    nobodys = pending(buyer)

    assert numbers(ops, mine="assigned") == {mine.ticket_no}
    assert numbers(ops, mine="reviewed") == {reviewed.ticket_no}
    assert numbers(ops, mine="unassigned") == {reviewed.ticket_no, nobodys.ticket_no}
    assert numbers(client_for(colleague), mine="assigned") == {theirs.ticket_no}


def test_search_is_partial_over_ticket_order_buyer_and_tracking(buyer, staff, ops):
    from tests.factories import BuyerFactory

    bob = BuyerFactory(account="bob-the-buyer")
    by_bob = pending(bob)
    shipped = advance(pending(buyer, type="return_refund"), "awaiting_return", staff=staff)
    journeys.ship_back(shipped, staff)  # tracking SF000000…<pk>
    other = pending(buyer)

    assert numbers(ops, search=other.ticket_no[-6:].lower()) == {other.ticket_no}
    assert numbers(ops, search=other.order.order_no.lower()[1:]) == {other.ticket_no}  # "o000…": no ticket no
    assert numbers(ops, search="THE-BUY") == {by_bob.ticket_no}
    tracking = shipped.return_shipments.get().tracking_no
    assert numbers(ops, search=tracking[2:].lower()) == {shipped.ticket_no}
    assert numbers(ops, search="no-such-thing") == set()
    assert numbers(ops, search="  ") == {by_bob.ticket_no, shipped.ticket_no, other.ticket_no}
    assert numbers(ops, search="bob", status="pending_review") == {by_bob.ticket_no}


def test_due_order_is_the_queues_and_the_cursor_walks_it(buyer, staff, ops):
    now = clock.now()
    tickets = [pending(buyer) for _ in range(5)]
    due = {tickets[0]: now + dt.timedelta(hours=30), tickets[1]: now - dt.timedelta(hours=2),
           tickets[2]: now + dt.timedelta(hours=1), tickets[3]: None, tickets[4]: now + dt.timedelta(hours=1)}
    for ticket, at in due.items():
        Ticket.objects.filter(pk=ticket.pk).update(next_deadline_at=at)

    expected = [t.ticket_no for t in (tickets[1], tickets[2], tickets[4], tickets[0], tickets[3])]

    assert in_order(ops, ordering="due", page_size=2) == expected
    assert in_order(ops, ordering="due", page_size=1) == expected
    assert in_order(ops, page_size=2) == [t.ticket_no for t in reversed(tickets)]  # newest first, as before
    assert in_order(ops, ordering="-created_at", page_size=3) == [t.ticket_no for t in reversed(tickets)]
    assert in_order(ops, ordering="due", attention="overdue") == [tickets[1].ticket_no]


@pytest.mark.parametrize(("params", "field"), [
    ({"attention": "urgent"}, "attention"),
    ({"mine": "everyone"}, "mine"),
    ({"ordering": "refund_amount"}, "ordering"),
    ({"search": "AS\x00"}, "search"),
    ({"search": "x" * 101}, "search"),
    ({"ordered_from": "tomorrow"}, "ordered_from"),
])
def test_a_bad_filter_value_is_400_naming_it(ops, params, field):
    assert_error(ops.get(f"{API}/staff/tickets/", params), 400, "invalid", field=field)


def test_a_due_cursor_that_is_not_one_is_400(buyer, ops):
    for _ in range(3):
        pending(buyer)
    first = ops.get(f"{API}/staff/tickets/", {"ordering": "due", "page_size": 1}).json()
    newest = ops.get(f"{API}/staff/tickets/", {"page_size": 1}).json()
    assert first["next"] and newest["next"]
    cursor = newest["next"].split("cursor=")[1].split("&")[0]

    # A cursor of the newest-first list stands on a creation time: in the due list it is still a time, so it
    # reads; a crafted one is refused.
    assert ops.get(f"{API}/staff/tickets/", {"ordering": "due", "cursor": cursor}).status_code == 200
    crafted = base64.b64encode(b"p=yesterday").decode()
    assert_error(ops.get(f"{API}/staff/tickets/", {"ordering": "due", "cursor": crafted}), 400,
                 "invalid_cursor", field="cursor")
