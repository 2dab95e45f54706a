"""Webhook delivery: 10,000 events to a local receiver, and the delay from commit to arrival (issue #22).

    .venv/bin/python bench/webhooks.py [--events 10000] [--rate 50] [--seconds 30] [--concurrency 2] [--keep-db]

1. Creates a scratch PostgreSQL database of its own (``aftersales_bench_webhooks_<pid>`` on BENCH_PG_URL,
   default postgres://postgres@127.0.0.1:5432/postgres), migrates it, loads tickets with ``manage.py
   seed_bulk`` and registers one endpoint (events.services.register_endpoint; http and 127.0.0.1 allowed by
   WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1, WEBHOOK_REQUIRE_HTTPS=0) for the shop of the first ``--tickets``.
2. Starts the receiver in a process of its own: a small asyncio HTTP/1.1 server on 127.0.0.1 (keep-alive,
   answers 200 at once, records each webhook-id's first arrival time and counts repeats), and a real Celery
   worker against Redis (prefork, ``--concurrency``, a queue of its own; WEBHOOK_DELIVERY=celery).
3. Baseline, in the same run: the receiver's own capacity, a plain http.client loop POSTing a signed event
   body over one keep-alive connection (what one sender in order, which is what an endpoint gets, can
   reach at most), and its round trip p50/p99.
4. Throughput: ``--events`` events written in bulk with the outbox's own model (Event rows with the ticket
   as the buyer sees it, five per ticket, interleaved, in committed transactions of 1,000; not through the
   ticket services, which would take minutes), then, timed: the sequencer (events.outbox.sequence, which
   queues the deliveries) and the wake of the endpoint (events.tasks.start) until the worker has delivered
   every one. Prints events/s from the first sequencing to the last delivery recorded in the database.
5. Latency: ``--rate`` events per second for ``--seconds``, each written by the outbox's writer
   (events.outbox.record_timeline_event on a ticket's submit row: the ticket.submitted event, its payload
   built as a service's commit builds it) in a transaction of its own; its commit time is taken by the
   first on-commit callback, before the outbox's own wake (sequence, then hand to the worker). Prints the
   p50/p99/max delay from commit to arrival at the receiver.
6. Always stops the processes, deletes the queue and drops the database (unless --keep-db).
Redis is REDIS_URL (default redis://127.0.0.1:6379/0). Goals (the issue): >= 500 events/s, p99 < 1 s.
"""

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from api import free_port
from scratch import drop_database, parse_arguments, pg_urls, recreate_database, setup_django

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
HOST = "127.0.0.1"
GOAL_RATE, GOAL_P99 = 500.0, 1.0  # events/s; seconds
ROUNDS = ["ticket.submitted", "ticket.approved", "shipment.return_sent", "ticket.awaiting_refund",
          "refund.succeeded"]  # five events per ticket in the throughput part, one round after another


# ------------------------------------------------------------------------------------------- receiver


def serve(port: int, ready) -> None:
    """The receiver (its own process): 200 to every POST; GET /_stats, GET /_arrivals, POST /_reset."""
    arrivals: dict[str, float] = {}
    counts = {"posts": 0}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                now = time.time()
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[:2]
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                length = int(headers.get("content-length", "0"))
                if length:
                    await reader.readexactly(length)
                body = b"ok"
                if path == "/_stats":
                    body = json.dumps({"posts": counts["posts"], "unique": len(arrivals)}).encode()
                elif path == "/_arrivals":
                    body = json.dumps(arrivals).encode()
                elif path == "/_reset":
                    arrivals.clear()
                    counts["posts"] = 0
                elif method == "POST":
                    counts["posts"] += 1
                    arrivals.setdefault(headers.get("webhook-id", ""), now)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n%s"
                             % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, HOST, port, backlog=128)
        ready.set()
        async with server:
            await server.serve_forever()

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    asyncio.run(main())


def control(port: int, path: str, method: str = "GET"):
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path)
        return json.loads(conn.getresponse().read() or b"null") if method == "GET" else None
    finally:
        conn.close()


