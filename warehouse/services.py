"""Warehouse services: the one door for goods received back, goods sent out, shipments held, and the
shop's registers. The goods records and the stock ledger are ours; the ticket learns what happened through
its own doors (tickets.services), in the same transaction."""

import datetime as dt
from collections import defaultdict

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales import clock
from aftersales.errors import FieldInvalid, FieldRequired, InvalidTransition, NotFound
from aftersales.inputs import clean_text
from aftersales.money import parse_amount
from aftersales.roles import OPS, WAREHOUSE, require_role
from aftersales.transactions import atomic_retrying
from orders.models import Order, OrderLine
from tickets import services as tickets
from tickets.models import Ticket, TimelineEvent
from warehouse.models import (
    Inbound,
    InboundLine,
    InboundPhoto,
    Incident,
    Intercept,
    Location,
    Outbound,
    OutboundLine,
    OutboundRequest,
    OutboundRequestLine,
    StockBalance,
    StockMovement,
)

# ------------------------------------------------------------------------------------------- goods in


@atomic_retrying
def record_inbound(*, ticket_id: int, actor, lines, note: str = "", photo_ids=()) -> Inbound:
    """Goods came back and were inspected (SPEC §4.2 step 5, §4.3 step 5). Everything claimed arrived and
    passed: the ticket moves on (return: awaiting refund; exchange: awaiting exchange). Anything missing or
    rejected: back to ops review with the inspection attached and a return's refund recomputed for what
    passed. Goods that passed go back to sellable stock, refused goods to the damaged location: the ledger
    is written in this transaction. A second clerk receiving the same ticket waits on the ticket's lock,
    then is refused (the ticket is no longer awaiting return): one inbound."""
    require_role(actor, WAREHOUSE)
    receipt = tickets.record_goods_received(ticket_id=ticket_id, actor=actor, lines=lines, note=note,
                                            photo_ids=list(photo_ids))
    ticket = receipt.ticket
    inbound = Inbound.objects.create(
        ticket=ticket, operator=actor, note=receipt.note, created_at=receipt.at,
        type=Inbound.Type.EXCHANGE if ticket.traits.replacement_ships else Inbound.Type.RETURN)
    InboundLine.objects.bulk_create([
        InboundLine(inbound=inbound, order_line=line.ticket_line.order_line, quantity=line.quantity,
                    accepted=line.accepted, reject_reason=line.reject_reason, note=line.note)
        for line in receipt.lines])
    InboundPhoto.objects.bulk_create([InboundPhoto(inbound=inbound, upload=photo) for photo in receipt.photos])
    _record_movements([
        StockMovement(sku=line.ticket_line.order_line.sku, quantity=line.quantity, ticket=ticket, inbound=inbound,
                      operator=actor, at=receipt.at,
                      kind=StockMovement.Kind.RETURN_ACCEPTED if line.accepted else StockMovement.Kind.RETURN_REJECTED,
                      location=Location.SELLABLE if line.accepted else Location.DAMAGED)
        for line in receipt.lines])
    return inbound


# ------------------------------------------------------------------------------------------ goods out


@atomic_retrying
def record_outbound(*, ticket_id: int, actor, lines, courier: str, tracking_no: str) -> Outbound:
    """The replacement (or re-shipped parts) left the warehouse, out of sellable stock; the buyer confirms
    receipt, or the system does later. The open request for the ticket, if any, is done."""
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
    _record_movements([
        StockMovement(sku=line.ticket_line.order_line.sku, location=Location.SELLABLE, quantity=-line.quantity,
                      kind=StockMovement.Kind.OUTBOUND, ticket=dispatch.ticket, outbound=outbound, operator=actor,
                      at=dispatch.at)
        for line in dispatch.lines])
    if request is not None:
        request.status, request.outbound = OutboundRequest.Status.SHIPPED, outbound
        request.save(update_fields=["status", "outbound"])
    return outbound


