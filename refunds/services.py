"""Refund services: finance review, and money paid exactly once whatever retries, crashes or races happen.

Tickets sit upstream: these services call the ticket's own doors (`tickets.services.record_*`) inside
their transaction; tickets never calls back. A refund-only claim approved by the system reaches us as
an AUTO_APPROVE timeline event (`refunds.apps` subscribes; docs/design.md)."""

from functools import partial

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop  # stored in English, shown translated

from aftersales import clock
from aftersales.errors import Conflict, InvalidTransition
from aftersales.inputs import clean_text
from aftersales.roles import FINANCE, require_role
from aftersales.transactions import atomic_retrying
from policies import services as policies
from refunds.breakdown import refund_parts
from refunds.execution import count_against_order, execute_refund, lock_refund, over_cap, settle_refused
from refunds.models import Refund, RefundLine
from refunds.tasks import dispatch_refund
from tickets import services as tickets
from tickets.due import DueKind
from tickets.models import Ticket, TimelineEvent

# --------------------------------------------------------------------------------------------- finance review


@atomic_retrying
def finance_approve_ticket(*, ticket_id: int, actor) -> Ticket:
    """Finance approves: the refund is recorded once and executed after commit. A second approval
    (double click, two users) finds the refund under way and is refused with 409. Who filed or decided the
    claim does not pay it (the ticket's door holds the one rule: tickets.services.duties)."""
    require_role(actor, FINANCE)
    ticket = tickets.record_finance_approval(ticket_id=ticket_id, actor=actor)
    request_refund(ticket=ticket, actor=actor)
    return ticket


def preview_finance_approval(*, ticket_id: int, actor) -> Ticket:
    """The ticket whose refund `finance_approve_ticket` would send now (its amount, for the confirmation
    step); refuses what it would refuse, changing nothing."""
    require_role(actor, FINANCE)
    return tickets.check_finance_approval(ticket_id=ticket_id, actor=actor)


@atomic_retrying
def finance_reject_ticket(*, ticket_id: int, actor, reason: str) -> Ticket:
    """Finance sends the ticket back to ops review with a reason ops sees."""
    require_role(actor, FINANCE)
    return tickets.record_finance_send_back(ticket_id=ticket_id, actor=actor, reason=reason)


def refund_late_refund(event: TimelineEvent) -> Refund | None:
    """A ticket escalated because its refund is late: where the policy says so (a marketplace rule [003]),
    the goods being back, the system approves and pays it through the finance path, in the escalation's
    transaction (a subscriber to ESCALATE). The one-live-refund constraint holds whatever runs twice. A
    ticket whose refund already failed once stays with finance (escalated): the system does not try the
    gateway again every few minutes."""
    ticket = event.ticket
    if event.due_for != DueKind.REFUND or ticket.goods_received_at is None:
        return None
    if not policies.current().switch("auto_refund_after_sla"):
        return None
    if Refund.objects.filter(ticket=ticket, status=Refund.Status.FAILED).exists():
        return None
    ticket = tickets.record_finance_approval(ticket_id=ticket.pk, actor=None, reason=REFUNDED_AFTER_SLA)
    return request_refund(ticket=ticket, actor=None)


REFUNDED_AFTER_SLA = gettext_noop("The refund was not processed within the SLA after the goods arrived: the "
                                  "system refunds automatically.")


def refund_auto_approved(event: TimelineEvent) -> Refund:
    """A refund-only claim on an unshipped order was approved by the system: no finance step [001]. Runs
    inside the claim's transaction (a subscriber to AUTO_APPROVE), so the claim and its refund are
    recorded together or not at all."""
    return request_refund(ticket=event.ticket, actor=None)


# --------------------------------------------------------------------------------------------- recording


def request_refund(*, ticket: Ticket, actor) -> Refund:
    """Record the refund for a locked ticket, with its parts (refunds.breakdown), and queue its execution
    after commit.

    The database holds at most one live refund per ticket; a second request (two finance users, a
    retried request) hits that constraint and is refused.
    """
    parts = refund_parts(ticket)
    try:
        with transaction.atomic():
            refund = Refund.objects.create(ticket=ticket, amount=ticket.refund_amount, requested_by=actor,
                                           created_at=clock.now(), shipping=parts.shipping, coupon=parts.coupon,
                                           virtual_currency=parts.virtual_currency)
    except IntegrityError:
        raise Conflict(_("A refund for this ticket is already under way.")) from None
    RefundLine.objects.bulk_create(RefundLine(refund=refund, order_line_id=order_line_id, amount=amount)
                                   for order_line_id, amount in parts.lines)
    # Never raises: with the broker down the approval stands and the dispatcher sends the refund later.
    transaction.on_commit(partial(dispatch_refund, refund.pk))
    return refund


