"""Paying a refund against a gateway that misbehaves (the in-process sandbox, scripted): a timeout after the
money moved is settled by asking the gateway, transient errors are retried, a decline fails the refund,
a run resuming a refund in progress asks before it sends, and every call is kept."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from aftersales import clock
from config.celery_app import app as celery_app
from refunds import services as refunds
from refunds.execution import execute_refund
from refunds.gateway import GatewayTimeout
from refunds.models import GatewayPayout, Refund, RefundAttempt
from refunds.selectors import list_tickets_for_finance
from refunds.tasks import execute_refund_task
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
S = Refund.Status


def approved(awaiting_refund, staff) -> Refund:
    """A refund finance approved, not yet run (the test's transaction never commits)."""
    ticket = awaiting_refund()
    refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    return Refund.objects.get(ticket=ticket)


def run_task(refund) -> None:
    """Run the task here as a worker would: its retries (autoretry_for, backoff) run at once, in turn.
    (Celery runs an in-process retry only when errors are not propagated, for each retry in turn.)"""
    celery_app.conf.update(CELERY_TASK_EAGER_PROPAGATES=False)
    try:
        execute_refund_task.apply(args=[refund.pk])
    finally:
        celery_app.conf.update(CELERY_TASK_EAGER_PROPAGATES=True)


def attempts(refund) -> list[tuple[str, str]]:
    return list(refund.gateway_attempts.values_list("call", "outcome"))


def test_a_timeout_after_the_money_moved_is_settled_by_the_status_call_with_one_payment(
        awaiting_refund, staff, gateway):
    refund = approved(awaiting_refund, staff)
    gateway.script = ["timeout"]

    run_task(refund)

    refund.refresh_from_db()
    assert refund.status == S.SUCCEEDED
    assert gateway.calls == ["refund:timeout", "status"]  # asked, did not send again
    assert attempts(refund) == [("refund", "timeout"), ("status", "succeeded")]
    payout = GatewayPayout.objects.get()
    assert (payout.idempotency_key, payout.amount, refund.gateway_reference) == (refund.uuid, refund.amount,
                                                                                 payout.reference)
    ticket = Ticket.objects.get(pk=refund.ticket_id)
    assert ticket.status == Ticket.Status.COMPLETED
    assert ticket.order.lines.get().refunded_amount == Decimal("20.00")


def test_transient_errors_are_retried_and_pay_once(awaiting_refund, staff, gateway):
    refund = approved(awaiting_refund, staff)
    gateway.script = ["error", "error"]

    run_task(refund)

    refund.refresh_from_db()
    assert refund.status == S.SUCCEEDED
    assert refund.attempts == 3
    assert gateway.calls == ["refund:error", "status", "refund:error", "status", "refund:ok"]
    assert attempts(refund) == [("refund", "transient_error"), ("status", "not_found"),
                                ("refund", "transient_error"), ("status", "not_found"), ("refund", "succeeded")]
    assert GatewayPayout.objects.count() == 1


def test_a_declined_refund_fails_and_its_ticket_goes_back_to_finance(awaiting_refund, staff, gateway):
    refund = approved(awaiting_refund, staff)
    gateway.script = ["decline"]

    run_task(refund)

    refund.refresh_from_db()
    assert (refund.status, refund.failure_reason) == (S.FAILED, "scripted: the account is closed")
    assert attempts(refund) == [("refund", "declined")]
    assert not GatewayPayout.objects.exists()
    ticket = Ticket.objects.get(pk=refund.ticket_id)
    assert (ticket.status, ticket.refund_requested_at) == (Ticket.Status.AWAITING_REFUND, None)
    assert ticket.events.filter(transition="refund_failed").count() == 1
    assert ticket in list_tickets_for_finance()
    assert ticket.order.lines.get().refunded_amount == 0


def test_a_run_that_finds_its_refund_in_progress_asks_the_gateway_before_sending(awaiting_refund, staff, gateway):
    """The worker died after the gateway paid and before it recorded the payment."""
    refund = approved(awaiting_refund, staff)
    gateway().refund(idempotency_key=str(refund.uuid), amount=refund.amount, order_no="x")  # the dead run's call
    Refund.objects.filter(pk=refund.pk).update(status=S.IN_PROGRESS, attempts=1, lease_expires_at=None)
    gateway.calls.clear()

    execute_refund(refund_id=refund.pk)

    refund.refresh_from_db()
    assert refund.status == S.SUCCEEDED
    assert gateway.calls == ["status"]
    assert GatewayPayout.objects.count() == 1


def test_a_duplicate_message_leaves_a_refund_another_worker_holds_alone(awaiting_refund, staff, gateway):
    refund = approved(awaiting_refund, staff)
    Refund.objects.filter(pk=refund.pk).update(status=S.IN_PROGRESS,
                                               lease_expires_at=clock.now() + dt.timedelta(minutes=1))

    assert execute_refund(refund_id=refund.pk).status == S.IN_PROGRESS
    assert gateway.calls == []


def test_a_status_call_without_answer_leaves_the_refund_in_progress_for_later(awaiting_refund, staff, gateway):
    refund = approved(awaiting_refund, staff)
    Refund.objects.filter(pk=refund.pk).update(status=S.IN_PROGRESS)
    gateway.status_errors = 1

    with pytest.raises(GatewayTimeout):
        execute_refund(refund_id=refund.pk)

    refund.refresh_from_db()
    assert refund.status == S.IN_PROGRESS
    assert gateway.calls == ["status"]  # nothing sent without knowing
    assert attempts(refund) == [("status", "timeout")]


def test_gateway_attempts_are_history_even_for_sql(awaiting_refund, staff):
    refund = approved(awaiting_refund, staff)
    execute_refund(refund_id=refund.pk)
    attempt = RefundAttempt.objects.get()

    with pytest.raises(RuntimeError):
        attempt.save()
    with pytest.raises(RuntimeError):
        attempt.delete()
    for statement in ("UPDATE refunds_refundattempt SET outcome = 'declined'", "DELETE FROM refunds_refundattempt"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert RefundAttempt.objects.get().outcome == "succeeded"

