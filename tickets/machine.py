"""The state machine's glue, private to tickets: lock a ticket, fire a transition, write its timeline row.

Only `tickets.services` uses these (import-linter refuses them to every other part): a ticket's state
and timeline change through its services, one function per business action, never piece by piece.
"""

from django.db.models import Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import TransitionNotAllowed, can_proceed

from aftersales import clock
from aftersales.errors import InvalidTransition, NotFound
from aftersales.roles import FINANCE, OPS, WAREHOUSE, in_group
from orders.models import Order
from policies import services as policies
from reasons.selectors import logistics_reason_ids
from tickets.due import due_of
from tickets.models import EventKind, Ticket, TimelineEvent


def lock_ticket(ticket_id: int) -> Ticket:
    """The ticket, locked for the rest of the transaction (a second actor waits here, then sees ours).

    Its order is locked first: the house's one lock order on every path that may move money is order,
    then ticket, then refund (docs/design.md "Money per order"). Whatever a ticket's action decides about
    the order's money (shipping, the coupon, the points, what is left to claim) it reads under the order's
    lock, so two tickets of one order decide one after the other, never both on the same figures."""
    locked_order = (Order.objects.select_for_update(of=("self",))
                    .filter(pk=Subquery(Ticket.objects.filter(pk=ticket_id).values("order_id")))
                    .values_list("pk", flat=True))
    if not list(locked_order):
        raise NotFound("No such ticket.", field="ticket_no")
    try:
        return Ticket.objects.select_for_update().get(pk=ticket_id)
    except Ticket.DoesNotExist:
        raise NotFound("No such ticket.", field="ticket_no") from None


def read_ticket(ticket_id: int) -> Ticket:
    """The ticket as it is, unlocked: for previews, which change nothing."""
    try:
        return Ticket.objects.get(pk=ticket_id)
    except Ticket.DoesNotExist:
        raise NotFound("No such ticket.", field="ticket_no") from None


# In plain words, for the refusal: what was tried, and who has the ticket now.
VERBS = {
    EventKind.AUTO_APPROVE: gettext_lazy("approve it automatically"), EventKind.APPROVE: gettext_lazy("approve"),
    EventKind.COMPENSATE: gettext_lazy("settle with compensation"), EventKind.REJECT: gettext_lazy("reject"), EventKind.CANCEL: gettext_lazy("cancel"),
    EventKind.RECORD_RETURN_SHIPMENT: gettext_lazy("record a return shipment"), EventKind.RECEIVE_GOODS: gettext_lazy("receive the goods"),
    EventKind.CLOSE: gettext_lazy("close"), EventKind.FINANCE_APPROVE: gettext_lazy("approve the refund"),
    EventKind.FINANCE_REJECT: gettext_lazy("send it back to ops"), EventKind.REFUND_SUCCEEDED: gettext_lazy("complete the refund"),
    EventKind.SHIP_REPLACEMENT: gettext_lazy("ship the replacement"),
    EventKind.RESHIP: gettext_lazy("re-ship parts"), EventKind.CONFIRM_RECEIPT: gettext_lazy("confirm receipt"),
    EventKind.INTERCEPT_FAILED: gettext_lazy("send it back to ops (too late to hold the shipment)"),
}
WHO_NOW = {
    Ticket.Status.PENDING_REVIEW: gettext_lazy("ops reviews it now"),
    Ticket.Status.AWAITING_RETURN: gettext_lazy("the buyer sends the goods back now"),
    Ticket.Status.AWAITING_REFUND: gettext_lazy("finance acts on it now, unless its refund is already under way"),
    Ticket.Status.AWAITING_EXCHANGE: gettext_lazy("the warehouse ships the replacement, then the buyer confirms"),
}


