"""Failures finance sees and settles (issue #11): a refund stuck after calls without an answer is sent again
with the same key (paid once), and a refund the gateway refused can be recorded as paid by hand, with why
and by whom, once, counted against its lines like any payment."""

from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.test import Client
from django.urls import reverse

from aftersales.errors import Conflict, FieldRequired, InvalidTransition, NotAllowed
from orders.models import OrderLine
from refunds import services
from refunds.models import GatewayPayout, Refund
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
REFUNDS = reverse("admin:refunds_refund_changelist")
S = Ticket.Status


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def finance_approves(ticket, staff, capture):
    with capture(execute=True):
        services.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    return Refund.objects.get(ticket=ticket)


def test_a_stuck_refund_is_listed_and_sent_again_with_the_same_key_paying_once(
        awaiting_refund, staff, gateway, django_capture_on_commit_callbacks):
    ticket = awaiting_refund()
    gateway.script = ["error"]  # the provider is down: no answer, the refund stays under way
    refund = finance_approves(ticket, staff, django_capture_on_commit_callbacks)
    assert refund.status == Refund.Status.IN_PROGRESS
    finance = client_of(staff["finance"])
    stuck = finance.get(REFUNDS, {"needs": "stuck"}).content.decode()
    assert ticket.ticket_no in stuck and "scripted: service unavailable" in stuck

    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(REFUNDS, {"action": "retry_selected", helpers.ACTION_CHECKBOX_NAME: [refund.pk]})

    assert response.status_code == 302
    refund.refresh_from_db()
    ticket.refresh_from_db()
    assert (refund.status, ticket.status) == (Refund.Status.SUCCEEDED, S.COMPLETED)
    assert GatewayPayout.objects.filter(idempotency_key=refund.uuid).count() == 1
    assert list(refund.gateway_attempts.values_list("call", "outcome")) == [
        ("refund", "transient_error"), ("status", "not_found"), ("refund", "succeeded")]
    with pytest.raises(InvalidTransition):  # paid: nothing to send again
        services.retry_refund(refund_id=refund.pk, actor=staff["finance"])


def test_a_refused_refund_is_recorded_as_paid_by_hand_once_with_why_and_who(
        awaiting_refund, staff, gateway, django_capture_on_commit_callbacks):
    ticket = awaiting_refund(lines=(("general", "20.00", 1, None),))
    gateway.script = ["decline"]
    refund = finance_approves(ticket, staff, django_capture_on_commit_callbacks)
    assert refund.status == Refund.Status.FAILED
    finance = client_of(staff["finance"])
    selection = {"action": "mark_paid_manually", helpers.ACTION_CHECKBOX_NAME: [refund.pk]}

    asked = finance.post(REFUNDS, selection)
    assert 'id="mark-paid-form"' in asked.content.decode() and "scripted: the account is closed" in asked.content.decode()
    refused = finance.post(REFUNDS, {**selection, "confirmed": "yes", "reason": " "})
    assert "This field is required." in refused.content.decode()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED

    finance.post(REFUNDS, {**selection, "confirmed": "yes", "reason": "Card closed: paid by bank transfer",
                           "reference": "BT-7781"})

    refund.refresh_from_db()
    ticket.refresh_from_db()
    assert (refund.status, refund.gateway_reference, refund.paid_manually_by, refund.manual_reason) == (
        Refund.Status.SUCCEEDED, "manual: BT-7781", staff["finance"], "Card closed: paid by bank transfer")
    assert ticket.status == S.COMPLETED
    event = ticket.events.get(transition="refund_succeeded")
    assert (event.actor, event.reason) == (staff["finance"], "Card closed: paid by bank transfer")
    assert OrderLine.objects.get(pk=ticket.lines.get().order_line_id).refunded_amount == Decimal("20.00")
    assert not GatewayPayout.objects.exists()  # nothing went through the gateway
    with pytest.raises(InvalidTransition):
        services.mark_refund_paid_manually(refund_id=refund.pk, actor=staff["finance"], reason="again")


def test_paid_by_hand_is_refused_while_another_refund_is_under_way_or_the_refund_is_not_refused(
        awaiting_refund, staff, gateway, django_capture_on_commit_callbacks):
    ticket = awaiting_refund()
    gateway.script = ["decline"]
    declined = finance_approves(ticket, staff, django_capture_on_commit_callbacks)
    gateway.script = ["error"]
    with django_capture_on_commit_callbacks(execute=True):  # finance approves again: a new refund, stuck
        services.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    second = Refund.objects.get(ticket=ticket, status=Refund.Status.IN_PROGRESS)

    with pytest.raises(Conflict):
        services.mark_refund_paid_manually(refund_id=declined.pk, actor=staff["finance"], reason="transfer")
    with pytest.raises(InvalidTransition):
        services.mark_refund_paid_manually(refund_id=second.pk, actor=staff["finance"], reason="transfer")
    with pytest.raises(FieldRequired):
        services.mark_refund_paid_manually(refund_id=declined.pk, actor=staff["finance"], reason="")
    assert Refund.objects.get(pk=declined.pk).status == Refund.Status.FAILED


@pytest.mark.parametrize("role", ["ops", "warehouse"])
def test_only_finance_sends_again_or_records_by_hand(awaiting_refund, staff, gateway, role,
                                                      django_capture_on_commit_callbacks):
    gateway.script = ["decline"]
    refund = finance_approves(awaiting_refund(), staff, django_capture_on_commit_callbacks)

    with pytest.raises(NotAllowed):
        services.retry_refund(refund_id=refund.pk, actor=staff[role])
    with pytest.raises(NotAllowed):
        services.mark_refund_paid_manually(refund_id=refund.pk, actor=staff[role], reason="transfer")
    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.FAILED
