"""Warehouse services: the one door for goods received back and for replacements sent out."""

from django.db import transaction

from aftersales import clock
from aftersales.errors import FieldInvalid, FieldRequired
from aftersales.roles import WAREHOUSE, require_role
from policies import services as policies
from tickets.models import Ticket
from tickets.services import check_can, clean_text, lock_ticket, move, record_event, save_status
from warehouse.models import Inbound, InboundLine, Outbound, OutboundLine


def _ticket_lines(ticket: Ticket, lines, *, with_accepted: bool) -> list[tuple]:
    """Validate [{order_line_id, quantity[, accepted]}] against the ticket's own lines."""
    if not isinstance(lines, list) or not lines:
        raise FieldRequired("Name at least one line.", field="lines")
    claimed = {tl.order_line.line_id: tl for tl in ticket.lines.select_related("order_line")}
    out, seen = [], set()
    for i, item in enumerate(lines):
        if not isinstance(item, dict):
            raise FieldInvalid("Each line is an object.", field=f"lines.{i}")
        line_id, units = item.get("order_line_id"), item.get("quantity")
        if line_id not in claimed or line_id in seen:
            raise FieldInvalid("Not a line of this ticket (or named twice).", field=f"lines.{i}.order_line_id")
        seen.add(line_id)
        if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= claimed[line_id].quantity:
            raise FieldInvalid(f"A whole number from 1 to {claimed[line_id].quantity}.", field=f"lines.{i}.quantity")
        accepted = item.get("accepted")
        if with_accepted and not isinstance(accepted, bool):
            raise FieldRequired("Say whether the goods passed inspection.", field=f"lines.{i}.accepted")
        out.append((claimed[line_id], units, accepted))
    return out


@transaction.atomic
def record_inbound(*, ticket_id: int, actor, lines, note: str = "") -> Inbound:
    """Goods came back and were inspected. Everything claimed arrived and passed: the ticket moves
    on (return: awaiting refund; exchange: awaiting exchange). Anything missing or rejected: back
    to ops review with the inspection attached."""
    require_role(actor, WAREHOUSE)
    ticket = lock_ticket(ticket_id)
    check_can(ticket, "receive_goods")
    received = _ticket_lines(ticket, lines, with_accepted=True)
    note = clean_text(note, field="note", required=False, limit=1000)
    all_accepted = (all(accepted for _, _, accepted in received)
                    and {tl.pk for tl, _, _ in received} == set(ticket.lines.values_list("pk", flat=True))
                    and all(units == tl.quantity for tl, units, _ in received))
    now = clock.now()
    inbound = Inbound.objects.create(
        ticket=ticket, operator=actor, note=note, created_at=now,
        type=Inbound.Type.EXCHANGE if ticket.type == Ticket.Type.EXCHANGE else Inbound.Type.RETURN)
    InboundLine.objects.bulk_create([InboundLine(inbound=inbound, order_line=tl.order_line, quantity=units,
                                                 accepted=accepted) for tl, units, accepted in received])
    before = move(ticket, "receive_goods", all_accepted=all_accepted)
    ticket.goods_received_at = now
    save_status(ticket, "goods_received_at")
    record_event(ticket, "receive_goods", actor=actor, before=before, reason=note, changes={
        "inspection": [None, [[tl.order_line.line_id, units, accepted] for tl, units, accepted in received]]})
    return inbound


@transaction.atomic
def record_outbound(*, ticket_id: int, actor, lines, courier: str, tracking_no: str) -> Outbound:
    """The replacement left the warehouse; the buyer confirms receipt, or the system does later."""
    require_role(actor, WAREHOUSE)
    ticket = lock_ticket(ticket_id)
    check_can(ticket, "ship_replacement")
    shipped = _ticket_lines(ticket, lines, with_accepted=False)
    courier = clean_text(courier, field="courier", required=True, limit=100)
    tracking_no = clean_text(tracking_no, field="tracking_no", required=True, limit=100)
    now = clock.now()
    outbound = Outbound.objects.create(ticket=ticket, operator=actor, courier=courier, tracking_no=tracking_no,
                                       created_at=now)
    OutboundLine.objects.bulk_create([OutboundLine(outbound=outbound, order_line=tl.order_line, quantity=units)
                                      for tl, units, _ in shipped])
    before = move(ticket, "ship_replacement")
    ticket.replacement_shipped_at = now
    ticket.confirm_deadline = now + policies.current().days("exchange_autoconfirm_days")
    save_status(ticket, "replacement_shipped_at", "confirm_deadline")
    record_event(ticket, "ship_replacement", actor=actor, before=before,
                 changes={"courier": [None, courier], "tracking_no": [None, tracking_no]})
    return outbound
