"""Paying a refund: exactly once, whatever retries, crashes or races happen. The task runs this.

A run takes the refund (row lock, a lease of REFUND_TASK_TIME_LIMIT seconds), lets go of the lock, and
calls the gateway with the refund's uuid as idempotency key. A refund already in progress when a run
takes it may have reached the gateway before (an earlier run timed out, or its worker died mid-call), so
that run asks the gateway first and sends again only if nothing was paid. Every call is kept as a
RefundAttempt. The ticket completes only when the gateway confirms a payment."""

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from aftersales import clock
from aftersales.money import ZERO
from orders.models import Order, OrderLine
from refunds.gateway import GatewayDeclined, GatewayError, GatewayResult, GatewayTimeout, get_gateway
from refunds.models import Refund, RefundAttempt, RefundLine
from tickets import services as tickets

logger = logging.getLogger(__name__)
S = Refund.Status


def execute_refund(*, refund_id: int) -> Refund:
    """Pay a refund. Safe to run any number of times, concurrently: the row lock, the status and the
    lease let one run call the gateway at a time; the idempotency key makes a call repeated after a
    crash pay nothing twice. No lock is held over the network call.

    Returns the refund (succeeded, failed, or left to the run holding it). Raises GatewayError (a
    GatewayTimeout included) when the gateway gave no final answer: the refund stays in progress and
    the caller tries again later (the task retries with backoff; reconciliation in the end)."""
    refund, resume = _take(refund_id)
    if refund is None or refund.status != S.IN_PROGRESS:
        return refund or Refund.objects.get(pk=refund_id)
    gateway, key = get_gateway(), str(refund.uuid)
    if resume:
        paid = _call(refund, RefundAttempt.Call.STATUS, lambda: gateway.status(idempotency_key=key))
        if paid is not None:
            return _record_success(refund_id=refund_id, reference=paid.reference)
    try:
        paid = _call(refund, RefundAttempt.Call.REFUND, lambda: gateway.refund(
            idempotency_key=key, amount=refund.amount, order_no=refund.ticket.order.order_no))
    except GatewayDeclined as exc:
        return _record_failure(refund_id=refund_id, reason=str(exc))
    return _record_success(refund_id=refund_id, reference=paid.reference)


def settle_from_status(*, refund_id: int) -> Refund | None:
    """Reconciliation of a refund left in progress: ask the gateway what became of its key. Paid: the
    refund succeeds (and its ticket completes); returns it. Nothing paid: returns None (send it again).
    Raises GatewayError when the gateway does not answer."""
    refund = Refund.objects.get(pk=refund_id)
    if refund.status != S.IN_PROGRESS:
        return refund
    paid = _call(refund, RefundAttempt.Call.STATUS, lambda: get_gateway().status(idempotency_key=str(refund.uuid)))
    return None if paid is None else _record_success(refund_id=refund_id, reference=paid.reference)


def lock_refund(refund_id: int) -> Refund:
    """The refund, locked, after its order (the house's one lock order on money: order, then ticket, then
    refund; docs/design.md "Money per order"), with its ticket (locked too) and its order read. Two
    statements: the order, found through the refund; then the refund and its ticket together, which nobody
    can be holding or waiting for without the order's lock (every money path takes it first)."""
    order = (Order.objects.select_for_update(of=("self",))
             .filter(pk=Subquery(Refund.objects.filter(pk=refund_id).values("ticket__order_id")))
             .values_list("pk", flat=True))
    if not list(order):
        raise Refund.DoesNotExist(f"No refund {refund_id}.")
    return (Refund.objects.select_for_update(of=("self", "ticket")).select_related("ticket__order")
            .get(pk=refund_id))