@atomic_retrying
def ship_request(*, request_id: int, actor, lines, courier: str, tracking_no: str) -> Outbound:
    """Ship what the dispatch queue asked for (a replacement, or re-shipped parts): refused once it was
    shipped or superseded."""
    require_role(actor, WAREHOUSE)
    _hold_ticket_of(OutboundRequest, request_id)  # order, ticket, then the request: the house's lock order
    request = OutboundRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFound(_("No such outbound request."), field="request")
    if request.status != OutboundRequest.Status.OPEN:
        raise InvalidTransition(_("This request is %(status)s: nothing to ship.") % {
            "status": request.get_status_display()})
    return record_outbound(ticket_id=request.ticket_id, actor=actor, lines=lines, courier=courier,
                           tracking_no=tracking_no)


def _hold_ticket_of(model, pk) -> None:
    """Lock the order and the ticket a warehouse row belongs to before the row itself: the ticket's
    actions (a re-ship supersedes the open request) lock the order and the ticket first, then these rows."""
    ticket_id = model.objects.filter(pk=pk).values_list("ticket_id", flat=True).first()
    if ticket_id is not None:
        tickets.hold_ticket(ticket_id=ticket_id)


def _open_request(ticket: Ticket, *, purpose: str, actor, at, note: str, parts: list[tuple[OrderLine, int]]):
    """A new to-do for the dispatch queue; an open one for the same ticket is superseded."""
    OutboundRequest.objects.filter(ticket=ticket, status=OutboundRequest.Status.OPEN).update(
        status=OutboundRequest.Status.SUPERSEDED)
    request = OutboundRequest.objects.create(ticket=ticket, purpose=purpose, requested_by=actor, requested_at=at,
                                             note=note)
    OutboundRequestLine.objects.bulk_create([
        OutboundRequestLine(request=request, order_line=line, quantity=units) for line, units in parts])
    return request


def request_reship_shipment(event: TimelineEvent) -> OutboundRequest:
    """Ops decided to re-ship parts (a RESHIP timeline event): the warehouse gets the request, in the
    decision's transaction (`warehouse.apps` subscribes). An open request for the ticket is superseded."""
    ticket = event.ticket
    parts = {part.line_id: part.units for part in event.reship_parts}
    order_lines = OrderLine.objects.filter(order_id=ticket.order_id, line_id__in=parts)
    return _open_request(ticket, purpose=Outbound.Purpose.RESHIP, actor=event.actor, at=event.at, note=event.reason,
                         parts=[(line, parts[line.line_id]) for line in order_lines])


def request_replacement_shipment(event: TimelineEvent) -> OutboundRequest | None:
    """An exchange reached "awaiting exchange" (its goods passed inspection, or ops approved it with the goods
    already back): the dispatch queue gets the replacement to send, every claimed unit, in the same
    transaction (`warehouse.apps` subscribes to RECEIVE_GOODS and APPROVE)."""
    ticket = event.ticket
    if (not ticket.traits.replacement_ships or ticket.status != Ticket.Status.AWAITING_EXCHANGE
            or ticket.replacement_shipped_at is not None):
        return None
    parts = [(line.order_line, line.quantity) for line in ticket.lines.select_related("order_line")]
    return _open_request(ticket, purpose=Outbound.Purpose.REPLACEMENT, actor=event.actor, at=event.at, note="",
                         parts=parts)


# ------------------------------------------------------------------------------------------ the ledger


def _record_movements(movements: list[StockMovement]) -> None:
    """Write the movements and add them to the balances, in the caller's transaction. One upsert per
    (SKU, location), in that order, so two transactions touching the same SKUs never wait on each other
    in a cycle; the database adds to what is there (no read-modify-write to lose)."""
    if not movements:
        return
    StockMovement.objects.bulk_create(movements)
    deltas: dict[tuple[str, str], int] = defaultdict(int)
    for movement in movements:
        deltas[(movement.sku, movement.location)] += movement.quantity
    table = StockBalance._meta.db_table
    now = clock.now()
    with connection.cursor() as cursor:
        for (sku, location), delta in sorted(deltas.items()):
            cursor.execute(
                f"INSERT INTO {table} (sku, location, quantity, updated_at) VALUES (%s, %s, %s, %s)"
                f" ON CONFLICT (sku, location) DO UPDATE SET quantity = {table}.quantity + EXCLUDED.quantity,"
                f" updated_at = EXCLUDED.updated_at", [sku, location, delta, now])


