"""Refund execution throughput against a misbehaving payment provider (issue #11).

    .venv/bin/python bench/refunds.py [--refunds 10000] [--workers 2] [--concurrency 8] [--keep-db]

1. Drops and recreates a scratch PostgreSQL database (``aftersales_bench_refunds`` on BENCH_PG_URL, default
   postgres://postgres@127.0.0.1:5432/postgres), migrates it, and bulk-inserts (SQL, history triggers off)
   ``--refunds`` refund-only tickets approved by finance, each with its pending refund and refund line.
2. Starts the HTTP sandbox (``manage.py run_refund_sandbox``) on 127.0.0.1 with 20 ms latency, 5 % declines,
   5 % transient errors and 2 % timeouts after the money moved (answered after 1 s; the adapter gives up
   after REFUND_GATEWAY_TIMEOUT = 0.5 s), ledger in the bench database.
3. Queues every refund on a Redis queue of its own (the dispatcher's code path), then starts ``--workers``
   Celery worker processes (prefork, ``--concurrency`` each) with REFUND_GATEWAY=refunds.sandbox.HttpGateway.
4. Waits until every refund is finished, runs the reconciliation once (as its periodic task would), and
   prints refunds/s (first gateway call to last refund finished), retries, status checks, what the
   reconciliation settled, and the money check: double movements (must be 0), paid but not recorded,
   recorded but not paid. Then the CPU seconds per refund of workers, sandbox and PostgreSQL.
5. Always stops the processes and drops the database (unless --keep-db).

Redis is REDIS_URL (default redis://127.0.0.1:6379/0); the queue is deleted at the end.
"""

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis
from api import _children, _cpu_seconds, free_port, pg_urls, run_step  # bench/api.py: the same helpers
from api import drop_database as drop
from api import recreate_database as recreate

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "aftersales_bench_refunds"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
GOAL = 200  # refunds per second
SANDBOX = ["--latency-ms", "20", "--decline-rate", "0.05", "--error-rate", "0.05",
           "--timeout-after-success-rate", "0.02", "--hang-ms", "1000", "--seed", "11"]


