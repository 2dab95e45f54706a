"""Refunds whose execution message was lost are queued again: `manage.py requeue_refunds --now` and its
periodic task (refunds.tasks)."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from aftersales import clock
from demo import journeys
from refunds import services as refunds
from tests.factories import make_order, submit
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
S = Ticket.Status


def requeue(at: dt.datetime) -> str:
    out = StringIO()
    call_command("requeue_refunds", "--now", at.isoformat(), stdout=out)
    return out.getvalue()


def test_a_refund_stuck_in_the_queue_is_run_again(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])  # no commit: message never sent
    ticket.refresh_from_db()
    assert ticket.status == S.AWAITING_REFUND

    output = requeue(clock.now() + dt.timedelta(minutes=16))

    ticket.refresh_from_db()
    assert "refunds_requeued: 1" in output
    assert ticket.status == S.COMPLETED
    assert ticket.refunds.get().status == "succeeded"


def test_a_refund_younger_than_the_retry_delay_is_left_alone(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])  # no commit: message never sent

    output = requeue(clock.now() + dt.timedelta(minutes=14))

    ticket.refresh_from_db()
    assert "refunds_requeued: 0" in output
    assert ticket.status == S.AWAITING_REFUND
    assert ticket.refunds.get().status == "pending"


def test_requeue_refunds_refuses_a_naive_time():
    with pytest.raises(CommandError):
        call_command("requeue_refunds", "--now", "2026-11-30T09:00:00")
