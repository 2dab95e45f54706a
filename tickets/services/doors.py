"""The doors other parts knock on. Refunds (money) and warehouse (goods) sit downstream of tickets: they
decide when money moved or goods arrived, and tell the ticket here, inside their own transaction. Each
door locks the ticket, checks the machine allows the move, fires it and writes the timeline row; none
checks roles (the calling service does: it is the business action)."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from aftersales import clock
from aftersales.errors import FieldInvalid, FieldRequired, InvalidTransition
from aftersales.inputs import clean_text, line_quantities
from aftersales.money import ZERO
from aftersales.vocabulary import InspectionRejection
from policies import services as policies
from tickets import payloads
from tickets.machine import check_can, lock_ticket, move, read_ticket, record_event, save_status
from tickets.models import EventKind, Ticket, TicketLine, Upload
from tickets.services.amounts import line_amounts
from tickets.services.duties import Duty, check_duty

# --------------------------------------------------------------------------------------------- goods


@dataclass(frozen=True)
class GoodsLine:
    """Units of one claimed line the warehouse handled (``accepted``: None for goods going out; for goods
    refused at inspection, why, from the short list, and the clerk's words)."""

    ticket_line: TicketLine
    quantity: int
    accepted: bool | None = None
    reject_reason: str = ""
    note: str = ""


@dataclass(frozen=True)
class GoodsReceipt:
    ticket: Ticket
    lines: list[GoodsLine]
    note: str
    at: datetime
    photos: list[Upload] = field(default_factory=list)


@dataclass(frozen=True)
class Dispatch:
    ticket: Ticket
    lines: list[GoodsLine]
    courier: str
    tracking_no: str
    at: datetime


def claimed_lines(ticket: Ticket, lines, *, with_accepted: bool) -> list[GoodsLine]:
    """The ``lines`` sent, each a line of this ticket, at most its claimed quantity. A receipt
    (``with_accepted``) may name a line several times (some units passed, some refused, each refusal with
    its reason): together at most what was claimed, the entry that goes over named."""
    claimed = {tl.order_line.line_id: tl for tl in ticket.lines.select_related("order_line")}
    counted: dict[str, int] = {}
    out = []
    for line in line_quantities(lines, with_accepted=with_accepted, once_per_line=not with_accepted):
        ticket_line = claimed.get(line.order_line_id)
        if ticket_line is None:
            raise FieldInvalid(_("Not a line of this ticket."), field=f"lines.{line.index}.order_line_id")
        counted[line.order_line_id] = counted.get(line.order_line_id, 0) + line.quantity
        if counted[line.order_line_id] > ticket_line.quantity:
            if with_accepted:  # a receipt: the clerk counted more than the buyer claimed
                raise FieldInvalid(_("More than was claimed: the buyer claimed %(maximum)s of this line.") % {
                    "maximum": ticket_line.quantity}, field=f"lines.{line.index}.quantity")
            raise FieldInvalid(_("A whole number from %(minimum)s to %(maximum)s.") % {
                "minimum": 1, "maximum": ticket_line.quantity}, field=f"lines.{line.index}.quantity")
        out.append(GoodsLine(ticket_line, line.quantity, line.accepted))
    return out


def _inspected(received: list[GoodsLine], lines) -> list[GoodsLine]:
    """Each refused entry with its reason (from the short list, required) and the clerk's note; entries of
    the same line with the same result and reason are one (their units added, their notes joined), so the
    inspection has one entry per (line, accepted, reason)."""
    merged: dict[tuple[int, bool, str], GoodsLine] = {}
    for index, line in enumerate(received):
        raw = lines[index] if isinstance(lines[index], dict) else {}
        reason = raw.get("reject_reason") or ""
        note = clean_text(raw.get("note"), field=f"lines.{index}.note", required=False, limit=500)
        if line.accepted:
            reason = ""
        elif reason not in InspectionRejection.values:
            raise FieldRequired(_("Say why the goods were refused."), field=f"lines.{index}.reject_reason")
        key = (line.ticket_line.pk, bool(line.accepted), reason)
        if key in merged:
            first = merged[key]
            note = "; ".join(text for text in (first.note, note) if text)
            if len(note) > 500:
                raise FieldInvalid(_("At most %(limit)s characters.") % {"limit": 500}, field=f"lines.{index}.note")
            line = GoodsLine(line.ticket_line, first.quantity + line.quantity, line.accepted)
        merged[key] = GoodsLine(line.ticket_line, line.quantity, line.accepted, reason, note)
    return list(merged.values())


def _inspection_photos(photo_ids, actor) -> list[Upload]:
    """Photos the clerk uploaded (checked as the buyer's are: tickets.uploads), attached to no claim."""
    if not photo_ids:
        return []
    if not isinstance(photo_ids, list | tuple) or len(photo_ids) > MAX_INSPECTION_PHOTOS or not all(
            isinstance(pk, int) and not isinstance(pk, bool) for pk in photo_ids):
        raise FieldInvalid(_("At most %(count)s photos.") % {"count": MAX_INSPECTION_PHOTOS}, field="photo_ids")
    photos = list(Upload.objects.filter(pk__in=photo_ids, owner=actor, ticket__isnull=True).order_by("pk"))
    if len(photos) != len(set(photo_ids)):
        raise FieldInvalid(_("Not a photo you uploaded."), field="photo_ids")
    return photos


def _accepted_refund(ticket: Ticket, received: list[GoodsLine]) -> dict[str, Decimal]:
    """The refund for what passed inspection (SPEC §5: quantity × the line's paid unit amount), by the
    ticket's own amount rules. The ticket's lines keep what was claimed (they count against the order)."""
    accepted: dict[int, int] = {}
    for line in received:
        if line.accepted:
            accepted[line.ticket_line.pk] = accepted.get(line.ticket_line.pk, 0) + line.quantity
    requested = [(tl.order_line, accepted[tl.pk]) for tl in ticket.lines.select_related("order_line")
                 if accepted.get(tl.pk)]
    goods = sum(line_amounts(ticket.order, requested, exclude_ticket_id=ticket.pk), ZERO) if requested else ZERO
    shipping = ticket.shipping_refund if goods > 0 else ZERO
    fee = min(ticket.service_fee, goods + shipping)
    return {"goods_amount": goods, "shipping_refund": shipping, "service_fee": fee,
            "refund_amount": goods + shipping - fee,
            "coupon_refund": ticket.coupon_refund if goods > 0 else ZERO,
            "virtual_currency_refund": ticket.virtual_currency_refund if goods > 0 else ZERO}


MAX_INSPECTION_PHOTOS = 12


@transaction.atomic
def record_goods_received(*, ticket_id: int, actor, lines, note: str = "", photo_ids=()) -> GoodsReceipt:
    """The goods came back and were inspected. Everything claimed arrived and passed: the ticket moves
    on (return: awaiting refund; exchange: awaiting exchange). Anything missing or rejected: back to
    ops review with the inspection in the timeline, and a return's refund recomputed for the goods that
    passed (ops approves that, or less, again). Each entry: ``{"order_line_id", "quantity", "accepted",
    "reject_reason", "note"}``; a line may have several (2 cups: 1 passed, 1 refused "damaged by the
    buyer"), together at most what was claimed; more is refused, naming the entry."""
    ticket = lock_ticket(ticket_id)
    check_can(ticket, EventKind.RECEIVE_GOODS)
    check_duty(ticket, actor, Duty.GOODS)
    received = _inspected(claimed_lines(ticket, lines, with_accepted=True), lines)
    note = clean_text(note, field="note", required=False, limit=1000)
    photos = _inspection_photos(photo_ids, actor)
    all_accepted = (all(line.accepted for line in received)
                    and {line.ticket_line.pk for line in received} == {tl.pk for tl in ticket.lines.all()}
                    and all(line.quantity == line.ticket_line.quantity for line in received))  # one per line
    now = clock.now()
    changes = payloads.inspection(
        payloads.LineInspection(line.ticket_line.order_line.line_id, line.quantity, line.accepted,
                                line.reject_reason, line.note) for line in received)
    fields = []
    if not all_accepted and ticket.traits.money_moves and not ticket.is_compensation:
        recomputed = _accepted_refund(ticket, received)
        if recomputed["refund_amount"] != ticket.refund_amount:
            changes |= payloads.refund_amount(ticket.refund_amount, recomputed["refund_amount"])
        for name, value in recomputed.items():
            setattr(ticket, name, value)
        fields = list(recomputed)
    if photos:
        changes |= payloads.photos(photo.pk for photo in photos)
    before = move(ticket, EventKind.RECEIVE_GOODS, all_accepted=all_accepted)
    ticket.goods_received_at, ticket.inspection_passed = now, all_accepted
    save_status(ticket, "goods_received_at", "inspection_passed", *fields)
    record_event(ticket, EventKind.RECEIVE_GOODS, actor=actor, before=before, reason=note, changes=changes)
    return GoodsReceipt(ticket, received, note, now, photos)


# ----------------------------------------------------------------------------------------- intercepts


@transaction.atomic
def record_intercept_outcome(*, ticket_id: int, actor, held: bool, note: str = "") -> Ticket:
    """The warehouse tried to hold the shipment of a refund-only claim on an unshipped order [001].

    Held: an internal timeline row, nothing else changes. Too late (already shipped): the goods are on
    their way to the buyer. If no money has moved yet (ops approved, finance has not paid) the ticket goes
    back to ops review; if the refund is already under way or paid (the system approves small claims
    before shipment and pays at once) the ticket stays where it is, flagged "intercept too late" for ops
    to recover the goods or the money with the buyer. Either way a timeline row says so."""
    ticket = lock_ticket(ticket_id)
    if not ticket.intercept_requested:
        raise InvalidTransition(_("No hold of the shipment was asked for this ticket."))
    check_duty(ticket, actor, Duty.GOODS)
    note = clean_text(note, field="note", required=not held, limit=1000)
    if held:
        record_event(ticket, EventKind.INTERCEPT_HELD, actor=actor, before=ticket.status, reason=note,
                     buyer_visible=False)
        return ticket
    ticket.intercept_failed_at = clock.now()
    if can_proceed(ticket.intercept_failed):
        before = move(ticket, EventKind.INTERCEPT_FAILED)
        save_status(ticket, "intercept_failed_at")
    else:
        before = ticket.status
        ticket.save(update_fields=["intercept_failed_at", "updated_at"])
    record_event(ticket, EventKind.INTERCEPT_FAILED, actor=actor, before=before, reason=note, buyer_visible=False)
    return ticket


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
    check_duty(ticket, actor, Duty.GOODS)
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


def hold_ticket(*, ticket_id: int) -> Ticket:
    """Lock the ticket's order, then the ticket, for a part downstream that locks rows of its own after
    them (refunds: order, then ticket, then refund; docs/design.md "Money per order"). In the caller's
    transaction; the doors it calls next find the locks already held."""
    return lock_ticket(ticket_id)


def check_finance_approval(*, ticket_id: int, actor) -> Ticket:
    """The ticket, if ``actor`` may approve its refund now (for a confirmation step); changes nothing."""
    ticket = read_ticket(ticket_id)
    check_can(ticket, EventKind.FINANCE_APPROVE)
    check_duty(ticket, actor, Duty.PAY)
    return ticket


@transaction.atomic
def record_finance_approval(*, ticket_id: int, actor, reason: str = "") -> Ticket:
    """Finance approved the refund (or, with no actor, the system paid a late refund [003]): the money is
    on its way. A second approval while a refund is under way (double click, two users) is refused by the
    machine (409)."""
    ticket = lock_ticket(ticket_id)
    check_can(ticket, EventKind.FINANCE_APPROVE)
    check_duty(ticket, actor, Duty.PAY)
    before = move(ticket, EventKind.FINANCE_APPROVE)
    ticket.refund_requested_at = clock.now()
    save_status(ticket, "refund_requested_at")
    record_event(ticket, EventKind.FINANCE_APPROVE, actor=actor, before=before, reason=reason,
                 changes=payloads.refund_amount(None, ticket.refund_amount))
    return ticket


@transaction.atomic
def record_finance_send_back(*, ticket_id: int, actor, reason: str) -> Ticket:
    """Finance sends the ticket back to ops review with a reason ops sees (the buyer does not)."""
    ticket = lock_ticket(ticket_id)
    check_can(ticket, EventKind.FINANCE_REJECT)
    check_duty(ticket, actor, Duty.SEND_BACK)
    reason = clean_text(reason, field="reason", required=True)
    before = move(ticket, EventKind.FINANCE_REJECT)
    ticket.finance_rejection_reason = reason
    save_status(ticket, "finance_rejection_reason")
    record_event(ticket, EventKind.FINANCE_REJECT, actor=actor, before=before, reason=reason, buyer_visible=False)
    return ticket


@transaction.atomic
def record_refund_succeeded(*, ticket_id: int, amount: Decimal, reference: str, actor=None, note: str = "") -> Ticket:
    """The money reached the buyer: the ticket is done. Paid by the gateway (the system), or by a finance
    user outside it (``actor``, with why in ``note``)."""
    ticket = lock_ticket(ticket_id)
    check_duty(ticket, actor, Duty.PAY)  # a payment by hand; the gateway (no actor) holds no duty
    before = move(ticket, EventKind.REFUND_SUCCEEDED)
    ticket.finished_at = clock.now()
    save_status(ticket, "finished_at")
    record_event(ticket, EventKind.REFUND_SUCCEEDED, actor=actor, before=before, reason=note,
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
