"""The ops queue: one due time per ticket kept by every transition, the list sorted by it, the markers and
filters reviewers work from, and a partial search that an index answers."""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse

from aftersales import clock
from aftersales.errors import FieldInvalid, NotAllowed
from demo import journeys
from refunds import services as refunds
from tests.factories import make_order, submit
from tickets import selectors, services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
S = Ticket.Status
H48 = dt.timedelta(hours=48)


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


# --------------------------------------------------------------------------------------------- the due time


def test_a_new_claim_is_due_for_review_within_the_sla(buyer):
    ticket = fresh(submit(make_order(buyer=buyer)))

    assert (ticket.next_deadline_kind, ticket.next_deadline_at) == ("review", ticket.created_at + H48)


def test_a_send_back_from_finance_restarts_the_review_clock(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    later = clock.now() + dt.timedelta(hours=60)

    with time_machine.travel(later, tick=False):
        refunds.finance_reject_ticket(ticket_id=ticket.pk, actor=staff["finance"], reason="Check the fee.")

    ticket = fresh(ticket)
    assert (ticket.next_deadline_kind, ticket.next_deadline_at) == ("review", later + H48)


def test_each_waiting_step_has_its_own_due_time_and_nothing_is_due_of_a_finished_ticket(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer), type="exchange", photos=1), S.AWAITING_RETURN,
                              staff=staff)
    ticket = fresh(ticket)
    assert (ticket.next_deadline_kind, ticket.next_deadline_at) == ("return", ticket.return_deadline)

    journeys.ship_back(ticket, staff)
    assert fresh(ticket).next_deadline_at is None  # on its way back: nothing due of the buyer

    journeys.receive(ticket, staff)
    ticket = fresh(ticket)
    assert (ticket.next_deadline_kind, ticket.next_deadline_at) == ("replacement", ticket.goods_received_at + H48)

    journeys.ship_replacement(ticket, staff)
    ticket = fresh(ticket)
    assert (ticket.next_deadline_kind, ticket.next_deadline_at) == ("confirm", ticket.confirm_deadline)

    journeys.confirm(ticket, staff)
    assert (fresh(ticket).next_deadline_kind, fresh(ticket).next_deadline_at) == ("", None)


def test_a_refund_under_way_is_due_of_nobody_until_it_fails(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    assert fresh(ticket).next_deadline_kind == "refund"

    refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    assert fresh(ticket).next_deadline_at is None

    services.record_refund_failed(ticket_id=ticket.pk, reason="Card closed.")
    assert fresh(ticket).next_deadline_kind == "refund"


# --------------------------------------------------------------------------------------------- the list


def ops_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(client, **params) -> list[str]:
    html = client.get(reverse("admin:tickets_ticket_changelist"), params).content.decode()
    return re.findall(r'<th class="field-ticket_no"><a[^>]*>([^<]+)</a>', html)


def test_the_queue_lists_what_is_due_first_and_finished_tickets_last(staff, buyer, ops_user):
    with time_machine.travel(clock.now() - dt.timedelta(days=3), tick=False):
        overdue = submit(make_order(buyer=buyer))
    finished = journeys.advance(submit(make_order(buyer=buyer)), S.REJECTED, staff=staff)
    new = submit(make_order(buyer=buyer))

    # "All tickets": the role's own view (opened bare) hides the finished ones (tests/tickets/test_flow.py).
    page = ops_client(ops_user).get(reverse("admin:tickets_ticket_changelist"), {"view": "all"})

    assert listed(ops_client(ops_user), view="all") == [overdue.ticket_no, new.ticket_no, finished.ticket_no]
    assert 'class="overdue"' in page.content.decode()


def test_the_markers_filter_what_needs_attention(staff, buyer, ops_user):
    sent_back = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    refunds.finance_reject_ticket(ticket_id=sent_back.pk, actor=staff["finance"], reason="Fee?")
    rejected_goods = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)
    journeys.receive_damaged(rejected_goods, staff)
    noted = submit(make_order(buyer=buyer))
    services.add_note(ticket_id=noted.pk, actor=staff["ops"], text="Asked for a video.")
    client = ops_client(ops_user)

    assert listed(client, attention="sent_back") == [sent_back.ticket_no]
    assert listed(client, attention="inspection_rejected") == [rejected_goods.ticket_no]
    assert noted.ticket_no not in listed(client, attention="no_note")
    assert sent_back.ticket_no in listed(client, attention="no_note")


