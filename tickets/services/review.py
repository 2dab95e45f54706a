"""Ops review (SPEC §4, §5, §9): approve, reject, settle with compensation, re-ship parts, and staff notes."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.utils.translation import gettext as _
from django_fsm import can_proceed

from aftersales import clock
from aftersales.errors import AmountAboveMaximum, FieldInvalid, InvalidTransition
from aftersales.inputs import clean_text
from aftersales.money import ZERO, parse_amount
from aftersales.roles import FINANCE, OPS, WAREHOUSE, in_group, require_role
from aftersales.transactions import atomic_retrying
from policies import services as policies
from tickets import payloads
from tickets.machine import check_can, lock_ticket, mark_replied, move, read_ticket, record_event, save_status
from tickets.models import EventKind, Note, Ticket
from tickets.services.amounts import compensation_cap, extras_available
from tickets.services.doors import GoodsLine, claimed_lines
from tickets.services.duties import Duty, check_duty

MAX_TEXT = 2000


class Decision(StrEnum):
    """What ops may decide on a claim in review (the review page's own actions, the API's staff actions)."""

    APPROVE = "approve"
    REJECT = "reject"
    COMPENSATE = "compensate"
    RESHIP = "reship"
    RETENTION = "retention"


def goods_are_back(ticket: Ticket) -> bool:
    """The claimed goods are in the warehouse already (received, perhaps refused at inspection)."""
    return ticket.goods_received_at is not None


def goods_still_to_come_back(ticket: Ticket) -> bool:
    """An approval asks the buyer to send the goods back: the type brings them back, they are not back yet,
    and the claim was not settled with compensation (the buyer keeps them)."""
    return ticket.goods_come_back and not goods_are_back(ticket) and not ticket.is_compensation


def open_decisions(ticket: Ticket) -> frozenset[Decision]:
    """What fits the ticket now, as the review page offers it: what the state machine allows from its state
    (the services refuse the rest), narrowed by what its type means and where its goods are:

    - approve and reject: whenever the machine allows them (a claim in review);
    - compensate: in review (the buyer keeps the goods; after a refused inspection a settlement is still
      possible);
    - re-ship parts: in review while the buyer has the goods; once they are back in the warehouse there is
      nothing to complete (the machine still takes it, for an integration that knows better);
    - retention: in review, for a type whose goods come back, before they are back (the service refuses the
      rest: there is no sale left to keep once the goods are in the warehouse).

    Reads only the ticket's own row: no query."""
    fits = set()
    if can_proceed(ticket.approve):
        fits.add(Decision.APPROVE)
    if can_proceed(ticket.reject):
        fits.add(Decision.REJECT)
    if can_proceed(ticket.compensate):
        fits.add(Decision.COMPENSATE)
    if can_proceed(ticket.reship) and not goods_are_back(ticket):
        fits.add(Decision.RESHIP)
    if retention_fits(ticket):
        fits.add(Decision.RETENTION)
    return frozenset(fits)


def retention_fits(ticket: Ticket) -> bool:
    return ticket.status == Ticket.Status.PENDING_REVIEW and ticket.goods_come_back and not goods_are_back(ticket)


@dataclass(frozen=True)
class ApprovalAsks:
    """Which of an approval's terms apply to a ticket, so a form asks only those: the amount (and the fee's
    reason) where money moves, each extra (shipping, coupon, points) that could still go back, and the return
    desk (address, contact, phone) where the buyer is asked to send the goods back."""

    amount: bool
    extras: frozenset[str]
    return_desk: bool


def approval_asks(ticket: Ticket) -> ApprovalAsks:
    settled = ticket.is_compensation
    money = ticket.traits.money_moves or settled
    extras = frozenset()
    if ticket.traits.money_moves and not settled:
        extras = frozenset(name for name, amount in extras_available(ticket).items() if amount > 0)
    return ApprovalAsks(amount=money, extras=extras, return_desk=goods_still_to_come_back(ticket))


