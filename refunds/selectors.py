"""Reads for finance."""

from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet

from policies import services as policies
from refunds.models import Refund
from tickets.models import Ticket
from tickets.selectors import approved_by_review, list_tickets_for_staff


def list_tickets_for_finance() -> QuerySet[Ticket]:
    """The finance refund list: approved by ops, awaiting refund, and no refund already under way
    (auto-approved claims pay at once; a failed refund brings its ticket back here)."""
    under_way = Refund.objects.live().filter(ticket=OuterRef("pk"))
    return list_tickets_for_staff().filter(approved_by_review(), status=Ticket.Status.AWAITING_REFUND).exclude(
        Exists(under_way))


def list_stuck_refunds(*, now: datetime) -> QuerySet[Refund]:
    """Refunds still pending or in progress after the policy's retry delay: their message was lost, or
    the worker running them died."""
    return Refund.objects.filter(status__in=[Refund.Status.PENDING, Refund.Status.IN_PROGRESS],
                                 created_at__lt=now - policies.current().minutes("refund_retry_minutes"))
