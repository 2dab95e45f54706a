"""The deadline sweep: `manage.py run_deadlines --now` closes, auto-confirms, escalates, once."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from aftersales import clock
from demo import journeys
from tests.factories import make_order, submit
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
S = Ticket.Status


def sweep(at: dt.datetime) -> str:
    out = StringIO()
    call_command("run_deadlines", "--now", at.isoformat(), stdout=out)
    return out.getvalue()


def test_a_return_not_sent_by_the_deadline_closes_one_second_after(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)
    deadline = ticket.return_deadline
    assert deadline - ticket.approved_at == dt.timedelta(days=7)

    sweep(deadline - dt.timedelta(seconds=1))
    ticket.refresh_from_db()
    assert ticket.status == S.AWAITING_RETURN

    output = sweep(deadline + dt.timedelta(seconds=1))
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED
    assert "closed: 1" in output
    assert ticket.events.filter(transition="close", actor__isnull=True).count() == 1

    assert "closed: 0" in sweep(deadline + dt.timedelta(days=1))  # nothing twice


def test_a_return_on_its_way_is_not_closed(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)
    journeys.ship_back(ticket, staff)

    sweep(ticket.return_deadline + dt.timedelta(days=3))

    ticket.refresh_from_db()
    assert ticket.status == S.AWAITING_RETURN


def test_the_replacement_is_confirmed_for_the_buyer_after_ten_days(staff, buyer):
    ticket = submit(make_order(buyer=buyer), type="exchange")
    journeys.advance(ticket, S.AWAITING_EXCHANGE, staff=staff)
    journeys.ship_replacement(ticket, staff)
    ticket.refresh_from_db()
    assert ticket.confirm_deadline - ticket.replacement_shipped_at == dt.timedelta(days=10)

    sweep(ticket.confirm_deadline - dt.timedelta(minutes=1))
    ticket.refresh_from_db()
    assert ticket.status == S.AWAITING_EXCHANGE

    sweep(ticket.confirm_deadline + dt.timedelta(minutes=1))
    ticket.refresh_from_db()
    assert ticket.status == S.COMPLETED
    assert ticket.events.filter(transition="auto_confirm_receipt").count() == 1


def test_reviews_and_refunds_past_their_sla_are_escalated_once(staff, buyer):
    waiting = submit(make_order(buyer=buyer))
    received = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)

    sweep(clock.now() + dt.timedelta(hours=47))
    assert not Ticket.objects.filter(escalated_at__isnull=False).exists()

    output = sweep(clock.now() + dt.timedelta(hours=49))
    assert "escalated_review: 1" in output and "escalated_refund: 1" in output
    for ticket in (waiting, received):
        assert ticket.events.filter(transition="escalate").count() == 1

    assert "escalated_review: 0" in sweep(clock.now() + dt.timedelta(hours=60))


def test_run_deadlines_refuses_a_naive_time():
    with pytest.raises(CommandError):
        call_command("run_deadlines", "--now", "2026-11-30T09:00:00")
