"""Writing the outbox, and giving its rows their place in the feed.

**Written with the change.** events subscribes to every timeline kind (tickets.services.subscribe): the
handler runs right after the timeline row is written, in the same transaction, and writes that row's
events (events.catalogue). The change and its events commit together or not at all. We write beside the
timeline, not serve the timeline itself, because an event is what the buyer may see *at that moment* (the
ticket as the buyer API showed it then, frozen), because one row may mean two events and many rows none
(notes, assignments), and because deadline warnings are no timeline row at all.

**Positions in commit order.** An id drawn at insert is no cursor: a transaction that drew id 10 and
commits after the one that drew 11 would be skipped by a reader that had read 11. So rows are written
without a position, and ``sequence`` gives positions afterwards, to committed rows only, one sequencer at
a time (a PostgreSQL advisory lock held to the end of its transaction; SQLite has one writer anyway): each
run numbers from the highest position so far, and commits all its numbers at once. Positions therefore
appear to readers in increasing order, never below one already seen. The feed and the delivery loop run
the sequencer before they read, and every commit that wrote events runs it right after (on_commit), so a
position follows its commit within milliseconds; the periodic sweep catches a process that died between
the two.

**Fan-out.** The same sequencer run queues one delivery per event and endpoint that wants it, so a
sequenced event is always queued for every endpoint active at that moment.
"""

import copy
import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch, prefetch_related_objects
from rest_framework import serializers

from aftersales import clock
from events import catalogue
from events.models import Delivery, Endpoint, Event
from events.shapes import BuyerTicket
from policies import services as policies
from tickets.due import DueKind
from tickets.models import Ticket, TicketLine, TimelineEvent

log = logging.getLogger(__name__)

SEQUENCER_LOCK = 0x0E7E_0001  # the advisory lock key of the sequencer (any constant the project owns)
SEQUENCE_BATCH = 5000


# ------------------------------------------------------------------------------------------- writing


def record_timeline_event(row: TimelineEvent) -> list[Event]:
    """The events a timeline row means, written in its transaction (the subscriber of every kind)."""
    types = catalogue.types_for(row.transition, row.from_status, row.to_status)
    if not types:
        return []
    ticket = _buyer_view(row.ticket)
    shown = dict(BuyerTicket(ticket).data)
    events = Event.objects.bulk_create([
        Event(type=kind, shop_id=ticket.shop_id, ticket_id=ticket.pk, ticket_no=ticket.ticket_no, occurred_at=row.at,
              data={"ticket": shown, **_facts(kind, row, ticket)}) for kind in types])
    wake_on_commit()
    return events


BUYER_VIEW = (Prefetch("lines", queryset=TicketLine.objects.select_related("order_line")), "refunds",
              "return_shipments", "outbounds")


def _buyer_view(ticket: Ticket) -> Ticket:
    """A copy of the service's ticket (as the service just saved it, under its lock; its order and reason as
    already loaded) with the relations the buyer's view reads fetched afresh: its lines with their order
    lines, its refunds, its shipments each way. A copy, so the service's own instance and what it cached
    stay as they were (a relation read here before a later subscriber adds to it would be stale there)."""
    view = copy.copy(ticket)  # Model.__getstate__: its own state and fields cache
    view._prefetched_objects_cache = {}
    prefetch_related_objects([view], *BUYER_VIEW)
    return view


def _buyer_view_by_id(ticket_id: int) -> Ticket:
    return Ticket.objects.select_related("order", "reason").prefetch_related(*BUYER_VIEW).get(pk=ticket_id)


def _facts(kind: str, row: TimelineEvent, ticket: Ticket) -> dict:
    """What an event says beside the ticket (events.shapes describes each)."""
    if kind == "ticket.approved":
        goods_back = ticket.goods_come_back and not ticket.is_compensation
        return {"settlement": _settlement(row, ticket),
                "return_address": {"address": ticket.return_address, "contact": ticket.return_contact,
                                   "phone": ticket.return_phone} if goods_back else None,
                "return_deadline": _iso(ticket.return_deadline) if goods_back else None,
                "refund_amount": str(ticket.refund_amount)}
    if kind == "ticket.rejected":
        return {"rejection_reason": ticket.rejection_reason or row.reason}
    if kind == "ticket.closed":
        return {"reason": row.reason}
    if kind in ("refund.approved", "refund.failed"):
        return {"amount": str(ticket.refund_amount)}
    if kind == "refund.succeeded":
        change = row.refund_amount_change
        days = policies.current().count("refund_arrival_business_days")
        return {"amount": str(change.new if change and change.new is not None else ticket.refund_amount),
                "paid_at": _iso(row.at), "expected_by": _iso(clock.add_business_days(row.at, days))}
    if kind in ("shipment.return_sent", "shipment.outbound"):
        facts = {"courier": _new(row, "courier"), "tracking_no": _new(row, "tracking_no")}
        if kind == "shipment.outbound":
            facts["parts_only"] = ticket.reship_requested_at is not None
        return facts
    if kind == "shipment.inbound":
        return {"lines": [{"order_line_id": line.line_id, "units": line.units, "accepted": line.accepted,
                           "reject_reason": line.reject_reason} for line in row.inspection]}
    return {}


