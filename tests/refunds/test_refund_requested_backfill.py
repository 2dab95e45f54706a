"""The migration that moved "a refund is under way" onto the ticket fills it in for tickets that already
had a live refund (and for no other)."""

import importlib

import pytest
from django.apps import apps

from demo import journeys
from refunds import services as refunds
from tests.factories import make_order, submit
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
MIGRATION = importlib.import_module("refunds.migrations.0003_refund_requested_and_requeue_schedule")
S = Ticket.Status


def test_tickets_with_a_live_refund_get_its_request_time_and_others_stay_empty(staff, buyer):
    under_way = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    refunds.finance_approve_ticket(ticket_id=under_way.pk, actor=staff["finance"])  # pending, not run
    waiting = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_REFUND, staff=staff)
    Ticket.objects.update(refund_requested_at=None)  # as before the field existed

    MIGRATION.backfill_refund_requested(apps, None)

    under_way.refresh_from_db()
    waiting.refresh_from_db()
    assert under_way.refund_requested_at == under_way.refunds.get().created_at
    assert waiting.refund_requested_at is None
