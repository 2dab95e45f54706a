"""Ticket services: one function per business action, each the one door for its change.

Every service runs in one transaction, locks the ticket row (and the order lines where quantities
or money are counted, always in primary-key order), checks its guard, moves the state machine and
writes a timeline event. Side effects (refund execution) are queued on commit.
"""

from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed

from aftersales import clock
from aftersales.errors import (
    AmountAboveMaximum,
    FieldInvalid,
    FieldRequired,
    InvalidTransition,
    NotAllowed,
    NotFound,
    QuantityAboveClaimable,
)
from aftersales.money import ZERO, amount_for_units, money
from aftersales.roles import FINANCE, OPS, WAREHOUSE, in_group, require_role
from orders.models import Buyer, Order, OrderLine
from policies import services as policies
from reasons.selectors import offered_reason
from tickets import rules
from tickets.models import Note, ReturnShipment, Ticket, TicketLine, TimelineEvent, Upload
from tickets.selectors import claimed_by_line, prime_detail, refunded_extras

MAX_TEXT = 2000


# ---------------------------------------------------------------------------------------------
# helpers: locking, moving, recording


def lock_ticket(ticket_id: int) -> Ticket:
    try:
        return Ticket.objects.select_for_update().get(pk=ticket_id)
    except Ticket.DoesNotExist:
        raise NotFound("No such ticket.", field="ticket_no") from None


def check_can(ticket: Ticket, transition: str) -> None:
    """Raise InvalidTransition if the machine does not allow ``transition`` now (before any other check,
    so a wrong state is reported as such, whatever else is wrong with the input)."""
    if not can_proceed(getattr(ticket, transition)):
        raise InvalidTransition(f"A {ticket.get_type_display()} ticket in status {ticket.status} cannot "
                                f"{transition.replace('_', ' ')}.")


def move(ticket: Ticket, transition: str, **kwargs) -> str:
    """Fire ``transition``; a move the machine does not allow raises InvalidTransition, changing nothing."""
    method = getattr(ticket, transition)
    before = ticket.status
    check_can(ticket, transition)
    try:
        method(**kwargs)
    except TransitionNotAllowed as exc:  # a condition changed under us
        raise InvalidTransition(str(exc)) from None
    return before


def _role_of(actor, ticket: Ticket) -> str:
    if actor is None:
        return "system"
    if ticket.buyer.user_id == actor.pk:
        return "buyer"
    for role in (OPS, FINANCE, WAREHOUSE):
        if in_group(actor, role) and not actor.is_superuser:
            return role
    return "admin" if actor.is_superuser else "staff"


def record_event(ticket: Ticket, transition: str, *, actor, before: str, reason: str = "",
                 changes: dict | None = None, buyer_visible: bool = True) -> TimelineEvent:
    return TimelineEvent.objects.create(
        ticket=ticket, actor=actor, actor_role=_role_of(actor, ticket), at=clock.now(),
        transition=transition, from_status=before, to_status=ticket.status, reason=reason,
        changes=changes or {}, buyer_visible=buyer_visible)


def save_status(ticket: Ticket, *fields: str) -> None:
    ticket.save(update_fields=["status", "updated_at", *fields])


def clean_text(value, *, field: str, required: bool, limit: int = 500) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise FieldInvalid("Must be text.", field=field)
    if required and not text:
        raise FieldRequired("This field is required.", field=field)
    if len(text) > limit:
        raise FieldInvalid(f"At most {limit} characters.", field=field)
    return text


def _buyer_of(actor) -> Buyer:
    buyer = Buyer.objects.filter(user=actor).first() if actor is not None and actor.is_authenticated else None
    if buyer is None:
        raise NotAllowed("Only buyers submit and follow claims.")
    return buyer


def _own_ticket(ticket_id: int, actor) -> Ticket:
    ticket = lock_ticket(ticket_id)
    if ticket.buyer.user_id != getattr(actor, "pk", None):
        raise NotFound("No such ticket.", field="ticket_no")
    return ticket


# ---------------------------------------------------------------------------------------------
# money