@dataclass(frozen=True)
class ApprovalTerms:
    """What an approval gives: the cash refund and its parts, the extras back in kind, where the goods go."""

    maximum: Decimal
    refund_amount: Decimal
    service_fee: Decimal
    fee_reason: str
    shipping: Decimal
    coupon: Decimal
    virtual_currency: Decimal
    goods_back: bool
    return_address: str
    return_contact: str
    return_phone: str


def _approval_terms(ticket: Ticket, *, refund_amount, fee_reason, refund_shipping, refund_coupon,
                    refund_virtual_currency, return_address, return_contact, return_phone) -> ApprovalTerms:
    """The amount defaults to the computed maximum; lower needs a reason (the service fee); higher is
    refused. Goods-back tickets need a return address (the shop's by default)."""
    order = ticket.order
    extras = extras_available(ticket)
    shipping = _choose(refund_shipping, ticket.shipping_refund > 0, extras["shipping"])
    coupon = _choose(refund_coupon, ticket.coupon_refund > 0, extras["coupon"])
    vc = _choose(refund_virtual_currency, ticket.virtual_currency_refund > 0, extras["virtual_currency"])
    if not ticket.traits.money_moves:
        shipping = coupon = vc = ZERO
        maximum = ZERO
    elif ticket.is_compensation:
        maximum = ticket.refund_amount + ticket.service_fee
        shipping = coupon = vc = ZERO
    else:
        # Cash goes back for goods and shipping; a coupon or points go back in kind, beside it, so the
        # cash refunded never exceeds what the buyer paid.
        maximum = ticket.goods_amount + shipping
    amount = maximum if refund_amount is None else parse_amount(refund_amount, field="refund_amount")
    if amount > maximum:
        raise AmountAboveMaximum(_("At most %(maximum)s.") % {"maximum": maximum}, field="refund_amount")
    fee_reason = clean_text(fee_reason, field="fee_reason", required=amount < maximum)
    goods_back = goods_still_to_come_back(ticket)
    # What ops gave, else what the ticket has, else the shop's return desk.
    address = clean_text(_given_or(return_address, ticket.return_address, order.shop.return_address),
                         field="return_address", required=goods_back)
    contact = clean_text(_given_or(return_contact, ticket.return_contact, order.shop.return_contact),
                         field="return_contact", required=False, limit=100)
    phone = clean_text(_given_or(return_phone, ticket.return_phone, order.shop.return_phone),
                       field="return_phone", required=False, limit=40)
    return ApprovalTerms(maximum, amount, maximum - amount, fee_reason, shipping, coupon, vc, goods_back,
                         address, contact, phone)


def preview_approval(*, ticket_id: int, actor, **choices) -> ApprovalTerms:
    """What `approve_ticket` with these choices would do, changing nothing: the confirmation step shows it.
    Refuses what approve_ticket would refuse."""
    require_role(actor, OPS)
    ticket = read_ticket(ticket_id)
    check_can(ticket, EventKind.APPROVE)
    check_duty(ticket, actor, Duty.REVIEW)
    return _approval_terms(ticket, **_approval_choices(choices))


def _approval_choices(choices: dict) -> dict:
    keys = ("refund_amount", "fee_reason", "refund_shipping", "refund_coupon", "refund_virtual_currency",
            "return_address", "return_contact", "return_phone")
    return {key: choices.get(key, "" if key == "fee_reason" else None) for key in keys}


