"""Paying a refund: exactly once, whatever retries, crashes or races happen. The task runs this."""

from django.db import transaction

from aftersales import clock
from refunds.gateway import GatewayDeclined, get_gateway
from refunds.models import Refund
from tickets import services as tickets


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
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if refund.status == Refund.Status.SUCCEEDED:
        return refund
    refund.status, refund.gateway_reference, refund.finished_at = Refund.Status.SUCCEEDED, reference, clock.now()
    refund.save(update_fields=["status", "gateway_reference", "finished_at"])
    tickets.record_refund_succeeded(ticket_id=refund.ticket_id, amount=refund.amount, reference=reference)
    return refund


@transaction.atomic
def _record_failure(*, refund_id: int, reason: str) -> Refund:
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if refund.status == Refund.Status.SUCCEEDED:
        return refund
    refund.status, refund.failure_reason, refund.finished_at = Refund.Status.FAILED, reason[:500], clock.now()
    refund.save(update_fields=["status", "failure_reason", "finished_at"])
    tickets.record_refund_failed(ticket_id=refund.ticket_id, reason=reason)
    return refund