def line_amounts(order: Order, requested: list[tuple[OrderLine, int]], *,
                 exclude_ticket_id: int | None = None,
                 claimed: dict[int, tuple[int, Decimal]] | None = None) -> list[Decimal]:
    """The goods refund for each (line, units): quantity × paid unit amount, the last unit absorbing
    the remainder, never above what earlier tickets left refundable (SPEC §5). ``claimed``: the
    caller's claimed_by_line for these lines, read under the same lock (saves reading it again)."""
    if claimed is None:
        claimed = claimed_by_line([line.pk for line, _ in requested], exclude_ticket_id=exclude_ticket_id)
    amounts = []
    for line, units in requested:
        units_before, amount_before = claimed.get(line.pk, (0, ZERO))
        amounts.append(amount_for_units(paid=line.paid_amount, quantity=line.quantity, units=units,
                                        already_refunded=amount_before, units_already_claimed=units_before))
    return amounts


def _extras_available(ticket: Ticket) -> dict[str, Decimal]:
    """What of shipping, coupon and virtual currency this ticket could still give back."""
    order = ticket.order
    given = refunded_extras(order.pk, exclude_ticket_id=ticket.pk)
    lines = list(ticket.lines.select_related("order_line"))
    goods_value = sum((line.order_line.unit_price * line.quantity for line in lines), ZERO)
    share = (goods_value / order.goods_amount) if order.goods_amount else Decimal(0)
    coupon_share = money(order.coupon_discount * share)
    vc_share = money(order.virtual_currency * share)
    return {
        "shipping": max(money(order.shipping_fee) - given["shipping"], ZERO),
        "coupon": max(min(coupon_share, money(order.coupon_discount) - given["coupon"]), ZERO),
        "virtual_currency": max(min(vc_share, money(order.virtual_currency) - given["vc"]), ZERO),
    }


def _claims_whole_order(order: Order, requested: list[tuple[OrderLine, int]]) -> bool:
    claimed = claimed_by_line([line.pk for line in order.lines.all()])
    now_claiming = {line.pk: units for line, units in requested}
    return all(claimed.get(line.pk, (0, ZERO))[0] + now_claiming.get(line.pk, 0) >= line.quantity
               for line in order.lines.all())


# ---------------------------------------------------------------------------------------------
# submit, auto-approve


@transaction.atomic
def submit_ticket(*, actor, order_no: str, type: str, reason_id, description: str = "",
                  lines: list[dict], photo_ids=()) -> Ticket:
    """A buyer's claim. Checks ownership, reason, windows (SPEC §6), claimable quantities and photos;
    any refusal raises a domain error naming the field and creates nothing. A refund-only claim on an
    unshipped order within policy is approved and refunded with no staff step [001]."""
    now, policy = clock.now(), policies.current()
    wanted, lines_error = _wanted_lines(lines)
    # One statement finds the order and locks the claimed lines, in primary-key order: two claims
    # on the same units queue here. The order itself is read as it is (claims do not change it).
    locked = _lock_order_lines(order_no, actor, [line_id for line_id, _ in wanted])
    order = locked[0].order if locked else _find_order(order_no, actor)
    if order is None:
        _buyer_of(actor)  # a caller who is no buyer at all is refused as such
        raise NotFound("No such order.", field="order_no")
    buyer = order.buyer
    if type not in Ticket.Type.values:
        raise FieldInvalid(f"One of {', '.join(Ticket.Type.values)}.", field="type")
    reason = offered_reason(reason_id)
    if reason is None:
        raise FieldInvalid("No such reason.", field="reason_id")
    description = clean_text(description, field="description", required=False, limit=MAX_TEXT)
    if lines_error is not None:
        raise lines_error
    by_id = {line.line_id: line for line in locked}
    requested = []
    for i, (line_id, units) in enumerate(wanted):
        if line_id not in by_id:
            raise FieldInvalid("No such line on this order.", field=f"lines.{i}.order_line_id")
        by_id[line_id].order = order
        requested.append((by_id[line_id], units))
    categories = {line.category for line, _ in requested}
    rules.check_claim(order=order, categories=categories, ticket_type=type, reason=reason, now=now,
                      policies=policy)

    claimed = claimed_by_line([line.pk for line, _ in requested])
    for i, (line, units) in enumerate(requested):
        claimable = line.quantity - claimed.get(line.pk, (0, ZERO))[0]
        if units > claimable:
            raise QuantityAboveClaimable(f"At most {claimable} of {line.product_name} can still be claimed.",
                                         field=f"lines.{i}.quantity")
    photos = _claimable_photos(actor, photo_ids, policy.count("max_photos"),
                               required=rules.photos_required(order=order, categories=categories,
                                                              ticket_type=type, reason=reason))

    amounts = line_amounts(order, requested, claimed=claimed)  # the lines are locked: same figures
    goods = sum(amounts, ZERO)
    shipping = ZERO
    if order.status == Order.Status.UNSHIPPED and _claims_whole_order(order, requested):
        # Whole order refunded before shipment: shipping goes back too; coupons and points do not [001].
        shipping = max(money(order.shipping_fee) - refunded_extras(order.pk)["shipping"], ZERO)
    ticket_id = next_ticket_id()  # known before the insert, so the number is written with the row
    ticket = Ticket(
        id=ticket_id, order=order, buyer=buyer, shop_id=order.shop_id, type=type, reason=reason,
        description=description, goods_amount=goods, shipping_refund=shipping,
        refund_amount=ZERO if type == rules.EXCHANGE else goods + shipping,
        intercept_requested=order.status == Order.Status.UNSHIPPED, created_at=now)
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
    events = [record_event(ticket, "submit", actor=actor, before="", changes={
        "lines": [[line.line_id, units, str(amount)] for (line, units), amount in zip(requested, amounts, strict=True)],
        "refund_amount": [None, str(ticket.refund_amount)],
    })]
    if ticket.intercept_requested:
        record_event(ticket, "intercept_requested", actor=None, before=ticket.status, buyer_visible=False,
                     reason="Order not shipped yet: the warehouse is told to hold the shipment.")
    refunds = []
    if (type == rules.REFUND_ONLY and order.status == Order.Status.UNSHIPPED
            and ticket.refund_amount <= policy["auto_approve_max_amount"]):
        event, refund = _auto_approve(ticket)
        events.append(event)
        refunds.append(refund)
    # What the caller shows next (the 201 body) is all here already: no need to read it back.
    return prime_detail(ticket, lines=ticket_lines, photos=photos, public_events=events, refunds=refunds)