def environment(db_url: str, sandbox_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update({"DJANGO_SETTINGS_MODULE": "aftersales.settings", "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL,
                "SECRET_KEY": "bench-only-secret", "DEBUG": "0", "CONN_MAX_AGE": "600", "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1", "REFUND_GATEWAY": "refunds.sandbox.HttpGateway",
                "REFUND_GATEWAY_URL": f"http://127.0.0.1:{sandbox_port}", "REFUND_GATEWAY_TIMEOUT": "0.5"})
    return env


def seed(count: int) -> None:
    """``count`` refund-only tickets awaiting refund, finance approved, one order line each, and their
    pending refunds: written with INSERT ... SELECT, history triggers off (the setup, not the bench)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from aftersales import clock
    from orders.models import Buyer, Shop
    from reasons.models import Reason

    user = get_user_model().objects.create(username="benchbuyer", password="!")
    buyer = Buyer.objects.create(account="benchbuyer", user=user, level=1, address="1 Bench Road")
    shop = Shop.objects.create(code="BENCH", name="Bench Shop", return_address="1 Depot Road")
    reason = Reason.objects.offered().first()
    params = {"n": count, "buyer": buyer.pk, "shop": shop.pk, "reason": reason.pk, "now": clock.now()}
    series = "SELECT g, %(now)s::timestamptz AS t FROM generate_series(1, %(n)s) AS g"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"""
            INSERT INTO orders_order (id, order_no, shop_id, buyer_id, status, placed_at, paid_at, shipped_at,
                delivered_at, goods_amount, shipping_fee, coupon_discount, virtual_currency, amount_paid, created_at,
                updated_at)
            SELECT g, 'RB' || lpad(g::text, 8, '0'), %(shop)s, %(buyer)s, 'delivered', t - interval '3 days',
                t - interval '3 days', t - interval '2 days', t - interval '1 day', 30.00, 0, 0, 0, 30.00, t, t
            FROM ({series}) s""", params)
        cursor.execute(f"""
            INSERT INTO orders_orderline (id, order_id, line_id, sku, product_name, product_code, category,
                unit_price, quantity, paid_amount, refunded_amount)
            SELECT g, g, 'RB' || lpad(g::text, 8, '0') || '-1', 'SKU-1', 'Product', 'P-1', 'general', 10.00, 3,
                30.00, 0
            FROM ({series}) s""", params)
        cursor.execute(f"""
            INSERT INTO tickets_ticket (id, ticket_no, order_id, buyer_id, shop_id, type, status, reason_id,
                description, goods_amount, shipping_refund, coupon_refund, virtual_currency_refund, service_fee,
                fee_reason, refund_amount, is_compensation, rejection_reason, finance_rejection_reason,
                return_contact, return_phone, return_address, intercept_requested, created_at, reviewed_at,
                approved_at, review_started_at, refund_requested_at, next_deadline_kind, updated_at)
            SELECT g, 'RB' || lpad(g::text, 10, '0'), g, %(buyer)s, %(shop)s, 'refund_only', 'awaiting_refund',
                %(reason)s, 'Bench claim', 30.00, 0, 0, 0, 0, '', 30.00, false, '', '', '', '', '', false, t, t, t,
                t, t, '', t
            FROM ({series}) s""", params)
        cursor.execute(f"""
            INSERT INTO tickets_ticketline (id, ticket_id, order_line_id, quantity, refund_amount)
            SELECT g, g, g, 3, 30.00 FROM ({series}) s""", params)
        cursor.execute(f"""
            INSERT INTO refunds_refund (id, uuid, ticket_id, amount, shipping, coupon, virtual_currency, status,
                requested_by_id, created_at, attempts, gateway_reference, failure_reason)
            SELECT g, gen_random_uuid(), g, 30.00, 0, 0, 0, 'pending', NULL, t - interval '1 minute', 0, '', ''
            FROM ({series}) s""", params)
        cursor.execute(f"""
            INSERT INTO refunds_refundline (refund_id, order_line_id, amount) SELECT g, g, 30.00 FROM ({series}) s""",
                       params)
        for table in ("orders_order", "orders_orderline", "tickets_ticket", "tickets_ticketline", "refunds_refund"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [count])
        for table in ("orders_orderline", "tickets_ticket", "refunds_refund", "refunds_refundline"):
            cursor.execute(f"ANALYZE {table}")


def figures() -> dict:
    """What happened, read from the database: statuses, calls, timings, the money check."""
    from django.db import connection

    queries = {
        "succeeded": "SELECT count(*) FROM refunds_refund WHERE status = 'succeeded'",
        "failed": "SELECT count(*) FROM refunds_refund WHERE status = 'failed'",
        "unfinished": "SELECT count(*) FROM refunds_refund WHERE status IN ('pending', 'in_progress')",
        "runs": "SELECT coalesce(sum(attempts), 0) FROM refunds_refund",
        "refund_calls": "SELECT count(*) FROM refunds_refundattempt WHERE call = 'refund'",
        "transient_errors": "SELECT count(*) FROM refunds_refundattempt WHERE outcome = 'transient_error'",
        "timeouts": "SELECT count(*) FROM refunds_refundattempt WHERE outcome = 'timeout'",
        "status_checks": "SELECT count(*) FROM refunds_refundattempt WHERE call = 'status'",
        "status_found_paid": "SELECT count(*) FROM refunds_refundattempt WHERE call = 'status' AND outcome = 'succeeded'",
        "seconds": "SELECT extract(epoch FROM max(r.finished_at) - (SELECT min(at) FROM refunds_refundattempt))"
                   " FROM refunds_refund r",
        "payouts": "SELECT count(*) FROM refunds_gatewaypayout",
        "keys_paid_twice": "SELECT count(*) FROM (SELECT idempotency_key FROM refunds_gatewaypayout"
                           " GROUP BY idempotency_key HAVING count(*) > 1) k",
        "orders_paid_twice": "SELECT count(*) FROM (SELECT order_no FROM refunds_gatewaypayout"
                             " GROUP BY order_no HAVING count(*) > 1) o",
        "paid_not_recorded": "SELECT count(*) FROM refunds_gatewaypayout p JOIN refunds_refund r"
                             " ON r.uuid = p.idempotency_key WHERE r.status <> 'succeeded'",
        "recorded_not_paid": "SELECT count(*) FROM refunds_refund r WHERE r.status = 'succeeded' AND NOT EXISTS"
                             " (SELECT 1 FROM refunds_gatewaypayout p WHERE p.idempotency_key = r.uuid)",
        "money_mismatch": "SELECT (SELECT coalesce(sum(amount), 0) FROM refunds_gatewaypayout)"
                          " - (SELECT coalesce(sum(amount), 0) FROM refunds_refund WHERE status = 'succeeded')",
        "lines_over_cap": "SELECT count(*) FROM orders_orderline WHERE refunded_amount > paid_amount",
        "tickets_completed": "SELECT count(*) FROM tickets_ticket WHERE status = 'completed'",
    }
    out = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql)
            out[name] = cursor.fetchone()[0]
    return out


def cpu(groups: dict[str, list[int]], db_name: str) -> dict[str, dict[int, float]]:
    """CPU seconds so far per group: each given process with its children, and the database's backends."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [db_name])
        backends = [row[0] for row in cursor.fetchall()]
    pids = {name: {p for pid in roots for p in (pid, *_children(pid))} for name, roots in groups.items()}
    pids["postgresql"] = set(backends)
    return {name: {p: c for p in members if (c := _cpu_seconds(p)) is not None} for name, members in pids.items()}


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refunds", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8, help="processes per worker (prefork)")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    admin_url, db_url = pg_urls(DB_NAME)
    port, queue = free_port(), f"bench-refunds-{uuid.uuid4().hex[:6]}"
    env = environment(db_url, port)
    processes: list[subprocess.Popen] = []
    print(f"bench: {args.refunds:,} refunds, {args.workers} workers x {args.concurrency}, sandbox {' '.join(SANDBOX)}")
    recreate(admin_url, DB_NAME)
    os.environ.update(env)  # this process is a Django client of the bench database too
    sys.path.insert(0, str(ROOT))
    try:
        run_step("migrate", [sys.executable, "manage.py", "migrate", "--noinput"], env, timeout=600)
        return run(args, processes, env, port, queue)
    finally:
        for proc in processes:
            stop(proc)
        redis.Redis.from_url(REDIS_URL).delete(queue)
        if "django.db" in sys.modules:
            sys.modules["django.db"].connections.close_all()
        if not args.keep_db:
            drop(admin_url, DB_NAME)


def run(args, processes: list[subprocess.Popen], env: dict[str, str], port: int, queue: str) -> int:
    import django

    django.setup()
    from django.db import connection

    from aftersales import clock
    from aftersales.celery import app as celery_app
    from refunds.tasks import dispatch_pending_refunds, reconcile_refunds

    started = time.perf_counter()
    seed(args.refunds)
    print(f"  seed: {time.perf_counter() - started:.1f} s")

    def start(*cmd: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, *cmd], cwd=ROOT, env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=sys.stderr)
        processes.append(proc)
        return proc

    sandbox = start("manage.py", "run_refund_sandbox", "--port", str(port), *SANDBOX)
    celery_app.conf.update(CELERY_TASK_DEFAULT_QUEUE=queue, CELERY_TASK_ALWAYS_EAGER=False)
    started = time.perf_counter()
    queued = dispatch_pending_refunds(now=clock.now())
    print(f"  queued {queued:,} refunds: {time.perf_counter() - started:.1f} s")
    connection.close()

    cpu_before = cpu({"sandbox": [sandbox.pid]}, DB_NAME)
    started = time.perf_counter()
    workers = [start("-m", "celery", "-A", "aftersales", "worker", "--pool=prefork", f"--concurrency={args.concurrency}",
                     "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning",
                     "-n", f"bench{i}-{queue}@%h")
               for i in range(args.workers)]
    last, last_change = -1, time.monotonic()
    while True:
        time.sleep(1)
        now = figures()
        done = now["succeeded"] + now["failed"]
        print(f"  {time.perf_counter() - started:5.0f} s: {done:,} finished", flush=True)
        if done == args.refunds:
            break
        if done != last:
            last, last_change = done, time.monotonic()
        elif time.monotonic() - last_change > 60:
            print("  no progress for 60 s: stopping the wait", flush=True)
            break
    wall = time.perf_counter() - started
    cpu_after = cpu({"workers": [w.pid for w in workers], "sandbox": [sandbox.pid]}, DB_NAME)
    reconciled = reconcile_refunds(now=clock.now() + dt.timedelta(minutes=20))
    result = figures()
    used = {name: sum(c - cpu_before.get(name, {}).get(p, 0.0) for p, c in group.items())
            for name, group in cpu_after.items()}

    rate = (result["succeeded"] + result["failed"]) / float(result["seconds"] or wall)
    double = result["keys_paid_twice"] + result["orders_paid_twice"]
    print()
    print(f"refunds/s:              {rate:.0f}   (goal {GOAL}; {wall:.1f} s wall clock from worker start)")
    print(f"finished:               {result['succeeded']:,} succeeded, {result['failed']:,} declined,"
          f" {result['unfinished']} unfinished; {result['tickets_completed']:,} tickets completed")
    print(f"retries:                {result['runs'] - args.refunds:,} task runs beyond the first"
          f" ({result['transient_errors']} transient errors, {result['timeouts']} timeouts)")
    print(f"status checks:          {result['status_checks']:,} ({result['status_found_paid']} found the"
          f" money had moved)")
    print(f"reconciled:             {dict(reconciled)}")
    print(f"double movements:       {double}   (keys paid twice {result['keys_paid_twice']},"
          f" orders paid twice {result['orders_paid_twice']})")
    print(f"paid, not recorded:     {result['paid_not_recorded']}    recorded, not paid: "
          f"{result['recorded_not_paid']}    payouts - succeeded amounts: {result['money_mismatch']}")
    print(f"lines over their cap:   {result['lines_over_cap']}")
    print(f"CPU per refund:         {sum(used.values()) / args.refunds * 1000:.1f} ms: "
          + ", ".join(f"{name} {seconds / args.refunds * 1000:.1f}" for name, seconds in used.items())
          + f" ({os.cpu_count()} cores; includes the workers' start)")
    ok = double == 0 and result["paid_not_recorded"] == 0 and result["recorded_not_paid"] == 0
    return 0 if ok and result["unfinished"] == 0 else 1

if __name__ == "__main__":
    sys.exit(main())
