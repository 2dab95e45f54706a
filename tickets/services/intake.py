"""Claim intake: a buyer's claim checked and recorded in one transaction (SPEC §3, §5, §6)."""

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop  # stored in English, shown translated

from aftersales import clock
from aftersales.errors import (
    DomainError,
    FieldInvalid,
    FieldRequired,
    NotAllowed,
    NotFound,
    QuantityAboveClaimable,
)
from aftersales.inputs import clean_text, line_quantities
from aftersales.money import ZERO, money
from aftersales.vocabulary import TicketType, traits
from orders.models import Buyer, Order, OrderLine
from policies import services as policies
from reasons.selectors import offered_reason
from tickets import payloads, rules
from tickets.machine import move, record_event, save_status, set_due
from tickets.models import EventKind, Ticket, TicketLine, Upload
from tickets.selectors import claimed_by_line, prime_detail, refunded_extras
from tickets.services.amounts import claims_whole_order, line_amounts

MAX_TEXT = 2000


@transaction.atomic
def submit_ticket(*, actor, order_no: str, type: str, reason_id, description: str = "",
                  lines: list[dict], photo_ids=()) -> Ticket:
    """A buyer's claim. Checks ownership, reason, windows (SPEC §6), claimable quantities and photos;
    any refusal raises a domain error naming the field and creates nothing. A refund-only claim on an
    unshipped order within policy is approved with no staff step, and its refund recorded [001]."""
    now, policy = clock.now(), policies.current()
    try:
        wanted, lines_error = line_quantities(lines), None
    except DomainError as exc:  # reported only after the order, type, reason and description
        wanted, lines_error = [], exc
    # The order is locked first (the house's lock order: order, then ticket, then refund): two claims on
    # one order queue here, so each counts what the other claimed (units, and whether together they take
    # the whole order and its shipping). Its lock guards its lines: every writer of a line holds it.
    claimed_lines = _lock_order_read_lines(order_no, actor, [w.order_line_id for w in wanted])
    order = claimed_lines[0].order if claimed_lines else _lock_order(order_no, actor)
    if order is None:
        _buyer_of(actor)  # a caller who is no buyer at all is refused as such
        raise NotFound(_("No such order."), field="order_no")
    buyer = order.buyer
    if type not in TicketType.values:
        raise FieldInvalid(_("One of %(choices)s.") % {"choices": ", ".join(TicketType.values)}, field="type")
    reason = offered_reason(reason_id)
    if reason is None:
        raise FieldInvalid(_("No such reason."), field="reason_id")
    description = clean_text(description, field="description", required=False, limit=MAX_TEXT)
    if lines_error is not None:
        raise lines_error
    by_id = {line.line_id: line for line in claimed_lines}
    requested = []
    for w in wanted:
        if w.order_line_id not in by_id:
            raise FieldInvalid(_("No such line on this order."), field=f"lines.{w.index}.order_line_id")
        by_id[w.order_line_id].order = order
        requested.append((by_id[w.order_line_id], w.quantity))
    categories = {line.category for line, _ in requested}
    rules.check_claim(order=order, categories=categories, ticket_type=type, reason=reason, now=now,
                      policies=policy)

    claimed = claimed_by_line([line.pk for line, _ in requested])
    for i, (line, units) in enumerate(requested):
        claimable = line.quantity - claimed.get(line.pk, (0, ZERO))[0]
        if units > claimable:
            raise QuantityAboveClaimable(_("At most %(count)s of %(product)s can still be claimed.") % {
                "count": claimable, "product": line.product_name}, field=f"lines.{i}.quantity")
    photos = _claimable_photos(actor, photo_ids, policy.count("max_photos"),
                               required=rules.photos_required(order=order, categories=categories,
                                                              ticket_type=type, reason=reason))

    amounts = line_amounts(order, requested, claimed=claimed)  # the lines are locked: same figures
    goods = sum(amounts, ZERO)
    shipping = ZERO
    if order.status == Order.Status.UNSHIPPED and claims_whole_order(order, requested):
        # Whole order refunded before shipment: shipping goes back too; coupons and points do not [001].
        shipping = max(money(order.shipping_fee) - refunded_extras(order.pk)["shipping"], ZERO)
    ticket_id = next_ticket_id()  # known before the insert, so the number is written with the row
    ticket = Ticket(
        id=ticket_id, order=order, buyer=buyer, shop_id=order.shop_id, type=type, reason=reason,
        description=description, goods_amount=goods, shipping_refund=shipping,
        refund_amount=goods + shipping if traits(type).money_moves else ZERO,
        intercept_requested=order.status == Order.Status.UNSHIPPED, created_at=now, review_started_at=now)
    set_due(ticket)  # before the insert: the due time goes in with the row
    if ticket_id is not None:
        ticket.ticket_no = ticket_number(ticket_id, now)
        ticket.save(force_insert=True)
    else:  # no sequence to draw from (SQLite): the number follows the insert
        ticket.save(force_insert=True)
        ticket.ticket_no = ticket_number(ticket.pk, now)
        ticket.save(update_fields=["ticket_no"])
    ticket_lines = TicketLine.objects.bulk_create([
        TicketLine(ticket=ticket, order_line=line, quantity=units, refund_amount=amount)
        for (line, units), amount in zip(requested, amounts, strict=True)])
    if photos:
        Upload.objects.filter(pk__in=[p.pk for p in photos]).update(ticket=ticket)
    events = [record_event(ticket, EventKind.SUBMIT, actor=actor, before="", changes={
        "lines": [[line.line_id, units, str(amount)] for (line, units), amount in zip(requested, amounts, strict=True)],
        **payloads.refund_amount(None, ticket.refund_amount),
    })]
    if ticket.intercept_requested:
        record_event(ticket, EventKind.INTERCEPT_REQUESTED, actor=None, before=ticket.status, buyer_visible=False,
                     reason=gettext_noop("Order not shipped yet: the warehouse is told to hold the shipment."))
    auto_approved = (traits(type).claimable_before_shipment and order.status == Order.Status.UNSHIPPED
                     and ticket.refund_amount <= policy["auto_approve_max_amount"])
    if auto_approved:
        events.append(_auto_approve(ticket))
    # What the caller shows next (the 201 body) is all here already: no need to read it back. An
    # auto-approved claim's refund was recorded by the refunds part (a subscriber to AUTO_APPROVE):
    # the body reads it.
    return prime_detail(ticket, lines=ticket_lines, photos=photos, public_events=events,
                        refunds=None if auto_approved else ())


