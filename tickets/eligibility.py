"""What a buyer may still claim on an order, per line, built from the same rules as submission."""

from aftersales import clock
from aftersales.money import ZERO, amount_for_units
from aftersales.vocabulary import TicketType
from orders.models import Order
from policies import services as policies
from tickets import rules
from tickets.selectors import claimed_by_line


def eligibility_for(order: Order) -> dict:
    now, policy = clock.now(), policies.current()
    lines = list(order.lines.all())
    claimed = claimed_by_line([line.pk for line in lines])
    out = []
    for line in lines:
        units, amount = claimed.get(line.pk, (0, ZERO))
        claimable = line.quantity - units
        windows = rules.windows_for(order, line.category, policy)
        out.append({
            "order_line_id": line.line_id,
            "sku": line.sku,
            "product_name": line.product_name,
            "category": line.category,
            "quantity": line.quantity,
            "claimed_quantity": units,
            "claimable_quantity": claimable,
            "max_refund": amount_for_units(paid=line.paid_amount, quantity=line.quantity, units=claimable,
                                           already_refunded=amount, units_already_claimed=units)
            if claimable else ZERO,
            "allowed_types": rules.allowed_types(order, line.category, policy, now) if claimable else [],
            "photos_required_for": sorted(t for t in TicketType if rules.photos_required(
                order=order, categories={line.category}, ticket_type=t)),
            "deadlines": [{"name": w.name, "types": sorted(w.types), "ends_at": w.ends_at, "open": w.is_open(now),
                           "reasons": _reasons_label(w)} for w in windows],
        })
    return {"order_no": order.order_no, "order_status": order.status, "checked_at": now,
            "max_photos": policy.count("max_photos"), "lines": out}


def _reasons_label(window: rules.Window) -> str:
    if window.quality_only:
        return "quality_only"
    if not window.buyer_reasons:
        return "shop_or_carrier"
    return "buyer" if not window.shop_reasons else "any"
