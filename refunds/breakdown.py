"""What a refund is made of: goods per order line, shipping, and the coupon and points given back in kind.

The ticket says how much cash goes back (``refund_amount`` = goods + shipping − service fee) and what
shipping it includes; the service fee is taken off the goods, never off shipping (ops lowers the amount
for the goods' state or handling, and shipping is a fee the shop collected whole). The goods part is
split over the claimed lines in proportion to each line's claimed amount, to the cent, so no line gets
more than its ticket line claims. Only the goods part counts against a line's cap
(``OrderLine.refunded_amount <= paid_amount``): shipping was never part of a line's paid amount, and the
coupon and points are not cash.

Pure arithmetic on Decimals, so the data migration that backfilled existing refunds splits them exactly
as new ones are split.
"""

from dataclasses import dataclass
from decimal import Decimal

from aftersales.money import ZERO, allocate, money


@dataclass(frozen=True)
class Split:
    shipping: Decimal
    lines: list[Decimal]  # in the order of the claimed amounts given


def split_refund(*, amount: Decimal, shipping: Decimal, line_amounts: list[Decimal]) -> Split:
    """Split a cash ``amount`` into shipping (at most ``shipping``) and goods over ``line_amounts``.

    Raises ValueError when the goods part is more than the lines claim: a refund never pays a line more
    than its claim."""
    amount = money(amount)
    shipping_part = min(money(shipping), amount)
    goods = amount - shipping_part
    if goods > sum(line_amounts, ZERO):
        raise ValueError(f"{goods} of goods is more than the lines claim ({sum(line_amounts, ZERO)}).")
    if not line_amounts:
        return Split(shipping_part, [])
    return Split(shipping_part, allocate(goods, line_amounts))


@dataclass(frozen=True)
class Parts:
    shipping: Decimal
    coupon: Decimal
    virtual_currency: Decimal
    lines: list[tuple[int, Decimal]]  # (order line pk, goods amount)


def refund_parts(ticket) -> Parts:
    """The parts of the refund a ticket asks for now, from its amounts and its claimed lines."""
    claimed = list(ticket.lines.order_by("pk").values_list("order_line_id", "refund_amount"))
    split = split_refund(amount=ticket.refund_amount, shipping=ticket.shipping_refund,
                         line_amounts=[amount for _, amount in claimed])
    return Parts(split.shipping, money(ticket.coupon_refund), money(ticket.virtual_currency_refund),
                 [(order_line_id, amount) for (order_line_id, _), amount in zip(claimed, split.lines, strict=True)])


@dataclass(frozen=True)
class GoodsRow:
    """One claimed line as finance reads it: the units that go back and their share of the goods, and the
    units the inspection refused (shown, not paid)."""

    product: str
    unit_price: Decimal
    units: int  # accepted (or claimed, when nothing was inspected)
    refused: int
    amount: Decimal


def goods_rows(ticket_lines, inspection, goods_amount: Decimal) -> list[GoodsRow]:
    """The goods of a ticket line by line so that they add up to ``goods_amount`` (the ticket's goods: its
    refund is these plus shipping minus the service fee). ``ticket_lines``: the ticket's lines with their
    order lines; ``inspection``: the rows of its last inspection (``TimelineEvent.inspection``), or None when
    nothing was inspected. A line may come as several rows (per unit: some accepted, some refused): units
    are summed per line and verdict; a line the inspection does not name did not arrive (nothing goes back
    for it). Each line's share is in proportion to its claimed amount for the units accepted, to the cent."""
    lines = list(ticket_lines)
    accepted, refused = {}, {}
    for row in inspection or ():
        into = accepted if row.accepted else refused
        into[row.line_id] = into.get(row.line_id, 0) + row.units
    units = []
    for line in lines:
        line_id = line.order_line.line_id
        kept = line.quantity if inspection is None else min(accepted.get(line_id, 0), line.quantity)
        units.append((kept, 0 if inspection is None else refused.get(line_id, 0)))
    weights = [line.refund_amount * kept / line.quantity if line.quantity else ZERO
               for line, (kept, _) in zip(lines, units, strict=True)]
    amounts = allocate(goods_amount, weights) if sum(weights, ZERO) > 0 else [ZERO] * len(lines)
    return [GoodsRow(line.order_line.product_name, line.order_line.unit_price, kept, no, amount)
            for line, (kept, no), amount in zip(lines, units, amounts, strict=True)]