def _wanted_lines(lines) -> tuple[list[tuple[str, int]], FieldInvalid | FieldRequired | None]:
    """The (order line id, units) a claim asks for, or the first thing wrong with them (reported only
    after the order, type, reason and description have been checked)."""
    if not isinstance(lines, list) or not lines:
        return [], FieldRequired("Claim at least one line.", field="lines")
    wanted: list[tuple[str, int]] = []
    for i, item in enumerate(lines):
        if not isinstance(item, dict):
            return [], FieldInvalid("Each line is an object.", field=f"lines.{i}")
        line_id, units = item.get("order_line_id"), item.get("quantity")
        if not isinstance(line_id, str) or not line_id:
            return [], FieldRequired("Name the order line.", field=f"lines.{i}.order_line_id")
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            return [], FieldInvalid("A whole number of at least 1.", field=f"lines.{i}.quantity")
        if any(line_id == seen for seen, _ in wanted):
            return [], FieldInvalid("Each order line once per claim.", field=f"lines.{i}.order_line_id")
        wanted.append((line_id, units))
    return wanted, None


def _lock_order_lines(order_no: str, actor, line_ids: list[str]) -> list[OrderLine]:
    """The caller's order's lines named ``line_ids``, locked in primary-key order, with the order and
    its buyer; [] when the caller has no such order, or it has none of these lines."""
    if not line_ids or actor is None or not actor.is_authenticated:
        return []
    return list(OrderLine.objects.select_for_update(of=("self",)).select_related("order__buyer").filter(
        order__order_no=order_no, order__buyer__user=actor, line_id__in=line_ids).order_by("pk"))


def _find_order(order_no: str, actor) -> Order | None:
    if actor is None or not actor.is_authenticated:
        return None
    return Order.objects.select_related("buyer").filter(order_no=order_no, buyer__user=actor).first()


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
        raise FieldInvalid("A list of upload ids.", field="photo_ids")
    if len(set(photo_ids)) != len(photo_ids):
        raise FieldInvalid("Each photo once.", field="photo_ids")
    if len(photo_ids) > limit:
        raise FieldInvalid(f"At most {limit} photos per claim.", field="photo_ids")
    if required and not photo_ids:
        raise FieldRequired("Photos are required for this claim (the damaged goods and the waybill).",
                            field="photo_ids")
    if not photo_ids:
        return []  # what the query below gives for no ids, without building it
    photos = list(Upload.objects.select_for_update().filter(pk__in=photo_ids, owner=actor, ticket__isnull=True))
    if len(photos) != len(photo_ids):
        raise FieldInvalid("Unknown upload, or one already attached to a claim.", field="photo_ids")
    return photos


