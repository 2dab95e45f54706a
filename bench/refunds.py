"""Refund execution throughput against a misbehaving payment provider (issue #11).

    .venv/bin/python bench/refunds.py [--refunds 10000] [--workers 2] [--concurrency 8] [--keep-db]

1. Creates a scratch PostgreSQL database of its own (``aftersales_bench_refunds_<pid>`` on BENCH_PG_URL,
   default postgres://postgres@127.0.0.1:5432/postgres: two runs at once never share one), migrates it, and
   bulk-creates (model instances, history triggers off) ``--refunds`` refund-only tickets approved by
   finance, each with its pending refund and refund line.
2. Starts the HTTP sandbox (``manage.py run_refund_sandbox``) on 127.0.0.1 with 20 ms latency, 5 % declines,
   5 % transient errors and 2 % timeouts after the money moved (answered after 1 s; the adapter gives up
   after REFUND_GATEWAY_TIMEOUT = 0.5 s), ledger in the bench database.
3. Queues every refund on a Redis queue of its own (the dispatcher's code path), then starts ``--workers``
   Celery worker processes (prefork, ``--concurrency`` each) with REFUND_GATEWAY=refunds.sandbox.HttpGateway.
4. Waits until every refund is finished, runs the reconciliation once (as its periodic task would), and
   prints refunds/s (first gateway call to last refund finished), retries, status checks, what the
   reconciliation settled, and the money check: double movements (must be 0), paid but not recorded,
   recorded but not paid. Then the CPU seconds per refund of workers, sandbox and PostgreSQL.
5. Always stops the processes and drops the database (unless --keep-db): on success, failure, Ctrl-C
   or SIGTERM.

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
from api import _children, _cpu_seconds, free_port, run_step  # bench/api.py's helpers
from scratch import drop_database, parse_arguments, pg_urls, recreate_database

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
GOAL = 200  # refunds per second
SANDBOX = ["--latency-ms", "20", "--decline-rate", "0.05", "--error-rate", "0.05",
           "--timeout-after-success-rate", "0.02", "--hang-ms", "1000", "--seed", "11"]


def environment(db_url: str, sandbox_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL,
                "SECRET_KEY": "bench-only-secret", "DEBUG": "0", "CONN_MAX_AGE": "600", "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1", "REFUND_GATEWAY": "refunds.sandbox.HttpGateway",
                "REFUND_GATEWAY_URL": f"http://127.0.0.1:{sandbox_port}", "REFUND_GATEWAY_TIMEOUT": "0.5"})
    return env


def seed(count: int) -> None:
    """``count`` refund-only tickets awaiting refund, finance approved, one order line each, and their
    pending refunds. Built as model instances and written with ``bulk_create`` (history triggers off: the
    setup, not the bench), so every column gets the model's value or default: a column added later cannot
    be left out, and one without a default fails loudly here instead of silently in the bench's SQL."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from aftersales import clock
    from orders.models import Buyer, Order, OrderLine, Shop
    from reasons.models import Reason
    from refunds.models import Refund, RefundLine
    from tickets.models import Ticket, TicketLine

    user = get_user_model().objects.create(username="benchbuyer", password="!")
    buyer = Buyer.objects.create(account="benchbuyer", user=user, level=1, address="1 Bench Road")
    shop = Shop.objects.create(code="BENCH", name="Bench Shop", return_address="1 Depot Road")
    reason = Reason.objects.offered().first()
    now, price, paid = clock.now(), Decimal("10.00"), Decimal("30.00")
    day = dt.timedelta(days=1)
    batch = 2000
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        for start in range(1, count + 1, batch):
            ids = range(start, min(start + batch, count + 1))
            orders = Order.objects.bulk_create([
                Order(id=i, order_no=f"RB{i:08d}", shop=shop, buyer=buyer, status=Order.Status.DELIVERED,
                      placed_at=now - 3 * day, paid_at=now - 3 * day, shipped_at=now - 2 * day,
                      delivered_at=now - day, goods_amount=paid, amount_paid=paid) for i in ids])
            lines = OrderLine.objects.bulk_create([
                OrderLine(id=o.id, order=o, line_id=f"{o.order_no}-1", sku="SKU-1", product_name="Product",
                          product_code="P-1", category=OrderLine.Category.GENERAL, unit_price=price, quantity=3,
                          paid_amount=paid) for o in orders])
            tickets = Ticket.objects.bulk_create([
                Ticket(id=o.id, ticket_no=f"RB{o.id:010d}", order=o, buyer=buyer, shop=shop,
                       type=Ticket.Type.REFUND_ONLY, status=Ticket.Status.AWAITING_REFUND, reason=reason,
                       description="Bench claim", goods_amount=paid, refund_amount=paid, created_at=now,
                       reviewed_at=now, approved_at=now, review_started_at=now, refund_requested_at=now)
                for o in orders])
            TicketLine.objects.bulk_create([
                TicketLine(id=t.id, ticket=t, order_line=line, quantity=3, refund_amount=paid)
                for t, line in zip(tickets, lines, strict=True)])
            refunds = Refund.objects.bulk_create([
                Refund(id=t.id, ticket=t, amount=paid, created_at=now - dt.timedelta(minutes=1)) for t in tickets])
            RefundLine.objects.bulk_create([
                RefundLine(refund=r, order_line=line, amount=paid) for r, line in zip(refunds, lines, strict=True)])
        with connection.cursor() as cursor:
            for model in (Order, OrderLine, Ticket, TicketLine, Refund):
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [model._meta.db_table, count])
    with connection.cursor() as cursor:
        for model in (OrderLine, Ticket, Refund, RefundLine):
            cursor.execute(f"ANALYZE {model._meta.db_table}")


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
    args = parse_arguments(parser, "aftersales_bench_refunds")

    admin_url, db_url = pg_urls(args.db_name)
    port, queue = free_port(), f"bench-refunds-{uuid.uuid4().hex[:6]}"
    env = environment(db_url, port)
    processes: list[subprocess.Popen] = []
    print(f"bench: {args.refunds:,} refunds, {args.workers} workers x {args.concurrency}, sandbox {' '.join(SANDBOX)};"
          f" database {args.db_name}")
    os.environ.update(env)  # this process is a Django client of the bench database too
    sys.path.insert(0, str(ROOT))
    try:
        recreate_database(admin_url, args.db_name)
        run_step("migrate", [sys.executable, "manage.py", "migrate", "--noinput"], env, timeout=600)
        return run(args, processes, env, port, queue)
    finally:
        for proc in processes:
            stop(proc)
        redis.Redis.from_url(REDIS_URL).delete(queue)
        if "django.db" in sys.modules:
            sys.modules["django.db"].connections.close_all()
        if not args.keep_db:
            drop_database(admin_url, args.db_name)


def run(args, processes: list[subprocess.Popen], env: dict[str, str], port: int, queue: str) -> int:
    import django

    django.setup()
    from django.db import connection

    from aftersales import clock
    from config.celery_app import app as celery_app
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

    cpu_before = cpu({"sandbox": [sandbox.pid]}, args.db_name)
    started = time.perf_counter()
    workers = [start("-m", "celery", "-A", "config.celery_app", "worker", "--pool=prefork", f"--concurrency={args.concurrency}",
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
    cpu_after = cpu({"workers": [w.pid for w in workers], "sandbox": [sandbox.pid]}, args.db_name)
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