def test_mine_lists_what_i_was_assigned(staff, buyer, ops_user):
    mine, other = submit(make_order(buyer=buyer)), submit(make_order(buyer=buyer))
    services.assign_ticket(ticket_id=mine.pk, actor=ops_user, assignee=ops_user)

    assert listed(ops_client(ops_user), mine="assigned") == [mine.ticket_no]
    assert other.ticket_no in listed(ops_client(ops_user), mine="unassigned")
    event = mine.events.get(transition="assign")
    assert (event.buyer_visible, event.changes["assignee"]) == (False, [None, ops_user.username])


def test_only_ops_assign_and_only_to_ops(staff, buyer):
    ticket = submit(make_order(buyer=buyer))

    with pytest.raises(NotAllowed):
        services.assign_ticket(ticket_id=ticket.pk, actor=staff["finance"], assignee=staff["finance"])
    with pytest.raises(FieldInvalid):
        services.assign_ticket(ticket_id=ticket.pk, actor=staff["ops"], assignee=staff["warehouse"])
    assert fresh(ticket).assignee is None


def test_applied_date_range_filter_takes_a_from_and_a_to(buyer, ops_user):
    with time_machine.travel(dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC), tick=False):
        early = submit(make_order(buyer=buyer))
    with time_machine.travel(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC), tick=False):
        late = submit(make_order(buyer=buyer))

    found = listed(ops_client(ops_user), created_at__range__gte="2026-11-15", created_at__range__lte="2026-11-25")

    assert found == [late.ticket_no] and early.ticket_no not in found


# --------------------------------------------------------------------------------------------- search


def test_search_finds_part_of_a_ticket_no_order_no_account_or_tracking_no_in_any_case(staff, buyer, ops_user):
    returned = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)
    services.record_return_shipment(ticket_id=returned.pk, actor=buyer.user, courier="SF", tracking_no="SF1234567890")
    exchanged = journeys.advance(submit(make_order(buyer=buyer), type="exchange", photos=1), S.AWAITING_EXCHANGE,
                                 staff=staff)
    journeys.ship_replacement(exchanged, staff)  # tracking SFR…
    other = submit(make_order(buyer=buyer))
    client = ops_client(ops_user)

    assert listed(client, q="sf12345") == [returned.ticket_no]
    assert listed(client, q=f"sfr{exchanged.pk:09d}"[:8]) == [exchanged.ticket_no]
    assert listed(client, q=other.ticket_no[-8:]) == [other.ticket_no]
    assert listed(client, q=other.order.order_no.lower()) == [other.ticket_no]
    assert set(listed(client, q="ALIC")) == {returned.ticket_no, exchanged.ticket_no, other.ticket_no}


@pytest.mark.parametrize(("table", "column"), [
    ("tickets_ticket", "ticket_no"), ("orders_order", "order_no"), ("orders_buyer", "account"),
    ("tickets_returnshipment", "tracking_no"), ("warehouse_outbound", "tracking_no")])
def test_each_searched_column_has_a_trigram_index_on_the_expression_icontains_compares(table, column):
    """Django's icontains is UPPER(column::text) LIKE UPPER(%term%) on PostgreSQL; a GIN trigram index on
    that expression is what answers it at a million rows (bench/admin_list.py measures it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname = %s",
                       [table, f"{table}_{column}_trgm"])
        (definition,) = cursor.fetchone()
    assert f"USING gin (upper(({column})::text) gin_trgm_ops)" in definition


def test_a_search_with_a_nul_character_finds_nothing_instead_of_failing():
    assert list(selectors.search_ticket_ids("a\x00b")) == []