def check_can(ticket: Ticket, kind: EventKind) -> None:
    """Raise InvalidTransition if the machine does not allow transition ``kind`` now (before any other
    check, so a wrong state is reported as such, whatever else is wrong with the input)."""
    if not can_proceed(getattr(ticket, kind.value)):
        raise InvalidTransition(_("Cannot %(verb)s: this %(type)s ticket is %(status)s (%(who)s).") % {
            "verb": VERBS.get(kind, kind.label), "type": ticket.get_type_display(),
            "status": ticket.get_status_display(), "who": WHO_NOW.get(ticket.status, _("it is finished"))})


def move(ticket: Ticket, kind: EventKind, **kwargs) -> str:
    """Fire transition ``kind``; return the status before. A move the machine does not allow raises
    InvalidTransition, changing nothing. Entering review (again) restarts the review clock."""
    before = ticket.status
    check_can(ticket, kind)
    try:
        getattr(ticket, kind.value)(**kwargs)
    except TransitionNotAllowed as exc:  # a condition changed under us
        raise InvalidTransition(str(exc)) from None
    if ticket.status == Ticket.Status.PENDING_REVIEW and before != Ticket.Status.PENDING_REVIEW:
        ticket.review_started_at = clock.now()
    if ticket.status != before:
        ticket.escalated_at = None  # a new stage: escalated again only if it is late too
    return before


def set_due(ticket: Ticket) -> None:
    """Keep the ticket's one due time in step with its state (tickets.due). When the due time or its kind
    changes, the ticket waits on something new: an escalation of the old one no longer stands."""
    shipped_back = ticket.status == Ticket.Status.AWAITING_RETURN and ticket.return_shipments.exists()
    due = due_of(ticket, policies.current(), shipped_back=shipped_back,
                 logistics=ticket.reason_id in logistics_reason_ids())
    if due != (ticket.next_deadline_at, ticket.next_deadline_kind):
        ticket.next_deadline_at, ticket.next_deadline_kind = due
        ticket.escalated_at = None


def save_status(ticket: Ticket, *fields: str) -> None:
    """Save a transition: the status, what the service changed, and the due time that follows."""
    set_due(ticket)
    ticket.save(update_fields=["status", "updated_at", "review_started_at", "next_deadline_at", "next_deadline_kind",
                               "escalated_at", "first_replied_at", *fields])


def mark_replied(ticket: Ticket) -> bool:
    """Staff answered the claim (a note, a decision): the first time starts nothing but stops the logistics
    first-reply clock [001]. True if this was the first reply (the caller saves the ticket)."""
    if ticket.first_replied_at is not None:
        return False
    ticket.first_replied_at = clock.now()
    return True


def role_of(actor, ticket: Ticket) -> str:
    if actor is None:
        return "system"
    if ticket.buyer.user_id == actor.pk:
        return "buyer"
    for role in (OPS, FINANCE, WAREHOUSE):
        if in_group(actor, role) and not actor.is_superuser:
            return role
    return "admin" if actor.is_superuser else "staff"


# Subscribers to timeline events, by kind: how a part downstream of tickets learns, inside the same
# transaction, that something happened to a ticket, without tickets importing it (docs/design.md).
_subscribers: dict[EventKind, list] = {}


def subscribe(kind: EventKind, handler) -> None:
    """Call ``handler(event)`` whenever an event of ``kind`` is recorded, in the recording transaction: if
    the handler fails, the whole action is undone. Registered once per process (an AppConfig.ready)."""
    handlers = _subscribers.setdefault(kind, [])
    if handler not in handlers:
        handlers.append(handler)


def record_event(ticket: Ticket, kind: EventKind, *, actor, before: str, reason: str = "",
                 changes: dict | None = None, buyer_visible: bool = True) -> TimelineEvent:
    event = TimelineEvent.objects.create(
        ticket=ticket, actor=actor, actor_role=role_of(actor, ticket), at=clock.now(),
        transition=kind, from_status=before, to_status=ticket.status, reason=reason,
        changes=changes or {}, buyer_visible=buyer_visible)
    for handler in _subscribers.get(kind, ()):
        handler(event)
    return event
