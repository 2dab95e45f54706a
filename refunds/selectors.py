"""Reads for finance, and the refunds the dispatcher and the reconciliation pick up."""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet

from policies import services as policies
from refunds.models import Refund
from tickets.models import Ticket
from tickets.selectors import approved_by_review, list_tickets_for_staff


def list_tickets_for_finance(base: QuerySet | None = None) -> QuerySet[Ticket]:
    """The finance refund list (the API's, and the admin's queue on ``base``): approved by ops, awaiting
    refund, and no refund already under way (auto-approved claims pay at once; a failed refund brings its
    ticket back here)."""
    under_way = Refund.objects.live().filter(ticket=OuterRef("pk"))
    return (list_tickets_for_staff() if base is None else base).filter(approved_by_review(), status=Ticket.Status.AWAITING_REFUND).exclude(
        Exists(under_way))


def list_refunds_to_dispatch(*, created_before: datetime) -> QuerySet[Refund]:
    """Refunds never handed to a worker (the broker was down when they were approved), oldest first."""
    return Refund.objects.filter(status=Refund.Status.PENDING, dispatched_at__isnull=True,
                                 created_at__lt=created_before).order_by("created_at", "pk")


def list_refunds_to_reconcile(*, now: datetime, lease_grace: timedelta) -> QuerySet[Refund]:
    """Refunds a worker or the broker lost:

    - pending after the policy's retry delay since they were last handed to the queue (or created, if
      never): their message was lost;
    - in progress with no run holding them for ``lease_grace`` past their lease: the worker died, or the
      task gave up retrying. (A run that got no answer gives its lease back; the grace leaves the task's
      own retry, its backoff, the first go.)"""
    retry_before = now - policies.current().minutes("refund_retry_minutes")
    pending = Q(status=Refund.Status.PENDING) & (
        Q(dispatched_at__lt=retry_before) | Q(dispatched_at__isnull=True, created_at__lt=retry_before))
    abandoned = Q(status=Refund.Status.IN_PROGRESS) & (
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now - lease_grace))
    return Refund.objects.filter(pending | abandoned).order_by("pk")
