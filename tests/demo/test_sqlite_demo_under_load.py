"""The demo as `make demo` runs it (SQLite, no Redis, `runserver` with the in-process scheduler) answers a
stream of claims over the API while the scheduler's deadline sweep writes beside them: never a 5xx, never
Django's HTML error page (issue #21: "database is locked" answered 500 with the debug page).

A real server process on a SQLite file of its own: the suite's PostgreSQL is not what the demo runs on."""

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ORDERS = 100  # each with 5 units to claim one at a time: more than the run needs
CLAIMS_AT_LEAST = 50
ESCALATIONS_AT_LEAST = 5  # the sweep escalated this many of the new claims while claims kept coming


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_NAME")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="1", SECRET_KEY="demo-under-load",
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", MEDIA_ROOT=str(tmp_path / "media"),
               IN_PROCESS_BEAT="1", LOG_FORMAT="text", THROTTLE_USER="100000/min", THROTTLE_IP="100000/min")
    return env


def manage(env, *args, timeout=900) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


# Before the server starts: the sweep every second, and a review due 0.01 h (36 s) after a claim comes in,
# so the claims of this run fall due and are escalated by the scheduler while later ones are still coming.
BUSY_SCHEDULER = """
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from policies.models import Policy
every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
PeriodicTask.objects.filter(enabled=True).update(interval=every_second)
row = Policy.objects.get(key="review_sla_hours"); row.value = "0.01"; row.save()
"""


def call(url, *, token, body=None):
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def order(i: int, now: datetime) -> dict:
    no = f"LOAD-{i:03d}"
    return {"order_no": no, "shop": {"code": "HOME", "name": "Home Goods"},
            "buyer": {"account": "alice", "level": 3, "address": "Room 1201, 88 Century Avenue, Pudong, Shanghai"},
            "status": "delivered", "placed_at": (now - timedelta(days=3)).isoformat(),
            "paid_at": (now - timedelta(days=3)).isoformat(), "shipped_at": (now - timedelta(days=2)).isoformat(),
            "delivered_at": (now - timedelta(days=1)).isoformat(), "shipping_fee": "0.00",
            "coupon_discount": "0.00", "virtual_currency": "0.00", "amount_paid": "50.00",
            "lines": [{"line_id": f"{no}-1", "sku": "CUP", "product_name": "Tea cup", "category": "general",
                       "unit_price": "10.00", "quantity": 5}]}


def test_claims_over_the_api_while_the_in_process_scheduler_writes_never_get_a_5xx(tmp_path):
    env = demo_env(tmp_path)
    manage(env, "migrate", "--noinput")
    seeded = manage(env, "seed_demo")
    alice = re.search(r"alice\s+Authorization: Token (\w+)", seeded).group(1)
    service = manage(env, "issue_token", "service").strip().split()[-1]
    manage(env, "shell", "-c", BUSY_SCHEDULER)
    reason_id = re.search(r'"reason_id": (\d+)', seeded).group(1)

    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/health/live", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        now = datetime.now(UTC)
        status, _, content = call(f"{base}/api/v1/orders/import/", token=service,
                                  body={"orders": [order(i, now) for i in range(ORDERS)]})
        assert status == 200 and json.loads(content)["refused"] == [], content

        answers: list[tuple[int, str, bytes]] = []
        made: list[str] = []
        stop = threading.Event()
        slots = iter([(i, unit) for unit in range(5) for i in range(ORDERS)])
        lock = threading.Lock()

        def claim_until_told():
            while not stop.is_set():
                with lock:
                    slot = next(slots, None)
                if slot is None:
                    return
                body = {"order_no": f"LOAD-{slot[0]:03d}", "type": "return_refund", "reason_id": int(reason_id),
                        "description": "Too many cups.", "lines": [{"order_line_id": f"LOAD-{slot[0]:03d}-1",
                                                                    "quantity": 1}]}
                answer = call(f"{base}/api/v1/tickets/", token=alice, body=body)
                with lock:
                    answers.append(answer)
                    if answer[0] == 201:
                        made.append(json.loads(answer[2])["ticket_no"])
                # A steady stream (six claims a second at most), until the first claims fall due and the
                # scheduler escalates them while the later ones still come in.
                stop.wait(1.0)

        def escalated_new_claims() -> int:
            """The new claims the scheduler has escalated so far (read beside the server: WAL lets a reader in)."""
            with sqlite3.connect(f"file:{tmp_path / 'db.sqlite3'}?mode=ro", uri=True, timeout=30) as db:
                return db.execute("SELECT COUNT(*) FROM tickets_ticket t JOIN orders_order o ON o.id = t.order_id"
                                  " WHERE o.order_no LIKE 'LOAD-%' AND t.escalated_at IS NOT NULL").fetchone()[0]

        with ThreadPoolExecutor(max_workers=6) as pool:
            workers = [pool.submit(claim_until_told) for _ in range(6)]
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline and not all(w.done() for w in workers):
                if len(answers) >= CLAIMS_AT_LEAST and escalated_new_claims() >= ESCALATIONS_AT_LEAST:
                    break
                time.sleep(0.5)
            stop.set()
            for worker in workers:
                worker.result()

        tail = (tmp_path / "server.log").read_text()[-3000:]
        server_errors = [(s, t, c[:300]) for s, t, c in answers if s >= 500]
        assert server_errors == []
        assert all(t.startswith("application/json") for _, t, _ in answers)
        assert len(answers) >= CLAIMS_AT_LEAST
        assert {s for s, _, _ in answers} == {201}, {s for s, _, _ in answers}
        assert escalated_new_claims() >= ESCALATIONS_AT_LEAST, tail  # the scheduler wrote while claims came in
        assert "database is locked" not in (tmp_path / "server.log").read_text()
    finally:
        server.terminate()
        server.wait(30)
        log.close()