def _auto_approve(ticket: Ticket):
    """Approved by the system; the money is on its way. The refund itself is recorded, in this same
    transaction, by whoever subscribes to AUTO_APPROVE (refunds: docs/design.md)."""
    before = move(ticket, EventKind.AUTO_APPROVE)
    ticket.approved_at = ticket.reviewed_at = ticket.refund_requested_at = clock.now()
    save_status(ticket, "approved_at", "reviewed_at", "refund_requested_at")
    return record_event(ticket, EventKind.AUTO_APPROVE, actor=None, before=before,
                        reason=gettext_noop("Refund only before shipment: approved by the system."),
                        changes=payloads.refund_amount(None, ticket.refund_amount))


def _buyer_of(actor) -> Buyer:
    buyer = Buyer.objects.filter(user=actor).first() if actor is not None and actor.is_authenticated else None
    if buyer is None:
        raise NotAllowed(_("Only buyers submit and follow claims."))
    return buyer


def _lock_order(order_no: str, actor) -> Order | None:
    """The caller's order, with its buyer, locked for the rest of the claim; None when there is none."""
    if actor is None or not actor.is_authenticated:
        return None
    return (Order.objects.select_for_update(of=("self",)).select_related("buyer")
            .filter(order_no=order_no, buyer__user=actor).first())


def _lock_order_read_lines(order_no: str, actor, line_ids: list[str]) -> list[OrderLine]:
    """The caller's order's lines named ``line_ids``, with the order (locked: FOR UPDATE OF the order alone)
    and its buyer, in one statement; [] when the caller has no such order, or it has none of these lines."""
    if not line_ids or actor is None or not actor.is_authenticated:
        return []
    return list(OrderLine.objects.select_for_update(of=("order",)).select_related("order__buyer").filter(
        order__order_no=order_no, order__buyer__user=actor, line_id__in=line_ids).order_by("pk"))


def next_ticket_id() -> int | None:
    """A ticket id drawn from the table's sequence before the insert (PostgreSQL), else None."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Ticket._meta.db_table])
        return cursor.fetchone()[0]


def ticket_number(ticket_id: int, at) -> str:
    """AS + the local date + the id: unique (ids are never reused) and readable on the phone."""
    return f"AS{timezone.localtime(at).strftime('%Y%m%d')}{ticket_id:06d}"


def _claimable_photos(actor, photo_ids, limit: int, *, required: bool) -> list[Upload]:
    if photo_ids is None:
        photo_ids = []
    if not isinstance(photo_ids, (list, tuple)) or not all(isinstance(p, int) and not isinstance(p, bool)
                                                           for p in photo_ids):
        raise FieldInvalid(_("A list of upload ids."), field="photo_ids")
    if len(set(photo_ids)) != len(photo_ids):
        raise FieldInvalid(_("Each photo once."), field="photo_ids")
    if len(photo_ids) > limit:
        raise FieldInvalid(_("At most %(limit)s photos per claim.") % {"limit": limit}, field="photo_ids")
    if required and not photo_ids:
        raise FieldRequired(_("Photos are required for this claim (the damaged goods and the waybill)."),
                            field="photo_ids")
    if not photo_ids:
        return []  # what the query below gives for no ids, without building it
    photos = list(Upload.objects.select_for_update().filter(pk__in=photo_ids, owner=actor, ticket__isnull=True))
    if len(photos) != len(photo_ids):
        raise FieldInvalid(_("Unknown upload, or one already attached to a claim."), field="photo_ids")
    return photos