# ------------------------------------------------------------------------------------------ intercepts


def request_intercept(event: TimelineEvent) -> Intercept | None:
    """A refund-only claim on an order not shipped yet was approved (by the system or by ops): the warehouse
    is told to hold or cancel the shipment (SPEC §4.1, seed 001), in the approval's transaction. Once per
    ticket: a second approval (after a send-back) does not ask again."""
    ticket = event.ticket
    if not ticket.intercept_requested or not ticket.traits.claimable_before_shipment:
        return None
    intercept, _created = Intercept.objects.get_or_create(ticket=ticket, defaults={"requested_at": event.at})
    return intercept


@atomic_retrying
def record_intercept_result(*, intercept_id: int, actor, held: bool, note: str = "") -> Intercept:
    """A clerk says how the hold ended: held (the parcel stays), or too late (it had already shipped: the
    ticket goes back to ops, or, when its refund is already on its way, is flagged for ops; the ticket's
    door decides, tickets.services.record_intercept_outcome). Done once."""
    require_role(actor, WAREHOUSE)
    _hold_ticket_of(Intercept, intercept_id)  # order, ticket, then the intercept: the house's lock order
    intercept = Intercept.objects.select_for_update().filter(pk=intercept_id).first()
    if intercept is None:
        raise NotFound(_("No such shipment to hold."), field="intercept")
    if intercept.status != Intercept.Status.OPEN:
        raise InvalidTransition(_("Already marked %(status)s.") % {"status": intercept.get_status_display()})
    tickets.record_intercept_outcome(ticket_id=intercept.ticket_id, actor=actor, held=held, note=note)
    intercept.status = Intercept.Status.HELD if held else Intercept.Status.TOO_LATE
    intercept.done_at, intercept.done_by = clock.now(), actor
    intercept.note = clean_text(note, field="note", required=False, limit=1000)
    intercept.save(update_fields=["status", "done_at", "done_by", "note"])
    return intercept


# ------------------------------------------------------------------------------------------- registers


def incident_terms(*, kind: str, order_no: str, ticket_no: str = "", sku: str = "", courier: str = "",
                   tracking_no: str = "", description: str, cost, occurred_on) -> dict:
    """A register entry, checked (each bad field named); changes nothing."""
    if kind not in Incident.Kind.values:
        raise FieldInvalid(_("Wrong item or lost parcel."), field="kind")
    order_no = clean_text(order_no, field="order_no", required=True, limit=64)
    order = Order.objects.filter(order_no=order_no).first()
    if order is None:
        raise FieldInvalid(_("No order with this number."), field="order_no")
    ticket = None
    ticket_no = clean_text(ticket_no, field="ticket_no", required=False, limit=32)
    if ticket_no:
        ticket = Ticket.objects.filter(ticket_no=ticket_no, order=order).first()
        if ticket is None:
            raise FieldInvalid(_("No ticket with this number on that order."), field="ticket_no")
    if not isinstance(occurred_on, dt.date):
        raise FieldRequired(_("Say on which day it happened."), field="occurred_on")
    if occurred_on > timezone.localdate(clock.now()):
        raise FieldInvalid(_("Not a day in the future."), field="occurred_on")
    return {"kind": kind, "order": order, "ticket": ticket, "occurred_on": occurred_on,
            "sku": clean_text(sku, field="sku", required=False, limit=64),
            "courier": clean_text(courier, field="courier", required=kind == Incident.Kind.LOST_PARCEL, limit=100),
            "tracking_no": clean_text(tracking_no, field="tracking_no", required=kind == Incident.Kind.LOST_PARCEL,
                                      limit=100),
            "description": clean_text(description, field="description", required=True, limit=1000),
            "cost": parse_amount(cost, field="cost")}


@atomic_retrying
def record_incident(*, actor, **fields) -> Incident:
    """A wrong-item shipment or a lost parcel, with what it cost the shop (SPEC §10, seed 001). Recorded
    by the warehouse or ops; never edited (a correction is a new entry)."""
    require_role(actor, WAREHOUSE, OPS)
    terms = incident_terms(**fields)
    return Incident.objects.create(**terms, recorded_by=actor, recorded_at=clock.now())
