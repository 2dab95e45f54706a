"""Load the benchmark data set into the database named by DATABASE_URL (run by bench/api.py).

    DJANGO_SETTINGS_MODULE=config.settings DATABASE_URL=... python bench/seed.py OUT.json \
        --buyers 10 --orders 3000 --tickets 2000

Per buyer, the first order goes through orders.services.import_order (which creates the shop, the
buyer and the buyer's login exactly as an import does); the remaining orders and their lines are
bulk-inserted (same field values, much faster). Every order is delivered within the last day and has
3 general-goods lines of 3 units each, so a 7-day no-reason return is in its window.

The existing tickets are submitted through tickets.services.submit_ticket (the real service: lines,
timeline event, history rows), each claiming 1 unit of line 1 of one order. Lines 2 and 3 of every
order, and line 1 of the orders without a ticket, are left untouched for the benchmark's submissions.

Writes OUT.json: reason id, per buyer its API token, its ticket numbers and its untouched lines.
"""

import argparse
import datetime as dt
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from access.tokens import issue_token  # noqa: E402
from orders.models import Buyer, Order, OrderLine, Shop  # noqa: E402
from orders.services import import_order  # noqa: E402
from reasons.models import Reason  # noqa: E402
from tickets.services import submit_ticket  # noqa: E402

LINES_PER_ORDER = 3
UNITS = 3
PRICE = Decimal("20.00")
REASON_CODE = "no_reason_7d"  # return and refund, general goods, no photos needed


def order_no(buyer: int, i: int) -> str:
    return f"BN{buyer:03d}{i:06d}"


def first_order(buyer: int, delivered: dt.datetime) -> dict:
    no = order_no(buyer, 0)
    iso = lambda t: t.isoformat()  # noqa: E731
    return {
        "order_no": no, "shop": {"code": "BENCH", "name": "Bench Shop"},
        "buyer": {"account": f"benchbuyer{buyer:03d}", "level": 1, "address": "1 Bench Road"},
        "status": "delivered", "placed_at": iso(delivered - dt.timedelta(days=2)),
        "paid_at": iso(delivered - dt.timedelta(days=2)), "shipped_at": iso(delivered - dt.timedelta(days=1)),
        "delivered_at": iso(delivered), "shipping_fee": "0.00", "coupon_discount": "0.00",
        "virtual_currency": "0.00", "amount_paid": str(PRICE * UNITS * LINES_PER_ORDER),
        "lines": [{"line_id": f"{no}-{k}", "sku": f"SKU-{k}", "product_name": f"Bench product {k}",
                   "product_code": f"P-{k}", "category": "general", "unit_price": str(PRICE), "quantity": UNITS}
                  for k in range(1, LINES_PER_ORDER + 1)],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--buyers", type=int, default=10)
    parser.add_argument("--orders", type=int, default=3000, help="in total, spread over the buyers")
    parser.add_argument("--tickets", type=int, default=2000, help="existing tickets, in total")
    args = parser.parse_args()
    per_buyer = max(1, args.orders // args.buyers)
    now = timezone.now()
    timings = {}

    started = time.perf_counter()
    buyers = []
    for b in range(args.buyers):
        buyers.append(import_order(first_order(b, now - dt.timedelta(hours=2))).order.buyer)
    shop = Shop.objects.get(code="BENCH")
    timings["import_order_first_orders_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    with transaction.atomic():
        orders = []
        for b, buyer in enumerate(buyers):
            for i in range(1, per_buyer):
                delivered = now - dt.timedelta(minutes=30 + (i * 7) % 1200)  # within the last day
                orders.append(Order(
                    order_no=order_no(b, i), shop=shop, buyer=buyer, status=Order.Status.DELIVERED,
                    placed_at=delivered - dt.timedelta(days=2), paid_at=delivered - dt.timedelta(days=2),
                    shipped_at=delivered - dt.timedelta(days=1), delivered_at=delivered,
                    goods_amount=PRICE * UNITS * LINES_PER_ORDER, amount_paid=PRICE * UNITS * LINES_PER_ORDER))
        Order.objects.bulk_create(orders, batch_size=1000)
        OrderLine.objects.bulk_create([
            OrderLine(order=o, line_id=f"{o.order_no}-{k}", sku=f"SKU-{k}", product_name=f"Bench product {k}",
                      product_code=f"P-{k}", category=OrderLine.Category.GENERAL, unit_price=PRICE,
                      quantity=UNITS, paid_amount=PRICE * UNITS)
            for o in orders for k in range(1, LINES_PER_ORDER + 1)], batch_size=2000)
    timings["bulk_orders_s"] = round(time.perf_counter() - started, 2)

    tokens = {buyer.pk: issue_token(buyer.user)[1] for buyer in buyers}  # a new one each run (hashed)
    reason = Reason.objects.get(code=REASON_CODE)

    # Existing tickets: round-robin over the buyers, line 1 of their first orders.
    started = time.perf_counter()
    ticketed: set[str] = set()
    tickets_by_buyer: dict[int, list[str]] = {b.pk: [] for b in buyers}
    for n in range(min(args.tickets, per_buyer * len(buyers))):
        b, i = n % len(buyers), n // len(buyers)
        no = order_no(b, i)
        ticket = submit_ticket(actor=buyers[b].user, order_no=no, type="return_refund", reason_id=reason.pk,
                               description="bench seed", lines=[{"order_line_id": f"{no}-1", "quantity": 1}])
        tickets_by_buyer[buyers[b].pk].append(ticket.ticket_no)
        ticketed.add(f"{no}-1")
    timings["submit_ticket_seed_s"] = round(time.perf_counter() - started, 2)
    with connection.cursor() as cursor:  # planner statistics, as a live database has them
        cursor.execute("ANALYZE")

    out = {"reason_id": reason.pk, "timings": timings, "buyers": []}
    for b, buyer in enumerate(buyers):
        fresh = [[order_no(b, i), f"{order_no(b, i)}-{k}"] for k in range(1, LINES_PER_ORDER + 1)
                 for i in range(per_buyer) if f"{order_no(b, i)}-{k}" not in ticketed]
        out["buyers"].append({"account": buyer.account, "token": tokens[buyer.pk],
                              "tickets": tickets_by_buyer[buyer.pk], "fresh_lines": fresh})
    Path(args.out).write_text(json.dumps(out))
    counts = {"buyers": Buyer.objects.count(), "orders": Order.objects.count(),
              "order_lines": OrderLine.objects.count(), "tickets": sum(map(len, tickets_by_buyer.values()))}
    print(json.dumps({"counts": counts, "timings": timings}))


if __name__ == "__main__":
    main()