def baseline(port: int, body: bytes, headers: dict[str, str], count: int) -> tuple[float, float, float]:
    """A plain http.client loop, one keep-alive connection: (requests/s, p50 s, p99 s)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    times = []
    started = time.perf_counter()
    for i in range(count):
        sent = time.perf_counter()
        conn.request("POST", "/hook", body=body, headers={**headers, "webhook-id": f"baseline_{i}",
                                                           "content-type": "application/json"})
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - sent)
    wall = time.perf_counter() - started
    conn.close()
    return count / wall, *quantiles(times)


def quantiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values), cuts[98]


# ---------------------------------------------------------------------------------------------- worker


def start_worker(env: dict[str, str], queue: str, concurrency: int, log) -> subprocess.Popen:
    """A `celery worker` on the bench's queue, whose own re-queues (a run that spent its budget) go there too;
    its output to ``log`` (shown if the bench fails)."""
    code = ("import sys; from config.celery_app import app; "
            f"app.conf.update(CELERY_TASK_DEFAULT_QUEUE={queue!r}); app.worker_main(sys.argv[1:])")
    return subprocess.Popen(
        [sys.executable, "-c", code, "worker", "--pool=prefork", f"--concurrency={concurrency}", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning", "-n", f"{queue}@%h"],
        cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)


def stop(proc) -> None:
    if isinstance(proc, subprocess.Popen):
        if proc.poll() is None:
            proc.terminate()  # the worker's warm shutdown stops its pool
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    elif proc.is_alive():
        proc.terminate()
        proc.join(10)


# ------------------------------------------------------------------------------------------------ data


def load(tickets: int) -> tuple:
    """Tickets (seed_bulk, 20 shops round robin) and the endpoint of the first shop. Returns (shop, the
    shop's ticket ids, endpoint)."""
    from django.core.management import call_command

    from events import services
    from orders.models import Shop
    from tickets.models import Ticket

    call_command("seed_bulk", str(tickets * 20), stdout=open(os.devnull, "w"))
    shop = Shop.objects.filter(code__startswith="BULK").order_by("code").first()
    ids = list(Ticket.objects.filter(shop=shop).order_by("pk").values_list("pk", flat=True)[:tickets])
    endpoint, _secret = services.register_endpoint(shop=shop, url="http://127.0.0.1:1/", description="bench")
    return shop, ids, endpoint


def write_bulk(shop, ticket_ids: list[int], count: int) -> None:
    """``count`` events with the outbox's model: the ticket as the buyer sees it (events.shapes.BuyerTicket,
    as record_timeline_event builds it), five per ticket, round after round, 1,000 per committed transaction."""
    from django.db import transaction

    from aftersales import clock
    from events.models import Event
    from events.shapes import BuyerTicket
    from tickets.models import Ticket

    per_round = min(len(ticket_ids), -(-count // len(ROUNDS)))
    chosen = ticket_ids[:per_round]
    views = {t.pk: t for t in Ticket.objects.filter(pk__in=chosen).select_related("order", "reason")
             .prefetch_related("lines__order_line", "refunds", "return_shipments", "outbounds")}
    shown = {pk: dict(BuyerTicket(views[pk]).data) for pk in chosen}
    now = clock.now()
    rows = [Event(type=kind, shop=shop, ticket_id=pk, ticket_no=views[pk].ticket_no, occurred_at=now,
                  data={"ticket": shown[pk]})
            for kind in ROUNDS for pk in chosen][:count]
    for start in range(0, len(rows), 1000):
        with transaction.atomic():
            Event.objects.bulk_create(rows[start:start + 1000])


# ------------------------------------------------------------------------------------------------- run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=50.0, help="events per second in the latency part")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the latency part")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (prefork)")
    parser.add_argument("--writers", type=int, default=4, help="threads committing the latency part's events")
    args = parse_arguments(parser, "aftersales_bench_webhooks")
    admin_url, db_url = pg_urls(args.db_name)
    port, queue = free_port(), f"bench-webhooks-{uuid.uuid4().hex[:6]}"
    latency_events = int(args.rate * args.seconds)
    tickets = max(-(-args.events // len(ROUNDS)), latency_events + 10)
    print(f"bench: {args.events:,} events, then {args.rate:g}/s for {args.seconds:g} s; worker prefork x"
          f" {args.concurrency}; database {args.db_name}", flush=True)
    env = {"REDIS_URL": REDIS_URL, "WEBHOOK_DELIVERY": "celery", "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
           "WEBHOOK_REQUIRE_HTTPS": "0", "CONN_MAX_AGE": "600", "PYTHONUNBUFFERED": "1", "ALLOWED_HOSTS": HOST}
    processes: list = []
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Event()
    receiver = spawn.Process(target=serve, args=(port, ready), daemon=True)
    receiver.start()
    processes.append(receiver)
    try:
        if not ready.wait(30):
            raise RuntimeError("the receiver did not start")
        recreate_database(admin_url, args.db_name)
        setup_django(db_url, **env)
        return run(args, processes, port, queue, tickets, latency_events)
    finally:
        for proc in reversed(processes):
            stop(proc)
        if "django.db" in sys.modules:
            sys.modules["django.db"].connections.close_all()
            import redis

            redis.Redis.from_url(REDIS_URL).delete(queue)
        if not args.keep_db:
            drop_database(admin_url, args.db_name)


def run(args, processes: list, port: int, queue: str, tickets: int, latency_events: int) -> int:
    from django.db import connection, transaction

    from aftersales import clock
    from config.celery_app import app as celery_app
    from events import delivery, outbox, signing, tasks
    from events.models import Delivery, Endpoint, Event
    from tickets.models import TimelineEvent

    celery_app.conf.update(CELERY_TASK_DEFAULT_QUEUE=queue, CELERY_TASK_ALWAYS_EAGER=False)
    started = time.perf_counter()
    shop, ticket_ids, endpoint = load(tickets)
    Endpoint.objects.filter(pk=endpoint.pk).update(url=f"http://{HOST}:{port}/hook")
    endpoint.refresh_from_db()
    print(f"  seed: {len(ticket_ids):,} tickets of shop {shop.code} (of {tickets * 20:,}), one endpoint:"
          f" {time.perf_counter() - started:.1f} s", flush=True)

    # The worker, warmed by one event through the whole path.
    worker_log = tempfile.TemporaryFile("w+")
    processes.append(start_worker(os.environ.copy(), queue, args.concurrency, worker_log))
    submits = dict(TimelineEvent.objects.filter(ticket_id__in=ticket_ids, transition="submit")
                   .values_list("ticket_id", "pk"))
    latency_tickets = iter(ticket_ids[-latency_events - 10:])
    warm = _write_one(next(latency_tickets), submits, outbox, transaction, TimelineEvent)[0]
    if not _wait(lambda: control(port, "/_stats")["unique"] >= 1, 60):
        raise RuntimeError("the warm-up event never arrived: is the worker running?")
    print(f"  worker up, warm-up event {warm} delivered", flush=True)
    connection.close()

    # Baseline: the receiver's own capacity for one sender in order.
    sample = Event.objects.filter(pk__isnull=False).select_related("shop").first()
    body = delivery.body_of(sample)
    now = clock.now()
    headers = signing.headers([endpoint.secret], msg_id=str(sample.uuid), timestamp=int(now.timestamp()), body=body)
    base_rate, base_p50, base_p99 = baseline(port, body, headers, max(2000, args.events // 2))
    control(port, "/_reset", "POST")

    # Throughput.
    started = time.perf_counter()
    write_bulk(shop, ticket_ids, args.events)
    written = time.perf_counter() - started
    print(f"  wrote {args.events:,} events in bulk (Event rows, 1,000 a transaction): {written:.1f} s", flush=True)
    first_new = Event.objects.filter(position__isnull=True).order_by("pk").values_list("pk", flat=True).first()
    started = time.perf_counter()
    sequenced = 0
    while True:
        endpoints = outbox.sequence()
        if not endpoints:
            break
        sequenced += 1
        for endpoint_id in sorted(endpoints):
            tasks.start(endpoint_id)
    sequencing = time.perf_counter() - started
    mine = Delivery.objects.filter(event_id__gte=first_new)
    last, last_change = -1, time.monotonic()
    while True:
        done = mine.filter(status=Delivery.Status.DELIVERED).count()
        if done >= args.events:
            break
        if done != last:
            last, last_change = done, time.monotonic()
        elif time.monotonic() - last_change > 60:
            print(f"  no progress for 60 s at {done:,}: stopping the wait", flush=True)
            break
        time.sleep(0.02)
    wall = time.perf_counter() - started
    stats = control(port, "/_stats")
    attempts = Delivery.objects.filter(event_id__gte=first_new).values_list("attempts", flat=True)
    retried = sum(1 for a in attempts if a > 1)
    rate = done / wall
    print(f"  delivered {done:,} in {wall:.2f} s (sequencing {sequencing:.2f} s in {sequenced} runs);"
          f" receiver: {stats['unique']:,} ids, {stats['posts'] - stats['unique']} repeats; {retried} retried",
          flush=True)

    # Latency at a steady rate: one event per transaction, as the services commit them, from --writers
    # threads (as from several web workers), event i due at i / rate.
    control(port, "/_reset", "POST")
    committed: dict[str, float] = {}
    late = [0]
    plan = [next(latency_tickets) for _ in range(latency_events)]
    interval, started = 1 / args.rate, time.monotonic() + 0.2

    def writer(k: int) -> None:
        try:
            for i in range(k, latency_events, args.writers):
                pause = started + i * interval - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                elif pause < -interval:
                    late[0] += 1
                event_id, at = _write_one(plan[i], submits, outbox, transaction, TimelineEvent)
                committed[event_id] = at
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(args.writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    offered = len(committed) / (time.monotonic() - started)
    _wait(lambda: control(port, "/_stats")["unique"] >= latency_events, 60)
    arrivals = control(port, "/_arrivals")
    delays = [arrivals[k] - v for k, v in committed.items() if k in arrivals]
    missing = latency_events - len(delays)
    p50, p99 = quantiles(delays)

    print()
    print(f"throughput:   {rate:6.0f} events/s   (goal >= {GOAL_RATE:.0f}; {done:,} events, Celery worker"
          f" prefork x {args.concurrency}, from the first sequencing to the last delivery recorded)")
    print(f"  baseline:   {base_rate:6.0f} POST/s     (the receiver alone: a plain http.client loop, one"
          f" keep-alive connection, the same signed body; round trip p50 {base_p50 * 1000:.2f} ms,"
          f" p99 {base_p99 * 1000:.2f} ms)")
    print(f"  ratio:      {rate / base_rate:6.0%}            of the receiver's capacity for one sender in order")
    print(f"latency:      p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms"
          f"   (goal p99 < {GOAL_P99 * 1000:.0f} ms; commit -> arrival, {len(delays):,} events at"
          f" {offered:.1f}/s offered by {args.writers} threads, {late[0]} late to the schedule, {missing} not arrived)")
    print(f"  baseline:   p50 {base_p50 * 1000:.2f} ms, p99 {base_p99 * 1000:.2f} ms   (the plain POST round trip)")
    ok = rate >= GOAL_RATE and p99 < GOAL_P99 and missing == 0 and done >= args.events
    if processes[-1].poll() is not None or missing or done < args.events:
        worker_log.seek(0)
        print("worker's output:\n" + worker_log.read()[-4000:])
    print("goals:        " + ("met" if ok else "NOT met"))
    return 0 if ok else 1


def _write_one(ticket_id: int, submits: dict, outbox, transaction, TimelineEvent) -> tuple[str, float]:
    """The ticket's submitted event, written by the outbox's writer in a transaction of its own. Returns
    (webhook id, commit time): the time is taken by the first on-commit callback, before the outbox's wake."""
    committed = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))
        row = TimelineEvent.objects.get(pk=submits[ticket_id])
        (event,) = outbox.record_timeline_event(row)
    return str(event.uuid), committed[0]


def _wait(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


if __name__ == "__main__":
    sys.exit(main())