def _auto_approve(ticket: Ticket):
    from refunds.services import request_refund

    before = move(ticket, "auto_approve")
    ticket.approved_at = ticket.reviewed_at = clock.now()
    save_status(ticket, "approved_at", "reviewed_at")
    event = record_event(ticket, "auto_approve", actor=None, before=before,
                         reason="Refund only before shipment: approved by the system.",
                         changes={"refund_amount": [None, str(ticket.refund_amount)]})
    return event, request_refund(ticket=ticket, actor=None)


# ---------------------------------------------------------------------------------------------
# ops review


@transaction.atomic
def approve_ticket(*, ticket_id: int, actor, refund_amount: Decimal | None = None, fee_reason: str = "",
                   refund_shipping: bool | None = None, refund_coupon: bool | None = None,
                   refund_virtual_currency: bool | None = None, return_address: str | None = None,
                   return_contact: str | None = None, return_phone: str | None = None) -> Ticket:
    """Ops approves. The amount defaults to the computed maximum; lower needs a reason (the service
    fee); higher is refused. Goods-back tickets get a return address (the shop's by default) and a
    deadline to send the goods."""
    require_role(actor, OPS)
    ticket = lock_ticket(ticket_id)
    check_can(ticket, "approve")
    order = ticket.order
    extras = _extras_available(ticket)
    shipping = _choose(refund_shipping, ticket.shipping_refund > 0, extras["shipping"])
    coupon = _choose(refund_coupon, ticket.coupon_refund > 0, extras["coupon"])
    vc = _choose(refund_virtual_currency, ticket.virtual_currency_refund > 0, extras["virtual_currency"])
    if ticket.type == rules.EXCHANGE:
        shipping = coupon = vc = ZERO
        maximum = ZERO
    elif ticket.is_compensation:
        maximum = ticket.refund_amount + ticket.service_fee
        shipping = coupon = vc = ZERO
    else:
        # Cash goes back for goods and shipping; a coupon or points go back in kind, beside it, so the
        # cash refunded never exceeds what the buyer paid.
        maximum = ticket.goods_amount + shipping
    amount = maximum if refund_amount is None else _amount(refund_amount, field="refund_amount")
    if amount > maximum:
        raise AmountAboveMaximum(f"At most {maximum}.", field="refund_amount")
    fee_reason = clean_text(fee_reason, field="fee_reason", required=amount < maximum)
    goods_back = ticket.goods_come_back and ticket.goods_received_at is None and not ticket.is_compensation
    # What ops gave, else what the ticket has, else the shop's return desk.
    address = clean_text(_given_or(return_address, ticket.return_address, order.shop.return_address),
                         field="return_address", required=goods_back)
    contact = clean_text(_given_or(return_contact, ticket.return_contact, order.shop.return_contact),
                         field="return_contact", required=False, limit=100)
    phone = clean_text(_given_or(return_phone, ticket.return_phone, order.shop.return_phone),
                       field="return_phone", required=False, limit=40)

    old = {"refund_amount": str(ticket.refund_amount), "service_fee": str(ticket.service_fee)}
    before = move(ticket, "approve")
    now = clock.now()
    ticket.shipping_refund, ticket.coupon_refund, ticket.virtual_currency_refund = shipping, coupon, vc
    ticket.refund_amount, ticket.service_fee, ticket.fee_reason = amount, maximum - amount, fee_reason
    ticket.return_address, ticket.return_contact, ticket.return_phone = address, contact, phone
    ticket.approved_at = ticket.reviewed_at = now
    ticket.reviewer, ticket.finance_rejection_reason = actor, ""
    if ticket.status == Ticket.Status.AWAITING_RETURN:
        ticket.return_deadline = now + policies.current().days("return_ship_days")
    save_status(ticket, "shipping_refund", "coupon_refund", "virtual_currency_refund", "refund_amount", "service_fee",
          "fee_reason", "return_address", "return_contact", "return_phone", "approved_at", "reviewed_at",
          "reviewer", "finance_rejection_reason", "return_deadline")
    record_event(ticket, "approve", actor=actor, before=before, reason=fee_reason, changes={
        "refund_amount": [old["refund_amount"], str(amount)],
        "service_fee": [old["service_fee"], str(ticket.service_fee)],
        "shipping_refund": [None, str(shipping)], "coupon_refund": [None, str(coupon)],
        "virtual_currency_refund": [None, str(vc)],
        **({"return_address": [None, address]} if ticket.status == Ticket.Status.AWAITING_RETURN else {}),
    })
    return ticket