@transaction.atomic
def _take(refund_id: int) -> tuple[Refund | None, bool]:
    """Lock the refund and take it for one call to the gateway. Returns (refund, resume): None when it is
    finished or another run holds the lease; resume when an earlier run may have reached the gateway."""
    refund = lock_refund(refund_id)
    now = clock.now()
    if refund.status in (S.SUCCEEDED, S.FAILED):
        return None, False  # a redelivered message: already done
    if refund.lease_expires_at is not None and refund.lease_expires_at > now:
        return None, False  # a duplicate message while another worker is calling the gateway
    resume = refund.status == S.IN_PROGRESS
    if not resume:
        over = over_cap(refund)
        if over:
            return _fail(refund, over, now), False
    refund.status, refund.attempts = S.IN_PROGRESS, refund.attempts + 1
    refund.lease_expires_at = now + timedelta(seconds=settings.REFUND_TASK_TIME_LIMIT)
    refund.save(update_fields=["status", "attempts", "lease_expires_at"])
    return refund, resume


def over_cap(refund: Refund) -> str:
    """Why paying this refund would give back more than was paid (a line's goods, the order's cash, or an
    order-level part: shipping, the coupon, the points), or "" when it would not.

    Checked before any money moves (a run taking the refund for the gateway, finance recording a payment
    made by hand), under the order's lock (``lock_refund``: every writer of the order's counters and its
    lines holds it), counting what succeeded and what other refunds in progress may still pay. The CHECKs
    on Order and OrderLine refuse it anyway when the success is recorded; this keeps the money from moving
    first."""
    order = refund.ticket.order
    others = Refund.objects.filter(ticket__order_id=order.pk, status=S.IN_PROGRESS).exclude(pk=refund.pk)
    flying = others.aggregate(amount=Coalesce(Sum("amount"), ZERO), shipping=Coalesce(Sum("shipping"), ZERO),
                              coupon=Coalesce(Sum("coupon"), ZERO), vc=Coalesce(Sum("virtual_currency"), ZERO))
    for part, given, cap, name in (
            ("shipping", order.refunded_shipping, order.shipping_fee, _("shipping")),
            ("coupon", order.refunded_coupon, order.coupon_discount, _("coupon")),
            ("vc", order.refunded_virtual_currency, order.virtual_currency, _("virtual currency")),
            ("amount", order.refunded_amount, order.amount_paid, _("cash"))):
        this = getattr(refund, "virtual_currency" if part == "vc" else part)
        if this and given + flying[part] + this > cap:
            return _("Order %(order)s: %(amount)s more %(part)s would give back more than the %(cap)s of the "
                     "order (%(given)s already given back or on its way).") % {
                "order": order.order_no, "amount": this, "part": name, "cap": cap,
                "given": given + flying[part]}
    parts = dict(refund.lines.values_list("order_line_id", "amount"))
    if not parts:
        return ""
    in_flight = (RefundLine.objects.filter(order_line=OuterRef("pk"), refund__status=S.IN_PROGRESS)
                 .exclude(refund=refund).values("order_line").annotate(total=Sum("amount")).values("total"))
    lines = (OrderLine.objects.filter(pk__in=parts).order_by("pk")
             .annotate(in_flight=Coalesce(Subquery(in_flight), ZERO)))
    for line in lines:
        if line.refunded_amount + line.in_flight + parts[line.pk] > line.paid_amount:
            return _("Line %(line)s: %(amount)s more would refund more than the %(paid)s paid for it.") % {
                "line": line.line_id, "amount": parts[line.pk], "paid": line.paid_amount}
    return ""


def _call(refund: Refund, call: str, send: Callable[[], GatewayResult | None]) -> GatewayResult | None:
    """Make one gateway call and keep it as a RefundAttempt, whatever the gateway answered. A call that
    got no final answer gives the lease back, so the task's retry (or reconciliation) can take the refund."""
    started = time.monotonic()
    try:
        result = send()
    except GatewayDeclined as exc:
        _keep(refund, call, RefundAttempt.Outcome.DECLINED, started, error=str(exc))
        raise
    except GatewayError as exc:
        outcome = RefundAttempt.Outcome.TIMEOUT if isinstance(exc, GatewayTimeout) else RefundAttempt.Outcome.TRANSIENT_ERROR
        _keep(refund, call, outcome, started, error=str(exc))
        Refund.objects.filter(pk=refund.pk, status=S.IN_PROGRESS).update(lease_expires_at=clock.now())
        raise
    if result is None:
        _keep(refund, call, RefundAttempt.Outcome.NOT_FOUND, started)
    else:
        _keep(refund, call, RefundAttempt.Outcome.SUCCEEDED, started, reference=result.reference)
    return result


