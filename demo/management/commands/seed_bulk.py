"""manage.py seed_bulk N: N more realistic tickets, quickly, for measuring the screens at scale (PostgreSQL).

Rows are generated in SQL (INSERT ... SELECT FROM generate_series), in batches: orders with one line each,
a ticket per order in a spread of types, statuses, ages and due times, its line and its submit event.
This is data for benchmarks, written straight into the tables: the history triggers are switched off for
the load when the database user may do so (session_replication_role), so no history rows are kept for it.
Never run it against a database whose data matters."""

import time

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import connection, transaction

from aftersales.management.base import RecordedCommand
from orders.models import Buyer, Shop
from reasons.models import Reason

BUYERS, SHOPS, BATCH = 2000, 20, 100_000

# g % 20 -> status, and the due time that status has (tickets.due), relative to the ticket creation
# ("%%" in the SQL: it goes through psycopg's placeholders).
STATUS_SQL = """CASE g %% 20 WHEN 0 THEN 'pending_review' WHEN 1 THEN 'pending_review' WHEN 2 THEN 'pending_review'
    WHEN 3 THEN 'pending_review' WHEN 4 THEN 'awaiting_return' WHEN 5 THEN 'awaiting_return'
    WHEN 6 THEN 'awaiting_refund' WHEN 7 THEN 'awaiting_refund' WHEN 8 THEN 'awaiting_exchange'
    WHEN 9 THEN 'rejected' WHEN 10 THEN 'cancelled' WHEN 11 THEN 'closed' ELSE 'completed' END"""
DUE_SQL = """CASE WHEN g %% 20 < 4 THEN t + interval '48 hours' WHEN g %% 20 < 6 THEN t + interval '7 days'
    WHEN g %% 20 < 9 THEN t + interval '72 hours' END"""
KIND_SQL = """CASE WHEN g %% 20 < 4 THEN 'review' WHEN g %% 20 < 6 THEN 'return' WHEN g %% 20 < 8 THEN 'refund'
    WHEN g %% 20 < 9 THEN 'replacement' ELSE '' END"""
TYPE_SQL = "CASE g %% 3 WHEN 0 THEN 'refund_only' WHEN 1 THEN 'return_refund' ELSE 'exchange' END"
# Spread over 120 days, minute by minute; the newest a few minutes old.
SERIES = """SELECT g, now() - ((g::bigint * 7919) %% 172800) * interval '1 minute' AS t
            FROM generate_series(%(first)s::int, %(last)s::int) AS g"""


