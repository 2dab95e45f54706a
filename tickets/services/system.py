"""What the system does when a deadline passes (tickets.deadlines calls these, as the actor "system")."""

from django.db import transaction
from django.utils.translation import gettext_noop  # stored in English, shown translated

from aftersales import clock
from tickets import payloads
from tickets.due import DueKind
from tickets.machine import lock_ticket, move, record_event, save_status, set_due
from tickets.models import EventKind, Ticket

# Why the system escalated, by what was late (the ops queue and the timeline show it translated).
ESCALATION_REASONS = {
    DueKind.REVIEW: gettext_noop("Waiting for review past the SLA."),
    DueKind.REFUND: gettext_noop("Approved; the refund is past its SLA."),
    DueKind.REPLACEMENT: gettext_noop("Goods received; the replacement has not shipped within the SLA."),
    DueKind.FIRST_REPLY: gettext_noop("Logistics problem: no first reply within the SLA."),
    DueKind.RESOLUTION: gettext_noop("Logistics problem: not resolved within the SLA."),
}
GOODS_BACK_REFUND_LATE = gettext_noop("Goods received; the refund is past its SLA.")
COULD_NOT_ACT = gettext_noop("The deadline passed but the system could not act on it: a person decides.")


@transaction.atomic
def close_ticket(*, ticket_id: int, reason: str) -> Ticket:
    """The system closes a goods-back ticket whose return deadline passed with nothing sent."""
    ticket = lock_ticket(ticket_id)
    before = move(ticket, EventKind.CLOSE)
    ticket.finished_at = clock.now()
    save_status(ticket, "finished_at")
    record_event(ticket, EventKind.CLOSE, actor=None, before=before, reason=reason)
    return ticket


@transaction.atomic
def escalate_ticket(*, ticket_id: int, due_for: str, reason: str = "") -> Ticket:
    """Flag a ticket whose step ``due_for`` (a DueKind) is late, for the ops queue: no state change, one
    internal event, once per stage (tickets.due: a new stage clears the flag). Parts downstream may act on
    the event in this same transaction: refunds pays a late refund automatically where the policy says so
    [003], and then the ticket returned has moved on (money on its way)."""
    ticket = lock_ticket(ticket_id)
    if ticket.escalated_at is not None or ticket.is_final:
        return ticket
    if not reason:
        late_goods_refund = due_for == DueKind.REFUND and ticket.goods_received_at is not None
        reason = GOODS_BACK_REFUND_LATE if late_goods_refund else ESCALATION_REASONS.get(due_for, COULD_NOT_ACT)
    ticket.escalated_at = clock.now()
    ticket.save(update_fields=["escalated_at", "updated_at"])
    record_event(ticket, EventKind.ESCALATE, actor=None, before=ticket.status, reason=reason, buyer_visible=False,
                 changes=payloads.due_for(due_for) if due_for else None)
    if due_for == DueKind.REFUND:
        ticket.refresh_from_db()  # a subscriber may have paid it (refunds.services.refund_late_refund)
    return ticket


@transaction.atomic
def recheck_deadline(*, ticket_id: int) -> Ticket:
    """The sweep's action on a due ticket was refused. If the due time was out of step with the ticket's
    facts, it is computed again (and the sweep acts on the new one); if the facts give the same due time
    and still the action is refused, the ticket is escalated for a person, so the sweep does not try again
    and again."""
    ticket = lock_ticket(ticket_id)
    was = (ticket.next_deadline_at, ticket.next_deadline_kind)
    set_due(ticket)
    if (ticket.next_deadline_at, ticket.next_deadline_kind) != was:
        ticket.save(update_fields=["next_deadline_at", "next_deadline_kind", "escalated_at", "updated_at"])
        return ticket
    # No kind: nothing downstream acts on this one (no automatic refund on facts that disagree).
    return escalate_ticket(ticket_id=ticket_id, due_for="", reason=COULD_NOT_ACT)
