"""What a buyer does after submitting: withdraw, send the goods back, confirm the replacement arrived."""

from django.utils.translation import gettext as _

from aftersales import clock
from aftersales.errors import InvalidTransition, NotFound
from aftersales.inputs import clean_text
from aftersales.transactions import atomic_retrying
from tickets.machine import lock_ticket, move, record_event, save_status
from tickets.models import EventKind, ReturnShipment, Ticket


def _own_ticket(ticket_id: int, actor) -> Ticket:
    """The caller's ticket, locked; another buyer's is "not found", whatever its state."""
    ticket = lock_ticket(ticket_id)
    if ticket.buyer.user_id != getattr(actor, "pk", None):
        raise NotFound(_("No such ticket."), field="ticket_no")
    return ticket


@atomic_retrying
def cancel_ticket(*, ticket_id: int, actor) -> Ticket:
    """The buyer withdraws a claim that is pending, or approved with nothing sent back yet."""
    ticket = _own_ticket(ticket_id, actor)
    before = move(ticket, EventKind.CANCEL)
    ticket.finished_at = clock.now()
    save_status(ticket, "finished_at")
    record_event(ticket, EventKind.CANCEL, actor=actor, before=before)
    return ticket


@atomic_retrying
def record_return_shipment(*, ticket_id: int, actor, courier: str, tracking_no: str) -> ReturnShipment:
    """The buyer sent the goods back: courier and tracking number (the return deadline no longer closes it)."""
    ticket = _own_ticket(ticket_id, actor)
    courier = clean_text(courier, field="courier", required=True, limit=100)
    tracking_no = clean_text(tracking_no, field="tracking_no", required=True, limit=100)
    before = move(ticket, EventKind.RECORD_RETURN_SHIPMENT)
    shipment = ReturnShipment.objects.create(ticket=ticket, courier=courier, tracking_no=tracking_no,
                                             created_at=clock.now(), created_by=actor)
    save_status(ticket)  # after the shipment: nothing is due of the buyer any more
    record_event(ticket, EventKind.RECORD_RETURN_SHIPMENT, actor=actor, before=before,
                 changes={"courier": [None, courier], "tracking_no": [None, tracking_no]})
    return shipment


@atomic_retrying
def confirm_receipt(*, ticket_id: int, actor=None) -> Ticket:
    """The buyer confirms the replacement arrived; with no actor, the system after the deadline."""
    ticket = _own_ticket(ticket_id, actor) if actor is not None else lock_ticket(ticket_id)
    if actor is None and not (ticket.confirm_deadline is not None and ticket.confirm_deadline < clock.now()):
        raise InvalidTransition(_("The system confirms receipt only once the confirmation deadline has passed."))
    before = move(ticket, EventKind.CONFIRM_RECEIPT)
    ticket.finished_at = clock.now()
    save_status(ticket, "finished_at")
    record_event(ticket, EventKind.CONFIRM_RECEIPT if actor else EventKind.AUTO_CONFIRM_RECEIPT, actor=actor,
                 before=before, reason="" if actor else _("The confirmation deadline passed."))
    return ticket
