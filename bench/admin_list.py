"""The ops queue at scale: the ticket list and a ticket's page with 10,000 and with 1,000,000 tickets.

    .venv/bin/python bench/admin_list.py [--small 10000] [--large 1000000] [--runs 7]

1. Creates a scratch PostgreSQL database (``aftersales_bench_admin_<pid>``, this run's own, on
   BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres) and migrates it.
2. Loads ``--small`` tickets with ``manage.py seed_bulk``, measures, loads up to ``--large``, measures again.
3. Measures in-process through Django's test client as a user of the ops group, DEBUG off: for each page,
   two warm-up requests, then ``--runs`` timed ones; prints the median time and the number of SQL queries.
4. Prints both sizes side by side and the goal: the list at the large size within 1.5 x the small size,
   query counts independent of size. Always drops the database at the end (unless --keep-db).
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

from scratch import drop_database, parse_arguments, pg_urls, recreate_database, setup_django, staff_user

GOAL = 1.5


def measure(client, url: str, params: dict, runs: int) -> tuple[float, int]:
    # Django is set up in main(), against the scratch database: its modules are imported after that.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        assert client.get(url, params).status_code == 200, url
    times, queries = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, params)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        queries.append(len(captured.captured_queries))
    return statistics.median(times) * 1000, max(queries)


def scenarios(ticket_id: int, ticket_no: str) -> dict[str, tuple[str, dict]]:
    from datetime import timedelta

    # Django is set up in main(), against the scratch database: its modules are imported after that.
    from django.utils import timezone

    week_ago = (timezone.localdate() - timedelta(days=7)).isoformat()
    return {
        "list, default order (due first)": ("/admin/tickets/ticket/", {}),
        "list, status = pending review": ("/admin/tickets/ticket/", {"status__exact": "pending_review"}),
        "list, applied in the last 7 days": ("/admin/tickets/ticket/", {"created_at__range__gte": week_ago}),
        "list, partial search": ("/admin/tickets/ticket/", {"q": ticket_no[-7:]}),
        "list, sent back by finance": ("/admin/tickets/ticket/", {"attention": "sent_back"}),
        "ticket page": (f"/admin/tickets/ticket/{ticket_id}/change/", {}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parse_arguments(parser, "aftersales_bench_admin")

    admin_url, db_url = pg_urls(args.db_name)
    recreate_database(admin_url, args.db_name)
    static_root = tempfile.mkdtemp(prefix="bench-static-")  # DEBUG off: static files as in production
    try:
        setup_django(db_url, STATIC_ROOT=static_root)
        from django.core.management import call_command
        from django.test import Client

        from tickets.models import Ticket

        call_command("collectstatic", interactive=False, verbosity=0)
        client = Client()
        client.force_login(staff_user("bench-ops", "ops"))
        results = {}
        for size in (args.small, args.large):
            started = time.perf_counter()
            call_command("seed_bulk", str(size - Ticket.objects.count()), stdout=open(os.devnull, "w"))
            print(f"{size:,} tickets loaded in {time.perf_counter() - started:.0f} s", flush=True)
            probe = Ticket.objects.filter(status="pending_review").order_by("pk")[size // 2 // 5]
            results[size] = {name: measure(client, url, params, args.runs)
                             for name, (url, params) in scenarios(probe.pk, probe.ticket_no).items()}
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
        if not args.keep_db:
            drop_database(admin_url, args.db_name)

    small, large = args.small, args.large
    print(f"\n{'page':<36} {small:>10,} ms {'queries':>7} {large:>12,} ms {'queries':>7}  large/small")
    worst, same_queries = 0.0, True
    for name in results[small]:
        (t_small, q_small), (t_large, q_large) = results[small][name], results[large][name]
        ratio = t_large / t_small
        worst = max(worst, ratio) if name.startswith("list") else worst
        same_queries &= q_small == q_large
        print(f"{name:<36} {t_small:>13.1f} {q_small:>7} {t_large:>15.1f} {q_large:>7}  {ratio:>6.2f}x")
    print(f"\nGoal: every list at {large:,} within {GOAL}x of {small:,}: worst {worst:.2f}x -> "
          f"{'met' if worst <= GOAL else 'NOT MET'}; query counts independent of size: "
          f"{'yes' if same_queries else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
