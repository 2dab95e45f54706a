"""Warehouse services: the one door for goods received back and for replacements sent out. The goods
records are ours; the ticket learns what happened through its own doors, in the same transaction."""

from django.db import transaction

from aftersales.roles import WAREHOUSE, require_role
from tickets import services as tickets
from tickets.models import Ticket
from warehouse.models import Inbound, InboundLine, Outbound, OutboundLine


@transaction.atomic
def record_inbound(*, ticket_id: int, actor, lines, note: str = "") -> Inbound:
    """Goods came back and were inspected. Everything claimed arrived and passed: the ticket moves
    on (return: awaiting refund; exchange: awaiting exchange). Anything missing or rejected: back
    to ops review with the inspection attached."""
    require_role(actor, WAREHOUSE)
    receipt = tickets.record_goods_received(ticket_id=ticket_id, actor=actor, lines=lines, note=note)
    ticket = receipt.ticket
    inbound = Inbound.objects.create(
        ticket=ticket, operator=actor, note=receipt.note, created_at=receipt.at,
        type=Inbound.Type.EXCHANGE if ticket.type == Ticket.Type.EXCHANGE else Inbound.Type.RETURN)
    InboundLine.objects.bulk_create([
        InboundLine(inbound=inbound, order_line=line.ticket_line.order_line, quantity=line.quantity,
                    accepted=line.accepted) for line in receipt.lines])
    return inbound


@transaction.atomic
def record_outbound(*, ticket_id: int, actor, lines, courier: str, tracking_no: str) -> Outbound:
    """The replacement left the warehouse; the buyer confirms receipt, or the system does later."""
    require_role(actor, WAREHOUSE)
    dispatch = tickets.record_replacement_shipped(ticket_id=ticket_id, actor=actor, lines=lines, courier=courier,
                                                  tracking_no=tracking_no)
    outbound = Outbound.objects.create(ticket=dispatch.ticket, operator=actor, courier=dispatch.courier,
                                       tracking_no=dispatch.tracking_no, created_at=dispatch.at)
    OutboundLine.objects.bulk_create([
        OutboundLine(outbound=outbound, order_line=line.ticket_line.order_line, quantity=line.quantity)
        for line in dispatch.lines])
    return outbound