@atomic_retrying
def approve_ticket(*, ticket_id: int, actor, refund_amount: Decimal | None = None, fee_reason: str = "",
                   refund_shipping: bool | None = None, refund_coupon: bool | None = None,
                   refund_virtual_currency: bool | None = None, return_address: str | None = None,
                   return_contact: str | None = None, return_phone: str | None = None) -> Ticket:
    """Ops approves on the terms of `_approval_terms`. Goods-back tickets get a deadline to send the goods."""
    require_role(actor, OPS)
    ticket = lock_ticket(ticket_id)
    check_can(ticket, EventKind.APPROVE)
    check_duty(ticket, actor, Duty.REVIEW)
    terms = _approval_terms(
        ticket, refund_amount=refund_amount, fee_reason=fee_reason, refund_shipping=refund_shipping,
        refund_coupon=refund_coupon, refund_virtual_currency=refund_virtual_currency,
        return_address=return_address, return_contact=return_contact, return_phone=return_phone)

    old = {"refund_amount": ticket.refund_amount, "service_fee": str(ticket.service_fee)}
    before = move(ticket, EventKind.APPROVE)
    now = clock.now()
    ticket.shipping_refund, ticket.coupon_refund = terms.shipping, terms.coupon
    ticket.virtual_currency_refund = terms.virtual_currency
    ticket.refund_amount, ticket.service_fee, ticket.fee_reason = terms.refund_amount, terms.service_fee, terms.fee_reason
    ticket.return_address, ticket.return_contact = terms.return_address, terms.return_contact
    ticket.return_phone = terms.return_phone
    ticket.approved_at = ticket.reviewed_at = now
    ticket.reviewer, ticket.finance_rejection_reason = actor, ""
    if ticket.status == Ticket.Status.AWAITING_RETURN:
        ticket.return_deadline = now + policies.current().days("return_ship_days")
    mark_replied(ticket)
    save_status(ticket, "shipping_refund", "coupon_refund", "virtual_currency_refund", "refund_amount", "service_fee",
                "fee_reason", "return_address", "return_contact", "return_phone", "approved_at", "reviewed_at",
                "reviewer", "finance_rejection_reason", "return_deadline")
    record_event(ticket, EventKind.APPROVE, actor=actor, before=before, reason=terms.fee_reason, changes={
        **payloads.refund_amount(old["refund_amount"], terms.refund_amount),
        "service_fee": [old["service_fee"], str(ticket.service_fee)],
        "shipping_refund": [None, str(terms.shipping)], "coupon_refund": [None, str(terms.coupon)],
        "virtual_currency_refund": [None, str(terms.virtual_currency)],
        **({"return_address": [None, terms.return_address]} if ticket.status == Ticket.Status.AWAITING_RETURN else {}),
    })
    return ticket


def _given_or(given, *fallbacks):
    return given if given is not None else next((value for value in fallbacks if value), "")


def _choose(flag: bool | None, default_on: bool, available: Decimal) -> Decimal:
    on = default_on if flag is None else flag
    return available if on else ZERO


@atomic_retrying
def reject_ticket(*, ticket_id: int, actor, reason: str) -> Ticket:
    """Ops rejects; the reason is required and the buyer sees it."""
    require_role(actor, OPS)
    ticket = lock_ticket(ticket_id)
    check_can(ticket, EventKind.REJECT)
    check_duty(ticket, actor, Duty.REVIEW)
    reason = clean_text(reason, field="reason", required=True)
    before = move(ticket, EventKind.REJECT)
    ticket.rejection_reason, ticket.reviewed_at, ticket.reviewer = reason, clock.now(), actor
    ticket.finished_at = ticket.reviewed_at
    mark_replied(ticket)
    save_status(ticket, "rejection_reason", "reviewed_at", "reviewer", "finished_at")
    record_event(ticket, EventKind.REJECT, actor=actor, before=before, reason=reason)
    return ticket


def _compensation_terms(ticket: Ticket, *, amount, note: str, field: str = "amount") -> tuple[Decimal, str]:
    amount = parse_amount(amount, field=field)
    note = clean_text(note, field="note", required=True, limit=MAX_TEXT)
    cap = compensation_cap(ticket)
    if amount > cap:
        raise AmountAboveMaximum(_("Compensation is at most %(cap)s for these goods.") % {"cap": cap}, field=field)
    if amount <= 0:
        raise FieldInvalid(_("Compensation is more than 0."), field=field)
    return amount, note