def _given_or(given, *fallbacks):
    return given if given is not None else next((value for value in fallbacks if value), "")


def _choose(flag: bool | None, default_on: bool, available: Decimal) -> Decimal:
    on = default_on if flag is None else flag
    return available if on else ZERO


def _amount(value, *, field: str) -> Decimal:
    if isinstance(value, float) or isinstance(value, bool):
        raise FieldInvalid("An amount as a decimal string, e.g. \"43.60\".", field=field)
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise FieldInvalid("An amount as a decimal string, e.g. \"43.60\".", field=field) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise FieldInvalid("A non-negative amount with at most 2 decimals.", field=field)
    return money(amount)


@transaction.atomic
def reject_ticket(*, ticket_id: int, actor, reason: str) -> Ticket:
    """Ops rejects; the reason is required and the buyer sees it."""
    require_role(actor, OPS)
    ticket = lock_ticket(ticket_id)
    reason = clean_text(reason, field="reason", required=True)
    before = move(ticket, "reject")
    ticket.rejection_reason, ticket.reviewed_at, ticket.reviewer = reason, clock.now(), actor
    ticket.finished_at = ticket.reviewed_at
    save_status(ticket, "rejection_reason", "reviewed_at", "reviewer", "finished_at")
    record_event(ticket, "reject", actor=actor, before=before, reason=reason)
    return ticket


@transaction.atomic
def compensate_ticket(*, ticket_id: int, actor, amount, note: str) -> Ticket:
    """Settle a pending claim with a partial refund; the buyer keeps the goods [004]. For items paid
    under the policy threshold the amount is capped at a share of what was paid (20% of 218 → 43.60)."""
    require_role(actor, OPS)
    ticket = lock_ticket(ticket_id)
    check_can(ticket, "compensate")
    amount = _amount(amount, field="amount")
    note = clean_text(note, field="note", required=True, limit=MAX_TEXT)
    cap = compensation_cap(ticket)
    if amount > cap:
        raise AmountAboveMaximum(f"Compensation is at most {cap} for these goods.", field="amount")
    if amount <= 0:
        raise FieldInvalid("Compensation is more than 0.", field="amount")
    before = move(ticket, "compensate")
    now = clock.now()
    old = str(ticket.refund_amount)
    ticket.is_compensation = True
    ticket.shipping_refund = ticket.coupon_refund = ticket.virtual_currency_refund = ZERO
    ticket.refund_amount, ticket.service_fee = amount, ZERO
    ticket.approved_at = ticket.reviewed_at = now
    ticket.reviewer = actor
    save_status(ticket, "is_compensation", "shipping_refund", "coupon_refund", "virtual_currency_refund",
          "refund_amount", "service_fee", "approved_at", "reviewed_at", "reviewer")
    Note.objects.create(ticket=ticket, author=actor, text=note, created_at=now)
    record_event(ticket, "compensate", actor=actor, before=before, reason=note,
                 changes={"refund_amount": [old, str(amount)]})
    return ticket


def compensation_cap(ticket: Ticket) -> Decimal:
    policy = policies.current()
    cap = ZERO
    for line in ticket.lines.select_related("order_line"):
        paid_per_item = line.order_line.paid_amount / line.order_line.quantity
        if paid_per_item < policy["compensation_cap_below"]:  # "items paid under 500" [004]: per item
            cap += money(line.refund_amount * policy["compensation_cap_percent"] / 100)
        else:
            cap += line.refund_amount
    return cap


@transaction.atomic
def add_note(*, ticket_id: int, actor, text: str) -> Note:
    """Staff note, "problem + progress" (SPEC §9); internal, append-only."""
    require_role(actor, OPS, FINANCE, WAREHOUSE)
    ticket = lock_ticket(ticket_id)
    text = clean_text(text, field="text", required=True, limit=MAX_TEXT)
    note = Note.objects.create(ticket=ticket, author=actor, text=text, created_at=clock.now())
    record_event(ticket, "note", actor=actor, before=ticket.status, reason=text, buyer_visible=False)
    return note


# ---------------------------------------------------------------------------------------------
# buyer actions after submission


@transaction.atomic
def cancel_ticket(*, ticket_id: int, actor) -> Ticket:
    """The buyer withdraws a claim that is pending, or approved with nothing sent back yet."""
    ticket = _own_ticket(ticket_id, actor)
    before = move(ticket, "cancel")
    ticket.finished_at = clock.now()
    save_status(ticket, "finished_at")
    record_event(ticket, "cancel", actor=actor, before=before)
    return ticket


