"""The deadline sweep at scale: nothing due among 10,000 and among 1,000,000 open tickets, then 10,000 due.

    .venv/bin/python bench/deadlines.py [--small 10000] [--large 1000000] [--due 10000] [--runs 15]

1. Creates a scratch PostgreSQL database (``aftersales_bench_deadlines_<pid>``, this run's own, on
   BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres) and migrates it (bench/scratch.py).
2. Loads ``--small`` tickets with ``manage.py seed_bulk``, moves every due time a month ahead (nothing due),
   times the sweep ``--runs`` times (median) and shows the probe's plan; loads up to ``--large`` and does
   the same: the empty sweep should not grow with the tickets (an index probe, goal under 20 ms).
3. Makes ``--due`` tickets due, consistently with their state (pending review: the review SLA; awaiting
   return of goods-back tickets: the return deadline; awaiting refund: the refund SLA after the goods
   arrived; awaiting exchange: the replacement's), and times one sweep acting on all of them through the
   services, one timeline row each (goal: 10,000 in under 20 s). Checks nothing due is left.
4. Always drops the database at the end (unless --keep-db).
Runs in this process against the scratch database (DEBUG off, no Redis: Celery eager, as the demo)."""

import argparse
import os
import statistics
import sys
import time

from scratch import drop_database, parse_arguments, pg_urls, recreate_database, setup_django

EMPTY_GOAL_MS, DUE_GOAL_S = 20.0, 20.0

NOTHING_DUE = """UPDATE tickets_ticket SET next_deadline_at = now() + interval '30 days' + mod(id, 1440) * interval '1 minute',
                     escalated_at = NULL
                 WHERE next_deadline_at IS NOT NULL AND (next_deadline_at < now() + interval '30 days'
                                                         OR escalated_at IS NOT NULL)"""
# (status, extra condition, share of --due, SET clause): each due as its state says.
MAKE_DUE = [
    ("pending_review", "", 0.4,
     "review_started_at = now() - interval '49 hours', next_deadline_at = now() - interval '1 hour', "
     "next_deadline_kind = 'review'"),
    ("awaiting_return", "AND type <> 'refund_only'", 0.3,
     "approved_at = now() - interval '8 days', return_deadline = now() - interval '1 day', "
     "next_deadline_at = now() - interval '1 day', next_deadline_kind = 'return'"),
    ("awaiting_refund", "AND refund_requested_at IS NULL", 0.2,
     "goods_received_at = now() - interval '50 hours', approved_at = now() - interval '60 hours', "
     "next_deadline_at = now() - interval '2 hours', next_deadline_kind = 'refund'"),
    ("awaiting_exchange", "AND replacement_shipped_at IS NULL", 0.1,
     "goods_received_at = now() - interval '50 hours', approved_at = now() - interval '60 hours', "
     "next_deadline_at = now() - interval '2 hours', next_deadline_kind = 'replacement'"),
]


def sql(statement: str, params=None) -> None:
    """Bench data, changed straight in the table (without history rows, as seed_bulk loads it); the sweep
    itself runs with every trigger."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(statement, params)


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) tickets_ticket")


def empty_sweep(runs: int) -> tuple[float, str]:
    """Median time of a sweep with nothing due, and the plan of its probe."""
    from django.db import connection, transaction

    from aftersales import clock
    from tickets.deadlines import due_now, run_deadlines

    for _ in range(3):
        run_deadlines()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = run_deadlines()
        times.append(time.perf_counter() - started)
        assert not +done, done
    probe = due_now(clock.now()).order_by("next_deadline_at").select_for_update(skip_locked=True)
    with transaction.atomic(), connection.cursor() as cursor:
        query, params = probe.values_list("pk", "next_deadline_kind")[:200].query.sql_with_params()
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {query}", params)
        plan = "\n".join("    " + row[0] for row in cursor.fetchall())
    return statistics.median(times) * 1000, plan


def make_due(count: int) -> int:
    made = 0
    for i, (status, condition, share, assignments) in enumerate(MAKE_DUE):
        wanted = count - made if i == len(MAKE_DUE) - 1 else round(count * share)
        sql(f"""UPDATE tickets_ticket SET {assignments} WHERE id IN (
                    SELECT id FROM tickets_ticket WHERE status = %s {condition} ORDER BY id LIMIT %s)""",
            [status, wanted])
        made += wanted
    vacuum()
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2, help="sweep threads, as the periodic task (DEADLINE_SWEEP_WORKERS)")
    args = parse_arguments(parser, "aftersales_bench_deadlines")

    admin_url, db_url = pg_urls(args.db_name)
    recreate_database(admin_url, args.db_name)
    results = {}
    try:
        setup_django(db_url)
        from django.core.management import call_command

        from aftersales import clock
        from tickets.deadlines import due_now, run_deadlines
        from tickets.models import Ticket

        for size in (args.small, args.large):
            started = time.perf_counter()
            call_command("seed_bulk", str(size - Ticket.objects.count()), stdout=open(os.devnull, "w"))
            sql(NOTHING_DUE)
            vacuum()
            open_tickets = Ticket.objects.filter(next_deadline_at__isnull=False).count()
            print(f"{size:,} tickets ({open_tickets:,} open, none due) ready in {time.perf_counter() - started:.0f} s",
                  flush=True)
            results[size] = empty_sweep(args.runs)
            print(f"  sweep with nothing due: {results[size][0]:.2f} ms (median of {args.runs})\n{results[size][1]}",
                  flush=True)

        made = make_due(args.due)
        assert due_now(clock.now()).count() == made, (due_now(clock.now()).count(), made)
        started = time.perf_counter()
        done = run_deadlines(workers=args.workers)
        elapsed = time.perf_counter() - started
        left = due_now(clock.now()).count()
    finally:
        if not args.keep_db:
            from django.db import connections

            connections.close_all()
            drop_database(admin_url, args.db_name)

    (small_ms, _), (large_ms, _) = results[args.small], results[args.large]
    print(f"\nsweep, nothing due: {args.small:,} tickets {small_ms:.2f} ms, {args.large:,} tickets {large_ms:.2f} ms "
          f"(goal < {EMPTY_GOAL_MS:.0f} ms: {'met' if max(small_ms, large_ms) < EMPTY_GOAL_MS else 'NOT MET'})")
    print(f"sweep, {made:,} due among {args.large:,} ({args.workers} threads): {elapsed:.1f} s, {made / elapsed:,.0f} tickets/s, "
          f"left due: {left} (goal < {DUE_GOAL_S:.0f} s: {'met' if elapsed < DUE_GOAL_S and not left else 'NOT MET'})")
    print("  " + ", ".join(f"{label} {count:,}" for label, count in sorted(done.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
