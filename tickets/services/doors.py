"""The doors other parts knock on. Refunds (money) and warehouse (goods) sit downstream of tickets: they
decide when money moved or goods arrived, and tell the ticket here, inside their own transaction. Each
door locks the ticket, checks the machine allows the move, fires it and writes the timeline row; none
checks roles (the calling service does: it is the business action)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales import clock
from aftersales.errors import FieldInvalid
from aftersales.inputs import clean_text, line_quantities
from policies import services as policies
from tickets.machine import check_can, lock_ticket, move, read_ticket, record_event, save_status
from tickets.models import EventKind, Ticket, TicketLine

# --------------------------------------------------------------------------------------------- goods


@dataclass(frozen=True)
class GoodsLine:
    """Units of one claimed line the warehouse handled (``accepted``: None for goods going out)."""

    ticket_line: TicketLine
    quantity: int
    accepted: bool | None = None


@dataclass(frozen=True)
class GoodsReceipt:
    ticket: Ticket
    lines: list[GoodsLine]
    note: str
    at: datetime


@dataclass(frozen=True)
class Dispatch:
    ticket: Ticket
    lines: list[GoodsLine]
    courier: str
    tracking_no: str
    at: datetime


def claimed_lines(ticket: Ticket, lines, *, with_accepted: bool) -> list[GoodsLine]:
    """The ``lines`` sent, each a line of this ticket, at most its claimed quantity."""
    claimed = {tl.order_line.line_id: tl for tl in ticket.lines.select_related("order_line")}
    out = []
    for line in line_quantities(lines, with_accepted=with_accepted):
        ticket_line = claimed.get(line.order_line_id)
        if ticket_line is None:
            raise FieldInvalid(_("Not a line of this ticket."), field=f"lines.{line.index}.order_line_id")
        if line.quantity > ticket_line.quantity:
            raise FieldInvalid(_("A whole number from %(minimum)s to %(maximum)s.") % {
                "minimum": 1, "maximum": ticket_line.quantity}, field=f"lines.{line.index}.quantity")
        out.append(GoodsLine(ticket_line, line.quantity, line.accepted))
    return out


@transaction.atomic
def record_goods_received(*, ticket_id: int, actor, lines, note: str = "") -> GoodsReceipt:
    """The goods came back and were inspected. Everything claimed arrived and passed: the ticket moves
    on (return: awaiting refund; exchange: awaiting exchange). Anything missing or rejected: back to
    ops review with the inspection in the timeline."""
    ticket = lock_ticket(ticket_id)
    check_can(ticket, EventKind.RECEIVE_GOODS)
    received = claimed_lines(ticket, lines, with_accepted=True)
    note = clean_text(note, field="note", required=False, limit=1000)
    all_accepted = (all(line.accepted for line in received)
                    and {line.ticket_line.pk for line in received} == {tl.pk for tl in ticket.lines.all()}
                    and all(line.quantity == line.ticket_line.quantity for line in received))
    now = clock.now()
    before = move(ticket, EventKind.RECEIVE_GOODS, all_accepted=all_accepted)
    ticket.goods_received_at, ticket.inspection_passed = now, all_accepted
    save_status(ticket, "goods_received_at", "inspection_passed")
    record_event(ticket, EventKind.RECEIVE_GOODS, actor=actor, before=before, reason=note, changes={
        "inspection": [None, [[line.ticket_line.order_line.line_id, line.quantity, line.accepted]
                              for line in received]]})
    return GoodsReceipt(ticket, received, note, now)


@transaction.atomic
def record_replacement_shipped(*, ticket_id: int, actor, lines, courier: str, tracking_no: str) -> Dispatch:
    """The replacement (or the re-shipped parts) left the warehouse; the buyer confirms receipt, or the
    system does after the window. Parts re-shipped beside a compensation go out on their own: the
    ticket, settled with money, records the shipment and stays where it is."""
    ticket = lock_ticket(ticket_id)
    parts_alone = (ticket.reship_requested_at is not None and ticket.replacement_shipped_at is None
                   and ticket.status != Ticket.Status.AWAITING_EXCHANGE)
    if not parts_alone:
        check_can(ticket, EventKind.SHIP_REPLACEMENT)
    shipped = claimed_lines(ticket, lines, with_accepted=False)
    courier = clean_text(courier, field="courier", required=True, limit=100)
    tracking_no = clean_text(tracking_no, field="tracking_no", required=True, limit=100)
    now = clock.now()
    if parts_alone:
        before, ticket.replacement_shipped_at = ticket.status, now
        ticket.save(update_fields=["replacement_shipped_at", "updated_at"])
    else:
        before = move(ticket, EventKind.SHIP_REPLACEMENT)
        ticket.replacement_shipped_at = now
        ticket.confirm_deadline = now + policies.current().days("exchange_autoconfirm_days")
        save_status(ticket, "replacement_shipped_at", "confirm_deadline")
    record_event(ticket, EventKind.SHIP_REPLACEMENT, actor=actor, before=before,
                 changes={"courier": [None, courier], "tracking_no": [None, tracking_no]})
    return Dispatch(ticket, shipped, courier, tracking_no, now)


# --------------------------------------------------------------------------------------------- money


def check_finance_approval(*, ticket_id: int) -> Ticket:
    """The ticket, if finance may approve its refund now (for a confirmation step); changes nothing."""
    ticket = read_ticket(ticket_id)
    check_can(ticket, EventKind.FINANCE_APPROVE)
    return ticket


@transaction.atomic
def record_finance_approval(*, ticket_id: int, actor, reason: str = "") -> Ticket:
    """Finance approved the refund (or, with no actor, the system paid a late refund [003]): the money is
    on its way. A second approval while a refund is under way (double click, two users) is refused by the
    machine (409)."""
    ticket = lock_ticket(ticket_id)
    before = move(ticket, EventKind.FINANCE_APPROVE)
    ticket.refund_requested_at = clock.now()
    save_status(ticket, "refund_requested_at")
    record_event(ticket, EventKind.FINANCE_APPROVE, actor=actor, before=before, reason=reason,
                 changes={"refund_amount": [None, str(ticket.refund_amount)]})
    return ticket


@transaction.atomic
def record_finance_send_back(*, ticket_id: int, actor, reason: str) -> Ticket:
    """Finance sends the ticket back to ops review with a reason ops sees (the buyer does not)."""
    ticket = lock_ticket(ticket_id)
    reason = clean_text(reason, field="reason", required=True)
    before = move(ticket, EventKind.FINANCE_REJECT)
    ticket.finance_rejection_reason = reason
    save_status(ticket, "finance_rejection_reason")
    record_event(ticket, EventKind.FINANCE_REJECT, actor=actor, before=before, reason=reason, buyer_visible=False)
    return ticket


@transaction.atomic
def record_refund_succeeded(*, ticket_id: int, amount: Decimal, reference: str) -> Ticket:
    """The gateway paid: the ticket is done."""
    ticket = lock_ticket(ticket_id)
    before = move(ticket, EventKind.REFUND_SUCCEEDED)
    ticket.finished_at = clock.now()
    save_status(ticket, "finished_at")
    record_event(ticket, EventKind.REFUND_SUCCEEDED, actor=None, before=before,
                 changes={"refunded": [None, str(amount)], "gateway_reference": [None, reference]})
    return ticket


@transaction.atomic
def record_refund_failed(*, ticket_id: int, reason: str) -> Ticket:
    """The gateway refused: the ticket waits for finance again (approve once more, or send back)."""
    ticket = lock_ticket(ticket_id)
    ticket.refund_requested_at = None
    save_status(ticket, "refund_requested_at")  # the refund is due again: finance acts
    record_event(ticket, EventKind.REFUND_FAILED, actor=None, before=ticket.status, reason=reason,
                 buyer_visible=False)
    return ticket
