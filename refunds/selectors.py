"""Reads for finance, and the refunds the dispatcher and the reconciliation pick up."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from aftersales.money import ZERO, money
from policies import services as policies
from refunds.models import Refund, RefundAttempt
from tickets.models import Ticket
from tickets.selectors import approved_by_review, list_tickets_for_staff


def stuck() -> Q:
    """A refund under way whose calls to the gateway got no final answer (the provider was down or slow):
    the task and the reconciliation try again; finance may send it again now."""
    unanswered = RefundAttempt.objects.filter(refund=OuterRef("pk"), outcome__in=[
        RefundAttempt.Outcome.TRANSIENT_ERROR, RefundAttempt.Outcome.TIMEOUT])
    return Q(Exists(unanswered), status__in=[Refund.Status.PENDING, Refund.Status.IN_PROGRESS])


def list_tickets_for_finance(base: QuerySet | None = None, *, with_stuck: bool = False) -> QuerySet[Ticket]:
    """The finance refund list (the API's, and the admin's queue on ``base``): approved by ops, awaiting
    refund, and no refund already under way (auto-approved claims pay at once; a failed refund brings its
    ticket back here). ``with_stuck``: and those whose refund is stuck on its way (the admin's queue marks
    them). Each ticket is annotated ``refund_refused`` and ``refund_stuck`` (the queue's marker and filter)."""
    under_way = Refund.objects.live().filter(ticket=OuterRef("pk"))
    if with_stuck:
        under_way = under_way.exclude(stuck())
    return ((list_tickets_for_staff() if base is None else base)
            .filter(approved_by_review(), status=Ticket.Status.AWAITING_REFUND).exclude(Exists(under_way))
            .annotate(refund_refused=Exists(Refund.objects.refused_unsettled().filter(ticket=OuterRef("pk"))),
                      refund_stuck=Exists(Refund.objects.filter(stuck(), ticket=OuterRef("pk")))))


@dataclass(frozen=True)
class RefundOutcome:
    """Where a ticket's latest refund stands, as an action that sent it reports it."""

    PAID, REFUSED, WAITING, STUCK, NONE = "paid", "refused", "waiting", "stuck", "none"

    state: str
    reason: str = ""  # the gateway's refusal, or its last error while stuck
    refund_id: int | None = None


def refund_outcomes(ticket_ids: Iterable[int]) -> dict[int, RefundOutcome]:
    """Each ticket's latest refund: paid, refused by the gateway (why), stuck (calls without an answer: the
    last error) or waiting for the gateway's answer (the task is queued); NONE without a refund."""
    ids = list(ticket_ids)
    out = {pk: RefundOutcome(RefundOutcome.NONE) for pk in ids}
    seen = set()
    refunds = Refund.objects.filter(ticket_id__in=ids).order_by("ticket_id", "-created_at", "-pk")
    for refund in refunds.prefetch_related("gateway_attempts"):
        if refund.ticket_id in seen:
            continue
        seen.add(refund.ticket_id)
        out[refund.ticket_id] = _outcome(refund)
    return out


def _outcome(refund: Refund) -> RefundOutcome:
    S = Refund.Status
    if refund.status == S.SUCCEEDED:
        return RefundOutcome(RefundOutcome.PAID, refund_id=refund.pk)
    if refund.status == S.FAILED:
        return RefundOutcome(RefundOutcome.REFUSED, refund.failure_reason, refund.pk)
    unanswered = [attempt for attempt in refund.gateway_attempts.all() if attempt.outcome in (
        RefundAttempt.Outcome.TRANSIENT_ERROR, RefundAttempt.Outcome.TIMEOUT)]
    if unanswered:
        return RefundOutcome(RefundOutcome.STUCK, unanswered[-1].error, refund.pk)
    return RefundOutcome(RefundOutcome.WAITING, refund_id=refund.pk)


# A ticket's refund status (API.md, the finance list): its latest refund's, or "none" before any.
NO_REFUND = "none"
REFUND_STATUSES = [NO_REFUND, *Refund.Status.values]
# Statuses of work still to do: these are looked for among the finance list's own tickets (approved, awaiting
# refund, nothing under way); the others among every ticket whose latest refund is in that status.
TO_DO = frozenset({NO_REFUND, Refund.Status.FAILED})


def with_refund_status(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """``refund_state`` (one of REFUND_STATUSES) and ``refund_error`` (why the latest refund failed, else "")
    on each ticket, from its latest refund."""
    latest = Refund.objects.filter(ticket=OuterRef("pk")).order_by("-pk")
    return queryset.annotate(
        refund_state=Coalesce(Subquery(latest.values("status")[:1]), Value(NO_REFUND)),
        refund_error=Coalesce(Subquery(latest.values("failure_reason")[:1]), Value("")))


def list_refunds_for_finance(*, refund_status: list[str] | None = None) -> QuerySet[Ticket]:
    """The finance refund list of the API with each ticket's refund status. Without ``refund_status``: the
    work list (list_tickets_for_finance). With it: the work list's tickets in ``none`` or ``failed`` as asked,
    and every ticket whose latest refund is ``pending``, ``in_progress`` or ``succeeded`` as asked."""
    wanted = set(refund_status or TO_DO)
    # The work list as list_tickets_for_finance says it (the admin's queue reads the same), as a subquery.
    condition = Q(refund_state__in=sorted(wanted & TO_DO), pk__in=list_tickets_for_finance().values("pk"))
    if wanted - TO_DO:
        condition |= Q(refund_state__in=sorted(wanted - TO_DO))
    return with_refund_status(list_tickets_for_staff()).filter(condition)


def refund_totals(queryset: QuerySet[Ticket]) -> dict:
    """How many tickets the list holds and what they refund in all, exact to the cent (SQLite sums a float)."""
    totals = queryset.order_by().aggregate(count=Count("pk"), amount=Sum("refund_amount"))
    amount = totals["amount"] if totals["amount"] is not None else ZERO
    return {"count": totals["count"],
            "refund_amount": money(amount if isinstance(amount, Decimal) else Decimal(str(amount)))}


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
