"""Warehouse services: the one door for goods received back and for replacements sent out. The goods
records are ours; the ticket learns what happened through its own doors, in the same transaction."""

from django.db import transaction

from aftersales.roles import WAREHOUSE, require_role
from orders.models import OrderLine
from tickets import services as tickets
from tickets.models import Ticket, TimelineEvent
from warehouse.models import (
    Inbound,
    InboundLine,
    Outbound,
    OutboundLine,
    OutboundRequest,
    OutboundRequestLine,
)


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
    request = OutboundRequest.objects.select_for_update().filter(
        ticket=dispatch.ticket, status=OutboundRequest.Status.OPEN).first()
    outbound = Outbound.objects.create(
        ticket=dispatch.ticket, operator=actor, courier=dispatch.courier, tracking_no=dispatch.tracking_no,
        created_at=dispatch.at, purpose=request.purpose if request else Outbound.Purpose.REPLACEMENT)
    OutboundLine.objects.bulk_create([
        OutboundLine(outbound=outbound, order_line=line.ticket_line.order_line, quantity=line.quantity)
        for line in dispatch.lines])
    if request is not None:
        request.status, request.outbound = OutboundRequest.Status.SHIPPED, outbound
        request.save(update_fields=["status", "outbound"])
    return outbound


def request_reship_shipment(event: TimelineEvent) -> OutboundRequest:
    """Ops decided to re-ship parts (a RESHIP timeline event): the warehouse gets the request, in the
    decision's transaction (`warehouse.apps` subscribes). An open request for the ticket is superseded."""
    ticket = event.ticket
    OutboundRequest.objects.filter(ticket=ticket, status=OutboundRequest.Status.OPEN).update(
        status=OutboundRequest.Status.SUPERSEDED)
    request = OutboundRequest.objects.create(ticket=ticket, purpose=Outbound.Purpose.RESHIP, requested_by=event.actor,
                                             requested_at=event.at, note=event.reason)
    parts = dict(event.changes["reship"][1])
    order_lines = OrderLine.objects.filter(order_id=ticket.order_id, line_id__in=parts)
    OutboundRequestLine.objects.bulk_create([
        OutboundRequestLine(request=request, order_line=line, quantity=parts[line.line_id]) for line in order_lines])
    return request