def preview_compensation(*, ticket_id: int, actor, amount, note: str) -> Decimal:
    """The amount `compensate_ticket` would refund, changing nothing; refuses what it would refuse."""
    require_role(actor, OPS)
    ticket = read_ticket(ticket_id)
    check_can(ticket, EventKind.COMPENSATE)
    check_duty(ticket, actor, Duty.REVIEW)
    return _compensation_terms(ticket, amount=amount, note=note)[0]


@atomic_retrying
def compensate_ticket(*, ticket_id: int, actor, amount, note: str) -> Ticket:
    """Settle a pending claim with a partial refund; the buyer keeps the goods [004]. For items paid
    under the policy threshold the amount is capped at a share of what was paid (20% of 218 → 43.60)."""
    require_role(actor, OPS)
    ticket = lock_ticket(ticket_id)
    check_can(ticket, EventKind.COMPENSATE)
    check_duty(ticket, actor, Duty.REVIEW)
    amount, note = _compensation_terms(ticket, amount=amount, note=note)
    _settle_with_compensation(ticket, actor=actor, amount=amount, note=note)
    return ticket


def _settle_with_compensation(ticket: Ticket, *, actor, amount: Decimal, note: str) -> None:
    before = move(ticket, EventKind.COMPENSATE)
    now = clock.now()
    old = ticket.refund_amount
    ticket.is_compensation = True
    ticket.shipping_refund = ticket.coupon_refund = ticket.virtual_currency_refund = ZERO
    ticket.refund_amount, ticket.service_fee = amount, ZERO
    ticket.approved_at = ticket.reviewed_at = now
    ticket.reviewer = actor
    mark_replied(ticket)
    save_status(ticket, "is_compensation", "shipping_refund", "coupon_refund", "virtual_currency_refund",
                "refund_amount", "service_fee", "approved_at", "reviewed_at", "reviewer")
    Note.objects.create(ticket=ticket, author=actor, text=note, created_at=now)
    record_event(ticket, EventKind.COMPENSATE, actor=actor, before=before, reason=note,
                 changes=payloads.refund_amount(old, amount))


@dataclass(frozen=True)
class ReshipTerms:
    parts: list[GoodsLine]
    note: str
    compensation: Decimal | None


def _reship_terms(ticket: Ticket, *, actor, lines, note: str, compensation) -> ReshipTerms:
    """The parts (units of the claimed lines, at most the claimed quantity) and, if given, the
    compensation beside them (capped as for compensation alone, and then a note is required)."""
    check_can(ticket, EventKind.RESHIP if compensation is None else EventKind.COMPENSATE)
    check_duty(ticket, actor, Duty.REVIEW)
    parts = claimed_lines(ticket, lines, with_accepted=False)
    if compensation is None:
        return ReshipTerms(parts, clean_text(note, field="note", required=False, limit=MAX_TEXT), None)
    amount, note = _compensation_terms(ticket, amount=compensation, note=note, field="compensation")
    return ReshipTerms(parts, note, amount)


def preview_reship(*, ticket_id: int, actor, lines, note: str = "", compensation=None) -> ReshipTerms:
    """What `reship_ticket` would do, changing nothing (the confirmation step when money moves too)."""
    require_role(actor, OPS)
    return _reship_terms(read_ticket(ticket_id), actor=actor, lines=lines, note=note, compensation=compensation)


