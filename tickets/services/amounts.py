"""What a claim is worth (SPEC §5): goods per line, the extras an order can still give back, the
compensation cap. Reads only; the services that decide call these under their locks."""

from decimal import Decimal

from aftersales.money import ZERO, amount_for_units, money
from orders.models import Order, OrderLine
from policies import services as policies
from tickets.models import Ticket
from tickets.selectors import claimed_by_line, refunded_extras


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


def extras_available(ticket: Ticket) -> dict[str, Decimal]:
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


def claims_whole_order(order: Order, requested: list[tuple[OrderLine, int]]) -> bool:
    """Would these units, with what other tickets claim, take every unit of the order?"""
    claimed = claimed_by_line([line.pk for line in order.lines.all()])
    now_claiming = {line.pk: units for line, units in requested}
    return all(claimed.get(line.pk, (0, ZERO))[0] + now_claiming.get(line.pk, 0) >= line.quantity
               for line in order.lines.all())


def compensation_cap(ticket: Ticket) -> Decimal:
    """At most a share of what was paid for items under the policy threshold (20 % of 218 → 43.60) [004]."""
    policy = policies.current()
    cap = ZERO
    for line in ticket.lines.select_related("order_line"):
        paid_per_item = line.order_line.paid_amount / line.order_line.quantity
        if paid_per_item < policy["compensation_cap_below"]:  # "items paid under 500" [004]: per item
            cap += money(line.refund_amount * policy["compensation_cap_percent"] / 100)
        else:
            cap += line.refund_amount
    return cap
