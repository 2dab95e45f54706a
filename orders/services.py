"""Order mirror upsert (SPEC §2, API.md order format): one transaction per order."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from aftersales.errors import DomainError, FieldInvalid, FieldRequired
from aftersales.money import MAX_AMOUNT, ZERO, allocate, parse_amount
from aftersales.roles import ALL_ROLES, in_group
from orders.claims import claimed_by_line
from orders.models import Buyer, Order, OrderLine, Shop


@dataclass
class ImportResult:
    order: Order
    created: bool


def _get(data: dict, key: str, path: str, *, required: bool = True):
    if not isinstance(data, dict):
        raise FieldInvalid(_("Must be an object."), field=path.rsplit(".", 1)[0] or path)
    value = data.get(key)
    if value is None and required:
        raise FieldRequired(_("This field is required."), field=path)
    return value


def _str(data, key, path, *, limit: int, required: bool = True, blank: bool = False) -> str:
    value = _get(data, key, path, required=required)
    if value is None:
        return ""
    if not isinstance(value, str) or (not blank and not value.strip()):
        raise FieldInvalid(_("Must be a non-empty string."), field=path)
    if len(value) > limit:
        raise FieldInvalid(_("At most %(limit)s characters.") % {"limit": limit}, field=path)
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        # JSON can spell both; PostgreSQL stores neither (NUL in text, lone surrogates in UTF-8).
        raise FieldInvalid(_("Contains characters that cannot be stored (NUL or a lone surrogate)."),
                           field=path)
    return value.strip()


def _amount(data, key, path, *, required: bool = True, default: Decimal = ZERO) -> Decimal:
    value = _get(data, key, path, required=required)
    return default if value is None else parse_amount(value, field=path)


def _int(data, key, path, *, minimum: int, maximum: int = 1_000_000, required: bool = True, default=0) -> int:
    value = _get(data, key, path, required=required)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise FieldInvalid(_("A whole number from %(minimum)s to %(maximum)s.") % {"minimum": minimum, "maximum": maximum},
                           field=path)
    return value


def _time(data, key, path, *, required: bool = False) -> datetime | None:
    value = _get(data, key, path, required=required)
    if value is None:
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but impossible, e.g. 30 February
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise FieldInvalid(_("An ISO 8601 time with its offset."), field=path)
    try:
        parsed = parsed.astimezone(UTC)  # the same instant; PostgreSQL refuses offsets beyond ±15:59
    except OverflowError:  # year 1 east of UTC, year 9999 west of it: stored, then unreadable
        raise FieldInvalid(_("A time between the years 1 and 9999 in UTC."), field=path) from None
    return parsed


def _choice(data, key, path, choices) -> str:
    value = _get(data, key, path)
    if value not in choices:
        raise FieldInvalid(_("One of %(choices)s.") % {"choices": ", ".join(choices)}, field=path)
    return value


# The shop's return desk (API.md, the import format): where goods come back to unless ops gives another
# address on approval. Each is optional; a key left out (or null) keeps what the shop has, a string
# replaces it ("" clears it).
RETURN_DESK = {"return_address": 500, "return_contact": 100, "return_phone": 40}


def _return_desk(shop) -> dict:
    return {key: _str(shop, key, f"shop.{key}", limit=limit, required=False, blank=True)
            for key, limit in RETURN_DESK.items() if isinstance(shop, dict) and shop.get(key) is not None}


def parse_order(data) -> dict:
    """Validate one order record of the import format; raise a domain error naming the field."""
    if not isinstance(data, dict):
        raise FieldInvalid(_("An order is a JSON object."), field="order")
    shop, buyer = _get(data, "shop", "shop"), _get(data, "buyer", "buyer")
    order = {
        "order_no": _str(data, "order_no", "order_no", limit=64),
        "shop": {"code": _str(shop, "code", "shop.code", limit=32), "name": _str(shop, "name", "shop.name", limit=200),
                 **_return_desk(shop)},
        "buyer": {"account": _str(buyer, "account", "buyer.account", limit=150),
                  "level": _int(buyer, "level", "buyer.level", minimum=0, maximum=100, required=False),
                  "address": _str(buyer, "address", "buyer.address", limit=500, required=False, blank=True),
                  "name": _str(buyer, "name", "buyer.name", limit=100, required=False, blank=True),
                  "phone": _str(buyer, "phone", "buyer.phone", limit=40, required=False, blank=True)},
        "status": _choice(data, "status", "status", Order.Status.values),
        "placed_at": _time(data, "placed_at", "placed_at", required=True),
        "paid_at": _time(data, "paid_at", "paid_at"),
        "shipped_at": _time(data, "shipped_at", "shipped_at"),
        "delivered_at": _time(data, "delivered_at", "delivered_at"),
        "shipping_fee": _amount(data, "shipping_fee", "shipping_fee", required=False),
        "coupon_discount": _amount(data, "coupon_discount", "coupon_discount", required=False),
        "virtual_currency": _amount(data, "virtual_currency", "virtual_currency", required=False),
        "amount_paid": _amount(data, "amount_paid", "amount_paid"),
    }
    if order["status"] in ("shipped", "delivered") and order["shipped_at"] is None:
        raise FieldRequired(_("A shipped order has its shipped_at."), field="shipped_at")
    if order["status"] == "delivered" and order["delivered_at"] is None:
        raise FieldRequired(_("A delivered order has its delivered_at."), field="delivered_at")
    raw_lines = _get(data, "lines", "lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise FieldInvalid(_("At least one line."), field="lines")
    lines, seen = [], set()
    for i, raw in enumerate(raw_lines):
        p = f"lines.{i}"
        line = {
            "line_id": _str(raw, "line_id", f"{p}.line_id", limit=64),
            "sku": _str(raw, "sku", f"{p}.sku", limit=64),
            "product_name": _str(raw, "product_name", f"{p}.product_name", limit=200),
            "product_code": _str(raw, "product_code", f"{p}.product_code", limit=64, required=False, blank=True),
            "category": _choice(raw, "category", f"{p}.category", OrderLine.Category.values),
            "unit_price": _amount(raw, "unit_price", f"{p}.unit_price"),
            "quantity": _int(raw, "quantity", f"{p}.quantity", minimum=1),
            "paid_amount": _amount(raw, "paid_amount", f"{p}.paid_amount", required=False, default=None),
        }
        if line["line_id"] in seen:
            raise FieldInvalid(_("line_id appears twice."), field=f"{p}.line_id")
        seen.add(line["line_id"])
        lines.append(line)
    goods = sum((ln["unit_price"] * ln["quantity"] for ln in lines), ZERO)
    if goods > MAX_AMOUNT:
        raise FieldInvalid(_("The goods value (%(goods)s) is above what an order can hold (%(maximum)s).") % {
            "goods": goods, "maximum": MAX_AMOUNT}, field="lines")
    goods_paid = order["amount_paid"] - order["shipping_fee"]
    if goods_paid < 0 or goods_paid > goods:
        raise FieldInvalid(_("amount_paid less shipping (%(goods_paid)s) must lie between 0 and the goods value "
                             "(%(goods)s).") % {"goods_paid": goods_paid, "goods": goods}, field="amount_paid")
    given = [ln["paid_amount"] for ln in lines]
    if all(g is None for g in given):
        # No per-line share: spread the order's discounts over the lines by goods value, to the cent.
        for ln, share in zip(lines, allocate(goods_paid, [ln["unit_price"] * ln["quantity"] for ln in lines]),
                             strict=True):
            ln["paid_amount"] = share
    elif any(g is None for g in given):
        raise FieldRequired(_("Give paid_amount on every line or on none."),
                            field=f"lines.{given.index(None)}.paid_amount")
    elif sum(given, ZERO) != goods_paid:
        raise FieldInvalid(_("The lines' paid_amount add up to %(total)s, not %(goods_paid)s.") % {
            "total": sum(given, ZERO), "goods_paid": goods_paid}, field="lines")
    for i, ln in enumerate(lines):
        if ln["paid_amount"] > ln["unit_price"] * ln["quantity"]:
            raise FieldInvalid(_("A line cannot be paid more than its price × quantity."),
                               field=f"lines.{i}.paid_amount")
    order["goods_amount"], order["lines"] = goods, lines
    return order


@transaction.atomic
def import_order(data) -> ImportResult:
    """Upsert one order by order_no, creating its shop and buyer (and the buyer's login) if missing.
    A line already under claim can never shrink below what its tickets claim."""
    parsed = parse_order(data)
    shop, _created = Shop.objects.update_or_create(code=parsed["shop"]["code"], defaults={
        key: value for key, value in parsed["shop"].items() if key != "code"})
    buyer = _upsert_buyer(parsed["buyer"])
    fields = {k: parsed[k] for k in ("status", "placed_at", "paid_at", "shipped_at", "delivered_at", "goods_amount",
                                     "shipping_fee", "coupon_discount", "virtual_currency", "amount_paid")}
    order = Order.objects.select_for_update().filter(order_no=parsed["order_no"]).first()
    created = order is None
    if created:
        order = Order.objects.create(order_no=parsed["order_no"], shop=shop, buyer=buyer, **fields)
    else:
        if order.buyer_id != buyer.pk or order.shop_id != shop.pk:
            raise FieldInvalid(_("An order keeps its shop and buyer."), field="buyer.account")
        for key, value, given in (("amount_paid", fields["amount_paid"], order.refunded_amount),
                                  ("shipping_fee", fields["shipping_fee"], order.refunded_shipping),
                                  ("coupon_discount", fields["coupon_discount"], order.refunded_coupon),
                                  ("virtual_currency", fields["virtual_currency"], order.refunded_virtual_currency)):
            if value < given:  # the database's CHECK would refuse it: say so, naming the field
                raise FieldInvalid(_("Refunds already gave back %(given)s of it; it cannot shrink below that.") % {
                    "given": given}, field=key)
        for key, value in fields.items():
            setattr(order, key, value)
        order.save()
    existing = {ln.line_id: ln for ln in OrderLine.objects.select_for_update().filter(order=order).order_by("pk")}
    claimed = claimed_by_line([ln.pk for ln in existing.values()])
    for i, ln in enumerate(parsed["lines"]):
        current = existing.pop(ln["line_id"], None)
        if current is None:
            if OrderLine.objects.filter(line_id=ln["line_id"]).exists():
                raise FieldInvalid(_("This line_id belongs to another order."), field=f"lines.{i}.line_id")
            OrderLine.objects.create(order=order, **ln)
            continue
        units, amount = claimed.get(current.pk, (0, ZERO))
        if ln["quantity"] < units or ln["paid_amount"] < amount:
            at_fault = "quantity" if ln["quantity"] < units else "paid_amount"
            raise FieldInvalid(_("Tickets already claim %(units)s units (%(amount)s) of this line; it cannot "
                                 "shrink below that.") % {"units": units, "amount": amount},
                               field=f"lines.{i}.{at_fault}")
        for key, value in ln.items():
            setattr(current, key, value)
        current.save()
    for gone in existing.values():
        if gone.pk in claimed:
            raise FieldInvalid(_("Line %(line_id)s is under claim and cannot be removed.") % {"line_id": gone.line_id},
                               field="lines")
        try:
            gone.delete()
        except ProtectedError:  # claims that no longer count, goods records: the line stays referenced
            raise FieldInvalid(_("Line %(line_id)s is under claim and cannot be removed.") % {"line_id": gone.line_id},
                               field="lines") from None
    return ImportResult(order=order, created=created)


@dataclass(frozen=True)
class RefusedOrder:
    position: int  # where it sat in the batch, as the caller counts (an index, a line number)
    order_no: object  # as sent (any JSON value); None when the order was not an object
    field: str | None
    detail: str


@dataclass
class BatchImport:
    created: int = 0
    updated: int = 0
    refused: list[RefusedOrder] = field(default_factory=list)


def import_orders(batch: Iterable[tuple[int, object]]) -> BatchImport:
    """Import each order of ``batch`` (pairs of its position and its data) with `import_order`, each in its own
    transaction: a refused order is recorded with its field and the rest still import. The API's batch and
    ``manage.py import_orders`` both count through here."""
    result = BatchImport()
    for position, data in batch:
        try:
            imported = import_order(data)
        except DomainError as exc:
            order_no = data.get("order_no") if isinstance(data, dict) else None
            result.refused.append(RefusedOrder(position, order_no, exc.field, exc.detail))
            continue
        if imported.created:
            result.created += 1
        else:
            result.updated += 1
    return result


BUYER_FIELDS = ("level", "address", "name", "phone")  # what each import says of the buyer, in full


def _upsert_buyer(data: dict) -> Buyer:
    """The order's buyer, made on first sight. A staff member's account is never a buyer's: whoever works
    claims (any role, or an administrator) does not also file them (claimant, reviewer and payer are never
    one person; tickets.services.duties holds it for accounts that became staff later)."""
    buyer = Buyer.objects.select_related("user").filter(account=data["account"]).first()
    if buyer is not None and _works_here(buyer.user):
        raise FieldInvalid(_("This account name belongs to a staff user."), field="buyer.account")
    if buyer is None:
        User = get_user_model()
        user = User.objects.filter(username=data["account"]).first()
        if user is None:
            user = User(username=data["account"])
            user.set_unusable_password()
            user.save()
        elif _works_here(user):
            raise FieldInvalid(_("This account name belongs to a staff user."), field="buyer.account")
        return Buyer.objects.create(account=data["account"], user=user, **{f: data[f] for f in BUYER_FIELDS})
    changed = [f for f in BUYER_FIELDS if getattr(buyer, f) != data[f]]
    for f in changed:
        setattr(buyer, f, data[f])
    if changed:
        buyer.save(update_fields=changed)
    return buyer


def _works_here(user) -> bool:
    """Staff by any sign: the admin flag, or a role group (role users are group-only; in_group counts an
    administrator in every group)."""
    return user.is_staff or in_group(user, *ALL_ROLES)
