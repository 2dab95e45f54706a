"""A refund-only claim on an unshipped order is approved by the system, and refunds records its refund in
the claim's own transaction (refunds subscribes to the AUTO_APPROVE timeline event: docs/design.md)."""

import pytest

from aftersales.errors import InvalidTransition
from refunds import services as refunds
from refunds.models import Refund
from tests.factories import make_order, submit
from tickets import machine
from tickets.models import EventKind, Ticket

pytestmark = pytest.mark.django_db
S = Ticket.Status


def unshipped_claim(buyer) -> Ticket:
    order = make_order(buyer=buyer, status="unshipped", lines=(("general", "30.00", 1, None),))
    return submit(order, type="refund_only", reason_code="changed_mind")


def test_the_system_approval_records_exactly_one_refund_for_the_whole_amount(buyer):
    ticket = unshipped_claim(buyer)

    ticket.refresh_from_db()
    refund = Refund.objects.get(ticket=ticket)
    assert (refund.amount, refund.status, refund.requested_by) == (ticket.refund_amount, "pending", None)
    assert ticket.refund_requested_at == ticket.approved_at
    assert ticket.status == S.AWAITING_REFUND


def test_finance_cannot_approve_again_what_the_system_already_sends(buyer, finance_user):
    ticket = unshipped_claim(buyer)

    with pytest.raises(InvalidTransition):
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=finance_user)

    assert Refund.objects.filter(ticket=ticket).count() == 1
    assert not ticket.events.filter(transition=EventKind.FINANCE_APPROVE).exists()


def test_a_subscriber_that_fails_undoes_the_whole_claim(buyer, monkeypatch):
    """The claim, its approval and its refund are one transaction: nothing half-done is ever kept."""
    def broken(event):
        raise RuntimeError("the refunds part is down")

    monkeypatch.setitem(machine._subscribers, EventKind.AUTO_APPROVE,
                        [*machine._subscribers[EventKind.AUTO_APPROVE], broken])
    order = make_order(buyer=buyer, status="unshipped", lines=(("general", "30.00", 1, None),))

    with pytest.raises(RuntimeError):
        submit(order, type="refund_only", reason_code="changed_mind")

    assert not Ticket.objects.filter(order=order).exists()
    assert not Refund.objects.filter(ticket__order=order).exists()


def test_refunds_is_subscribed_once_however_often_the_apps_start(buyer):
    from django.apps import apps

    apps.get_app_config("refunds").ready()
    apps.get_app_config("refunds").ready()

    assert machine._subscribers[EventKind.AUTO_APPROVE].count(refunds.refund_auto_approved) == 1
    unshipped_claim(buyer)
    assert Refund.objects.count() == 1


def test_a_claim_above_the_automatic_limit_waits_for_ops_and_moves_no_money(buyer):
    order = make_order(buyer=buyer, status="unshipped", lines=(("general", "600.00", 1, None),))

    ticket = submit(order, type="refund_only", reason_code="changed_mind")

    ticket.refresh_from_db()
    assert ticket.status == S.PENDING_REVIEW
    assert ticket.refund_requested_at is None
    assert not Refund.objects.filter(ticket=ticket).exists()
