"""What the system does when a deadline passes (tickets.deadlines calls these)."""

from django.db import transaction

from aftersales import clock
from tickets.machine import lock_ticket, move, record_event, save_status
from tickets.models import EventKind, Ticket


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
def escalate_ticket(*, ticket_id: int, reason: str) -> Ticket:
    """Mark a ticket whose SLA passed; no state change, one event, once."""
    ticket = lock_ticket(ticket_id)
    if ticket.escalated_at is not None or ticket.is_final:
        return ticket
    ticket.escalated_at = clock.now()
    ticket.save(update_fields=["escalated_at", "updated_at"])
    record_event(ticket, EventKind.ESCALATE, actor=None, before=ticket.status, reason=reason, buyer_visible=False)
    return ticket