@transaction.atomic
def record_return_shipment(*, ticket_id: int, actor, courier: str, tracking_no: str) -> ReturnShipment:
    ticket = _own_ticket(ticket_id, actor)
    courier = clean_text(courier, field="courier", required=True, limit=100)
    tracking_no = clean_text(tracking_no, field="tracking_no", required=True, limit=100)
    before = move(ticket, "record_return_shipment")
    save_status(ticket)
    shipment = ReturnShipment.objects.create(ticket=ticket, courier=courier, tracking_no=tracking_no,
                                             created_at=clock.now(), created_by=actor)
    record_event(ticket, "record_return_shipment", actor=actor, before=before,
                 changes={"courier": [None, courier], "tracking_no": [None, tracking_no]})
    return shipment


@transaction.atomic
def confirm_receipt(*, ticket_id: int, actor=None) -> Ticket:
    """The buyer confirms the replacement arrived; with no actor, the system after the deadline."""
    ticket = _own_ticket(ticket_id, actor) if actor is not None else lock_ticket(ticket_id)
    if actor is None and not (ticket.confirm_deadline is not None and ticket.confirm_deadline < clock.now()):
        raise InvalidTransition("The system confirms receipt only once the confirmation deadline has passed.")
    before = move(ticket, "confirm_receipt")
    ticket.finished_at = clock.now()
    save_status(ticket, "finished_at")
    record_event(ticket, "confirm_receipt" if actor else "auto_confirm_receipt", actor=actor, before=before,
                 reason="" if actor else "The confirmation deadline passed.")
    return ticket


# ---------------------------------------------------------------------------------------------
# finance


@transaction.atomic
def finance_approve_ticket(*, ticket_id: int, actor) -> Ticket:
    """Finance approves: the refund is recorded once and executed after commit. A second approval
    (double click, two users) finds the open refund and is refused with 409."""
    from refunds.services import request_refund

    require_role(actor, FINANCE)
    ticket = lock_ticket(ticket_id)
    before = move(ticket, "finance_approve")
    save_status(ticket)
    record_event(ticket, "finance_approve", actor=actor, before=before,
                 changes={"refund_amount": [None, str(ticket.refund_amount)]})
    request_refund(ticket=ticket, actor=actor)
    return ticket


@transaction.atomic
def finance_reject_ticket(*, ticket_id: int, actor, reason: str) -> Ticket:
    """Finance sends the ticket back to ops review with a reason ops sees."""
    require_role(actor, FINANCE)
    ticket = lock_ticket(ticket_id)
    reason = clean_text(reason, field="reason", required=True)
    before = move(ticket, "finance_reject")
    ticket.finance_rejection_reason = reason
    save_status(ticket, "finance_rejection_reason")
    record_event(ticket, "finance_reject", actor=actor, before=before, reason=reason, buyer_visible=False)
    return ticket


def mark_refund_succeeded(*, ticket_id: int, refund) -> Ticket:
    """Called by the refund service inside its transaction once the gateway paid."""
    ticket = lock_ticket(ticket_id)
    before = move(ticket, "refund_succeeded")
    ticket.finished_at = clock.now()
    save_status(ticket, "finished_at")
    record_event(ticket, "refund_succeeded", actor=None, before=before,
                 changes={"refunded": [None, str(refund.amount)], "gateway_reference": [None, refund.gateway_reference]})
    return ticket


# ---------------------------------------------------------------------------------------------
# deadlines


@transaction.atomic
def close_ticket(*, ticket_id: int, reason: str) -> Ticket:
    """The system closes a goods-back ticket whose return deadline passed with nothing sent."""
    ticket = lock_ticket(ticket_id)
    before = move(ticket, "close")
    ticket.finished_at = clock.now()
    save_status(ticket, "finished_at")
    record_event(ticket, "close", actor=None, before=before, reason=reason)
    return ticket


@transaction.atomic
def escalate_ticket(*, ticket_id: int, reason: str) -> Ticket:
    """Mark a ticket whose SLA passed; no state change, one event, once."""
    ticket = lock_ticket(ticket_id)
    if ticket.escalated_at is not None or ticket.is_final:
        return ticket
    ticket.escalated_at = clock.now()
    ticket.save(update_fields=["escalated_at", "updated_at"])
    record_event(ticket, "escalate", actor=None, before=ticket.status, reason=reason, buyer_visible=False)
    return ticket

