"""The ticket deadline sweep (SPEC §6): the periodic task and `manage.py run_deadlines` run this.
(Refunds whose execution message was lost are the refunds part's own sweep: refunds.tasks.)

Each ticket is handled in its own transaction through the ordinary services, so a failure on one
never stops the rest, and a ticket another worker already moved is simply refused and skipped."""

import logging
from collections import Counter
from datetime import datetime

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_noop  # stored in English, shown translated

from aftersales import clock
from aftersales.errors import DomainError
from policies import services as policies
from tickets import services
from tickets.models import ReturnShipment, Ticket

log = logging.getLogger(__name__)
S = Ticket.Status


def run_deadlines(now: datetime | None = None) -> Counter:
    """Close, auto-confirm and escalate what is due at ``now``; return what was done."""
    now = now or clock.now()
    done: Counter = Counter()
    with clock.frozen_at(now):
        policy = policies.current()
        shipped_back = Exists(ReturnShipment.objects.filter(ticket=OuterRef("pk")))

        # Approved, but the buyer never sent the goods back in time [001].
        overdue = Ticket.objects.filter(status=S.AWAITING_RETURN, return_deadline__lt=now).exclude(shipped_back)
        for pk in overdue.values_list("pk", flat=True):
            _attempt(done, "closed", services.close_ticket, ticket_id=pk,
                     reason=gettext_noop("The goods were not sent back before the return deadline."))

        # The replacement shipped long enough ago: receipt confirmed for the buyer.
        unconfirmed = Ticket.objects.filter(status=S.AWAITING_EXCHANGE, confirm_deadline__lt=now)
        for pk in unconfirmed.values_list("pk", flat=True):
            _attempt(done, "auto_confirmed", services.confirm_receipt, ticket_id=pk)

        # Goods back, refund not processed within the SLA [003]: escalate (unless the money is on its way).
        late_refund = Ticket.objects.filter(
            status=S.AWAITING_REFUND, escalated_at__isnull=True, refund_requested_at__isnull=True,
            goods_received_at__lt=now - policy.hours("refund_sla_hours"))
        for pk in late_refund.values_list("pk", flat=True):
            _attempt(done, "escalated_refund", services.escalate_ticket, ticket_id=pk,
                     reason=gettext_noop("Goods received; the refund is past its SLA."))

        # Claims waiting for ops past the review SLA [000].
        late_review = Ticket.objects.filter(status=S.PENDING_REVIEW, escalated_at__isnull=True,
                                            created_at__lt=now - policy.hours("review_sla_hours"))
        for pk in late_review.values_list("pk", flat=True):
            _attempt(done, "escalated_review", services.escalate_ticket, ticket_id=pk,
                     reason=gettext_noop("Waiting for review past the SLA."))

    return done


def _attempt(done: Counter, label: str, service, **kwargs) -> None:
    try:
        service(**kwargs)
        done[label] += 1
    except DomainError as exc:  # moved by someone else meanwhile
        log.info("deadline sweep skipped %s: %s", kwargs, exc.detail)
        done["skipped"] += 1
