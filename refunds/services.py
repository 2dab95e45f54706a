"""Refund services: request once, execute exactly once whatever retries, crashes or races happen."""

from django.db import IntegrityError, transaction

from aftersales import clock
from aftersales.errors import Conflict
from refunds.gateway import GatewayDeclined, get_gateway
from refunds.models import Refund
from tickets.models import Ticket


def request_refund(*, ticket: Ticket, actor) -> Refund:
    """Record the refund for a locked ticket and queue its execution after commit.

    The database holds at most one refund per ticket that has not failed; a second request
    (two finance users, a retried request) hits that constraint and is refused.
    """
    from refunds.tasks import execute_refund_task

    try:
        with transaction.atomic():
            refund = Refund.objects.create(ticket=ticket, amount=ticket.refund_amount, requested_by=actor,
                                           created_at=clock.now())
    except IntegrityError:
        raise Conflict("A refund for this ticket is already under way.") from None
    transaction.on_commit(lambda: execute_refund_task.delay(refund.pk))
    return refund


def execute_refund(*, refund_id: int) -> Refund:
    """Pay a refund. Safe to run any number of times, concurrently: the row lock and the status let
    one run through; the gateway's idempotency key (the refund's uuid) makes a retried call after a
    crash pay nothing twice. No lock is held over the network call."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status in (Refund.Status.SUCCEEDED, Refund.Status.FAILED):
            return refund  # a redelivered message: already done
        refund.status = Refund.Status.IN_PROGRESS
        refund.attempts += 1
        refund.save(update_fields=["status", "attempts"])
        order_no = refund.ticket.order.order_no
    try:
        result = get_gateway().refund(amount=refund.amount, idempotency_key=str(refund.uuid), order_no=order_no)
    except GatewayDeclined as exc:
        return _record_failure(refund_id=refund_id, reason=str(exc))
    return _record_success(refund_id=refund_id, reference=result.reference)


@transaction.atomic
def _record_success(*, refund_id: int, reference: str) -> Refund:
    from tickets.services import mark_refund_succeeded

    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if refund.status == Refund.Status.SUCCEEDED:
        return refund
    refund.status, refund.gateway_reference, refund.finished_at = Refund.Status.SUCCEEDED, reference, clock.now()
    refund.save(update_fields=["status", "gateway_reference", "finished_at"])
    mark_refund_succeeded(ticket_id=refund.ticket_id, refund=refund)
    return refund


@transaction.atomic
def _record_failure(*, refund_id: int, reason: str) -> Refund:
    from tickets.services import lock_ticket, record_event

    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if refund.status == Refund.Status.SUCCEEDED:
        return refund
    refund.status, refund.failure_reason, refund.finished_at = Refund.Status.FAILED, reason[:500], clock.now()
    refund.save(update_fields=["status", "failure_reason", "finished_at"])
    ticket = lock_ticket(refund.ticket_id)
    record_event(ticket, "refund_failed", actor=None, before=ticket.status, reason=reason, buyer_visible=False)
    return refund