def _settlement(row: TimelineEvent, ticket: Ticket) -> str:
    if row.transition == "reship":
        return "reship"
    if ticket.is_compensation:
        return "compensation"
    if ticket.traits.replacement_ships:
        return "exchange"
    return "return" if ticket.goods_come_back else "refund"


def _new(row: TimelineEvent, field: str) -> str:
    value = (row.changes or {}).get(field)
    return value[1] if isinstance(value, list) and len(value) == 2 else ""


def _iso(moment: datetime | None) -> str | None:
    return serializers.DateTimeField().to_representation(moment) if moment else None


def record_deadline_warnings(*, now: datetime, within: timedelta) -> int:
    """``deadline.warning`` for each ticket whose buyer must act (send the goods back, confirm receipt)
    within ``within``: one per ticket, deadline and due time, however often this runs. Returns how many
    were written."""
    due = (Ticket.objects.filter(next_deadline_kind__in=[DueKind.RETURN, DueKind.CONFIRM],
                                 next_deadline_at__gt=now, next_deadline_at__lte=now + within)
           .exclude(status__in=Ticket.FINAL).values_list("pk", "next_deadline_kind", "next_deadline_at"))
    written = 0
    for ticket_id, deadline, due_at in list(due):
        key = f"deadline:{ticket_id}:{deadline}:{due_at.timestamp():.0f}"
        if Event.objects.filter(dedupe_key=key).exists():
            continue
        ticket = _buyer_view_by_id(ticket_id)
        data = {"ticket": dict(BuyerTicket(ticket).data), "deadline": str(deadline), "due_at": _iso(due_at)}
        try:
            with transaction.atomic():
                Event.objects.create(type="deadline.warning", shop_id=ticket.shop_id, ticket=ticket,
                                     ticket_no=ticket.ticket_no, occurred_at=now, data=data, dedupe_key=key)
                wake_on_commit()
        except IntegrityError:  # another sweep wrote it meanwhile: one warning is enough
            continue
        written += 1
    return written


# ----------------------------------------------------------------------------------------- sequencing


def sequence(*, limit: int = SEQUENCE_BATCH) -> set[int]:
    """Give the committed events without a position their positions, in one transaction under the
    sequencer's lock, and queue their deliveries. Returns the endpoints that got new deliveries."""
    now = clock.now()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEQUENCER_LOCK])
        cursor.execute(
            "UPDATE events_event SET position = s.base + s.rn, sequenced_at = %s "
            "FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn, "
            "             (SELECT COALESCE(MAX(position), 0) FROM events_event) AS base "
            "      FROM events_event WHERE position IS NULL ORDER BY id LIMIT %s) AS s "
            "WHERE events_event.id = s.id "
            "RETURNING events_event.id, events_event.position, events_event.shop_id, events_event.ticket_id, "
            "          events_event.type",
            [now, limit])
        numbered = cursor.fetchall()
        if not numbered:
            return set()
        return _fan_out(numbered, now=now)


def _fan_out(numbered, *, now: datetime) -> set[int]:
    shops = {shop_id for _id, _position, shop_id, _ticket, _type in numbered}
    endpoints: dict[int, list[Endpoint]] = {}
    for endpoint in Endpoint.objects.filter(shop_id__in=shops, active=True, disabled_at__isnull=True):
        endpoints.setdefault(endpoint.shop_id, []).append(endpoint)
    queued = [Delivery(endpoint=endpoint, event_id=event_id, position=position, ticket_id=ticket_id,
                       next_attempt_at=now, created_at=now)
              for event_id, position, shop_id, ticket_id, kind in numbered
              for endpoint in endpoints.get(shop_id, ()) if endpoint.wants(kind)]
    Delivery.objects.bulk_create(queued, ignore_conflicts=True, batch_size=1000)
    return {delivery.endpoint_id for delivery in queued}


# ------------------------------------------------------------------------------------------- waking


def wake_on_commit() -> None:
    """After this transaction commits: sequence what it wrote and start its deliveries (events.tasks)."""
    # Imported here, not at the top: events.tasks imports this module.
    from events import tasks

    # Once per transaction: its one wake-up sequences all its events (a refund paid writes two). A wake-up
    # registered in a savepoint that rolls back goes with it, and so do the events written inside it.
    if any(entry[1] is tasks.wake for entry in connection.run_on_commit):
        return
    transaction.on_commit(tasks.wake)