def _keep(refund: Refund, call: str, outcome: str, started: float, *, error: str = "", reference: str = "") -> None:
    RefundAttempt.objects.create(refund=refund, at=clock.now(), call=call, outcome=outcome, error=error[:500],
                                 latency_ms=round((time.monotonic() - started) * 1000), gateway_reference=reference)


@transaction.atomic
def _record_success(*, refund_id: int, reference: str) -> Refund:
    """The gateway confirmed the payment: the refund succeeds, its goods count against each line's cap
    (the database refuses a line refunded beyond its paid amount: then nothing here is kept), and the
    ticket completes, all in one transaction."""
    refund = lock_refund(refund_id)
    if refund.status == S.SUCCEEDED:
        return refund
    if refund.status == S.FAILED:
        # A consistent provider never pays a key it declined; if one does, people must look.
        logger.error("Refund %s is failed but the gateway reports it paid (%s).", refund.pk, reference)
        return refund
    refund.status, refund.gateway_reference, refund.finished_at = S.SUCCEEDED, reference, clock.now()
    refund.lease_expires_at = None
    refund.save(update_fields=["status", "gateway_reference", "finished_at", "lease_expires_at"])
    count_against_order(refund)
    settle_refused(refund)
    tickets.record_refund_succeeded(ticket_id=refund.ticket_id, amount=refund.amount, reference=reference)
    return refund


def settle_refused(paid: Refund) -> int:
    """The ticket is paid: its refunds the gateway refused earlier are settled by this one (they leave
    finance's work list; their record stays as it was). In the caller's transaction, under the order's
    and the ticket's locks. Returns how many were settled."""
    return Refund.objects.refused_unsettled().filter(ticket_id=paid.ticket_id).exclude(pk=paid.pk).update(
        superseded_by=paid)


def count_against_order(refund: Refund) -> None:
    """Add a paid refund to what its order and its order lines have given back (in the caller's
    transaction, the one that marks the refund succeeded, under the order's lock): the cash and the
    order-level parts on the order, the goods per line. The database's CHECKs refuse any of them past
    what was paid (then nothing of the transaction is kept)."""
    Order.objects.filter(pk=refund.ticket.order_id).update(
        refunded_amount=F("refunded_amount") + refund.amount,
        refunded_shipping=F("refunded_shipping") + refund.shipping,
        refunded_coupon=F("refunded_coupon") + refund.coupon,
        refunded_virtual_currency=F("refunded_virtual_currency") + refund.virtual_currency)
    for order_line_id, amount in refund.lines.order_by("order_line_id").values_list("order_line_id", "amount"):
        if amount:
            OrderLine.objects.filter(pk=order_line_id).update(refunded_amount=F("refunded_amount") + amount)


@transaction.atomic
def _record_failure(*, refund_id: int, reason: str) -> Refund:
    refund = lock_refund(refund_id)
    if refund.status in (S.SUCCEEDED, S.FAILED):
        return refund
    return _fail(refund, reason, clock.now())


def _fail(refund: Refund, reason: str, now) -> Refund:
    """The refund is refused for good (declined, or over a line's cap): the ticket goes back to finance."""
    refund.status, refund.failure_reason, refund.finished_at = S.FAILED, reason[:500], now
    refund.lease_expires_at = None
    refund.save(update_fields=["status", "failure_reason", "finished_at", "lease_expires_at"])
    tickets.record_refund_failed(ticket_id=refund.ticket_id, reason=reason)
    return refund