# --------------------------------------------------------------------------------------------- failures


@atomic_retrying
def retry_refund(*, refund_id: int, actor) -> Refund:
    """Finance sends a refund that is stuck (its calls got no final answer: the provider was down) to the
    gateway again now, with the same idempotency key, instead of waiting for the reconciliation: the
    run asks the provider first whether the key was paid, so nothing is paid twice."""
    require_role(actor, FINANCE)
    refund = lock_refund(refund_id)
    tickets.check_duty(refund.ticket, actor, tickets.Duty.RESEND)  # never one's own claim's money
    if refund.status == Refund.Status.FAILED:
        raise InvalidTransition(_settled_or_refused(refund))
    if refund.status not in (Refund.Status.PENDING, Refund.Status.IN_PROGRESS):
        raise InvalidTransition(_("Only a refund still under way can be sent again; this one is %(status)s.") % {
            "status": refund.get_status_display()})
    refund.lease_expires_at = None  # whoever held it got no answer: the retry may take it
    refund.save(update_fields=["lease_expires_at"])
    transaction.on_commit(partial(dispatch_refund, refund.pk))
    return refund


MANUAL = gettext_noop("manual")  # a payment by hand, in its refund's gateway reference (refunds.models.reference_in_words)


def _settled_or_refused(refund: Refund) -> str:
    """Why a refused refund is not sent again, and what to do instead."""
    if refund.superseded_by_id:
        return _("The gateway refused this refund, and the ticket was paid by a later one: nothing is left to "
                 "send.")
    return _("The gateway refused this refund, and it would refuse the same one again: approve the refund "
             "again in Refunds to approve (a new payment), send the ticket back to ops, or record it as paid by "
             "hand.")


@atomic_retrying
def mark_refund_paid_manually(*, refund_id: int, actor, reason: str, reference: str = "") -> Refund:
    """The provider declined, and finance paid the buyer outside the system (a bank transfer): the refund is
    recorded as paid with who, why and the transfer's reference, counts against its lines like any other
    payment (the database holds the cap), and the ticket completes. Only a refund the gateway declined
    qualifies: one still under way may yet be paid by the gateway, and would then be paid twice."""
    require_role(actor, FINANCE)
    reason = clean_text(reason, field="reason", required=True)
    reference = clean_text(reference, field="reference", required=False, limit=80)
    refund = lock_refund(refund_id)  # order, ticket, refund: the lock order of every money path
    if refund.status != Refund.Status.FAILED:
        raise InvalidTransition(_("Only a refund the gateway refused can be marked as paid by hand; this one is "
                                  "%(status)s.") % {"status": refund.get_status_display()})
    tickets.check_duty(refund.ticket, actor, tickets.Duty.PAY)  # claimant, reviewer and payer: three people
    if refund.ticket.refunds.live().exists():
        raise Conflict(_("Another refund for this ticket is already under way or paid."))
    over = over_cap(refund)
    if over:
        raise Conflict(over)
    label = f"{MANUAL}: {reference}" if reference else MANUAL  # stored in English, shown translated
    refund.status, refund.finished_at, refund.gateway_reference = Refund.Status.SUCCEEDED, clock.now(), label
    refund.paid_manually_by, refund.manual_reason = actor, reason
    try:
        with transaction.atomic():  # another refund approved meanwhile: the one-live-refund index refuses
            refund.save(update_fields=["status", "finished_at", "gateway_reference", "paid_manually_by",
                                       "manual_reason"])
    except IntegrityError:
        raise Conflict(_("Another refund for this ticket is already under way or paid.")) from None
    count_against_order(refund)
    settle_refused(refund)
    tickets.record_refund_succeeded(ticket_id=refund.ticket_id, amount=refund.amount, reference=label,
                                    actor=actor, note=reason)
    return refund


__all__ = ["execute_refund", "finance_approve_ticket", "finance_reject_ticket", "preview_finance_approval",
           "mark_refund_paid_manually", "refund_auto_approved", "refund_late_refund", "request_refund", "retry_refund"]