@atomic_retrying
def reship_ticket(*, ticket_id: int, actor, lines, note: str = "", compensation=None) -> Ticket:
    """Send the missing or broken parts again (SPEC §5, §9): the warehouse gets an outbound request (it
    subscribes to RESHIP). Alone, the ticket waits for the parts to go out and the buyer to confirm them,
    as an exchange does. With compensation beside it, the ticket is settled with that amount through
    finance, and the parts go out on their own."""
    require_role(actor, OPS)
    ticket = lock_ticket(ticket_id)
    terms = _reship_terms(ticket, actor=actor, lines=lines, note=note, compensation=compensation)
    now = clock.now()
    changes = payloads.reship(payloads.ReshipPart(part.ticket_line.order_line.line_id, part.quantity)
                              for part in terms.parts)
    if terms.compensation is not None:
        _settle_with_compensation(ticket, actor=actor, amount=terms.compensation, note=terms.note)
        before = ticket.status
    else:  # the parts are the remedy: nothing is refunded
        before = move(ticket, EventKind.RESHIP)
        changes |= payloads.refund_amount(ticket.refund_amount, ZERO)
        ticket.refund_amount = ticket.service_fee = ticket.shipping_refund = ZERO
        ticket.coupon_refund = ticket.virtual_currency_refund = ZERO
        ticket.approved_at = ticket.reviewed_at = now
        ticket.reviewer, ticket.finance_rejection_reason = actor, ""
    # A shipment is due now (a second re-ship after a send-back ships again).
    ticket.reship_requested_at, ticket.replacement_shipped_at, ticket.confirm_deadline = now, None, None
    mark_replied(ticket)
    save_status(ticket, "reship_requested_at", "replacement_shipped_at", "confirm_deadline", "approved_at",
                "reviewed_at", "reviewer", "finance_rejection_reason", "refund_amount", "service_fee",
                "shipping_refund", "coupon_refund", "virtual_currency_refund")
    record_event(ticket, EventKind.RESHIP, actor=actor, before=before, reason=terms.note, changes=changes)
    return ticket


@atomic_retrying
def add_note(*, ticket_id: int, actor, text: str) -> Note:
    """Staff note, "problem + progress" (SPEC §9); internal, append-only."""
    require_role(actor, OPS, FINANCE, WAREHOUSE)
    ticket = lock_ticket(ticket_id)
    text = clean_text(text, field="text", required=True, limit=MAX_TEXT)
    note = Note.objects.create(ticket=ticket, author=actor, text=text, created_at=clock.now())
    if mark_replied(ticket):
        save_status(ticket)  # a logistics problem's first-reply clock stops
    record_event(ticket, EventKind.NOTE, actor=actor, before=ticket.status, reason=text, buyer_visible=False)
    return note


@atomic_retrying
def assign_ticket(*, ticket_id: int, actor, assignee) -> Ticket:
    """Ops takes a ticket (or gives it to a colleague): the queue's "mine" shows it. No state change; an
    internal timeline row says who has it now."""
    require_role(actor, OPS)
    if assignee is not None and not in_group(assignee, OPS):
        raise FieldInvalid(_("Only an ops reviewer can be assigned a ticket."), field="assignee")
    ticket = lock_ticket(ticket_id)
    if ticket.is_final:
        raise InvalidTransition(_("A finished ticket is assigned to nobody."))
    before = ticket.assignee
    if before == assignee:
        return ticket
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee", "updated_at"])
    record_event(ticket, EventKind.ASSIGN, actor=actor, before=ticket.status, buyer_visible=False, changes={
        "assignee": [before.get_username() if before else None, assignee.get_username() if assignee else None]})
    return ticket


@atomic_retrying
def record_retention_attempt(*, ticket_id: int, actor, offer: str, kept: bool) -> Ticket:
    """The buyer asked to send the goods back; ops tried to keep the sale (an exchange, compensation) and
    records what was offered and how it ended (SPEC §9, seed 004). No state change: an internal timeline
    row; ops then decides as usual."""
    require_role(actor, OPS)
    ticket = lock_ticket(ticket_id)
    if not retention_fits(ticket):
        raise InvalidTransition(_("A retention attempt is recorded on a return or exchange waiting for review, "
                                  "before the goods are back."))
    check_duty(ticket, actor, Duty.REVIEW)
    offer = clean_text(offer, field="offer", required=True, limit=MAX_TEXT)
    if not isinstance(kept, bool):
        raise FieldInvalid(_("Say whether the buyer keeps the goods."), field="kept")
    if mark_replied(ticket):
        save_status(ticket)
    record_event(ticket, EventKind.RETENTION_ATTEMPT, actor=actor, before=ticket.status, reason=offer,
                 buyer_visible=False, changes={"outcome": [None, "kept" if kept else "returning"]})
    return ticket