class Command(RecordedCommand):
    help = "Add N realistic tickets (with orders, lines and submit events) quickly, for benchmarks. PostgreSQL only."

    def add_arguments(self, parser):
        parser.add_argument("count", type=int)

    def handle(self, *args, count, **options):
        if connection.vendor != "postgresql":
            raise CommandError("seed_bulk writes with PostgreSQL's generate_series: point DATABASE_URL at PostgreSQL.")
        if count < 1:
            raise CommandError("Give a number of tickets of at least 1.")
        started = time.monotonic()
        shops, buyers = self._shops(), self._buyers()
        reasons = list(Reason.objects.offered().values_list("pk", flat=True))
        done = 0
        while done < count:
            size = min(BATCH, count - done)
            self._batch(size, shops, buyers, reasons)
            done += size
            self.stdout.write(f"  {done:,} / {count:,} tickets")
        # VACUUM also writes the visibility map, as autovacuum soon would on a live database: without it
        # an index-only scan (the queue's date range) still reads every row's page. Inside a transaction
        # (a test) only ANALYZE may run.
        verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for table in ("orders_order", "orders_orderline", "tickets_ticket", "tickets_ticketline",
                          "tickets_timelineevent"):
                cursor.execute(f"{verb} {table}")
        self.stdout.write(self.style.SUCCESS(f"{count:,} tickets added in {time.monotonic() - started:.0f} s."))

    def _shops(self) -> list[int]:
        for i in range(SHOPS):
            Shop.objects.get_or_create(code=f"BULK{i:02d}", defaults={"name": f"Bulk shop {i}",
                                                                      "return_address": "1 Depot Road"})
        return list(Shop.objects.filter(code__startswith="BULK").values_list("pk", flat=True))

    def _buyers(self) -> list[int]:
        User = get_user_model()
        have = set(Buyer.objects.filter(account__startswith="bulk").values_list("account", flat=True))
        new = [f"bulk{i:05d}" for i in range(BUYERS) if f"bulk{i:05d}" not in have]
        users = User.objects.bulk_create([User(username=name, password="!") for name in new])
        Buyer.objects.bulk_create([Buyer(account=user.username, user=user, level=1 + len(user.username) % 5,
                                         address="8 Garden Lane") for user in users])
        return list(Buyer.objects.filter(account__startswith="bulk").values_list("pk", flat=True))

    @transaction.atomic
    def _batch(self, size: int, shops: list[int], buyers: list[int], reasons: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                cursor.execute("SET LOCAL session_replication_role = replica")  # no history triggers for bench data
            first = self._reserve(cursor, size)
            params = {"first": first, "last": first + size - 1, "shops": shops, "buyers": buyers, "reasons": reasons}
            cursor.execute(f"""
                INSERT INTO orders_order (id, order_no, shop_id, buyer_id, status, placed_at, paid_at, shipped_at,
                    delivered_at, goods_amount, shipping_fee, coupon_discount, virtual_currency, amount_paid,
                    created_at, updated_at)
                SELECT g, 'BK' || lpad(g::text, 10, '0'), (%(shops)s::int[])[1 + g %% cardinality(%(shops)s::int[])],
                    (%(buyers)s::int[])[1 + g %% cardinality(%(buyers)s::int[])], 'delivered',
                    t - interval '3 days', t - interval '3 days', t - interval '2 days', t - interval '1 day',
                    20.00, 0, 0, 0, 20.00, t, t
                FROM ({SERIES}) s""", params)
            cursor.execute(f"""
                INSERT INTO orders_orderline (id, order_id, line_id, sku, product_name, product_code, category,
                    unit_price, quantity, paid_amount)
                SELECT g, g, 'BK' || lpad(g::text, 10, '0') || '-1', 'SKU-' || (g %% 500), 'Product ' || (g %% 500),
                    'P-' || (g %% 500), 'general', 10.00, 2, 20.00
                FROM ({SERIES}) s""", params)
            cursor.execute(f"""
                INSERT INTO tickets_ticket (id, ticket_no, order_id, buyer_id, shop_id, type, status, reason_id,
                    description, goods_amount, shipping_refund, coupon_refund, virtual_currency_refund, service_fee,
                    fee_reason, refund_amount, is_compensation, rejection_reason, finance_rejection_reason,
                    return_contact, return_phone, return_address, intercept_requested, created_at, review_started_at,
                    next_deadline_at, next_deadline_kind, escalated_at, updated_at)
                SELECT g, 'AS' || to_char(t, 'YYYYMMDD') || lpad(g::text, 6, '0'), g,
                    (%(buyers)s::int[])[1 + g %% cardinality(%(buyers)s::int[])],
                    (%(shops)s::int[])[1 + g %% cardinality(%(shops)s::int[])], {TYPE_SQL}, {STATUS_SQL},
                    (%(reasons)s::int[])[1 + g %% cardinality(%(reasons)s::int[])], 'Bulk claim', 20.00, 0, 0, 0, 0,
                    '', CASE WHEN g %% 3 = 2 THEN 0 ELSE 20.00 END, false, '', '', '', '', '', false, t, t,
                    {DUE_SQL}, {KIND_SQL}, CASE WHEN g %% 50 = 0 THEN t + interval '49 hours' END, t
                FROM ({SERIES}) s""", params)
            cursor.execute(f"""
                INSERT INTO tickets_ticketline (id, ticket_id, order_line_id, quantity, refund_amount)
                SELECT g, g, g, 2, 20.00 FROM ({SERIES}) s""", params)
            cursor.execute(f"""
                INSERT INTO tickets_timelineevent (ticket_id, actor_id, actor_role, at, transition, from_status,
                    to_status, reason, changes, buyer_visible)
                SELECT g, NULL, 'buyer', t, 'submit', '', 'pending_review', '', '{{}}'::jsonb, true
                FROM ({SERIES}) s""", params)

    def _reserve(self, cursor, size: int) -> int:
        """A block of ``size`` ids free in orders, order lines, tickets and ticket lines alike (one id per
        bulk ticket in each), the sequences moved past it."""
        tables = ("orders_order", "orders_orderline", "tickets_ticket", "tickets_ticketline")
        cursor.execute(" UNION ALL ".join(f"SELECT COALESCE(max(id), 0) FROM {t}" for t in tables))
        first = max(row[0] for row in cursor.fetchall()) + 1
        for table in tables:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [first + size - 1])
        return first
