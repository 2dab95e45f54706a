"""Celery with a real worker against Redis: the refund runs once, and the deadline sweep runs, in a
separate worker process reading the same PostgreSQL database; with `celery beat` (django-celery-beat's
schedules) nobody but beat and the worker closes a ticket whose deadline passes."""

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from aftersales import clock
from config.celery_app import app as celery_app
from demo import journeys
from refunds import services as refunds
from refunds.models import GatewayPayout, Refund
from refunds.tasks import execute_refund_task
from tests.factories import client_for, make_order, submit
from tickets.models import Ticket
from tickets.tasks import run_deadlines_task

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _env() -> dict:
    db = connection.settings_dict
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "REDIS_URL": REDIS_URL,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "SECRET_KEY": "worker-test"}


class Worker:
    """A `celery worker` process on its own queue, whose database is the test database."""

    def __init__(self):
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config.celery_app", "worker", "--pool=solo", "-Q", self.queue,
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info", "-n", f"{self.queue}@%h"],
            cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.log = ""

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.log += self.proc.communicate(timeout=20)[0] or ""
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.log += self.proc.communicate()[0] or ""
        return self.log


class Beat(Worker):
    """`celery beat` with django-celery-beat's scheduler (as docker-compose runs it), on the test database."""

    def __init__(self, *, max_interval: int = 1):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config.celery_app", "beat", "-l", "info", "--max-interval",
             str(max_interval), "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
             "--pidfile", ""], cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.log = ""


# The app reads these (Django settings, CELERY namespace); the test process sends through Redis while
# the worker runs. Only the namespaced keys override what the settings say.
SENDING = ("CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "CELERY_TASK_DEFAULT_QUEUE")


def _forget_connections() -> None:
    """Celery builds its routing (queues, default queue) and connection pools once, on first use, from
    the configuration then in force: drop them so that the next send uses the configuration now."""
    celery_app._pool = None
    celery_app.__dict__.pop("amqp", None)


@pytest.fixture
def worker():
    running = Worker()
    saved = {key: celery_app.conf.get(key) for key in SENDING}
    celery_app.conf.update(dict(zip(SENDING, (REDIS_URL, False, running.queue), strict=True)))
    _forget_connections()
    try:
        yield running
    finally:
        running.stop()
        celery_app.conf.update(saved)
        _forget_connections()
        if os.environ.get("SHOW_WORKER_LOG"):
            print(running.log)


def _wait_for(predicate, *, seconds=60.0, proc=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc is not None and proc.proc.poll() is not None:
            raise AssertionError(f"the worker died: {proc.stop()}")
        time.sleep(0.1)
    return False


def test_a_real_worker_executes_the_refund_once_despite_duplicate_messages(worker, staff, buyer):
    order = make_order(buyer=buyer, lines=[("general", "30.00", 2, None)])
    ticket = journeys.advance(submit(order, type="return_refund"), Ticket.Status.AWAITING_REFUND, staff=staff)

    refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])  # commits, then queues
    refund = Refund.objects.get(ticket=ticket)
    for _ in range(3):  # redelivered / duplicated messages
        execute_refund_task.delay(refund.pk)

    assert _wait_for(lambda: Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.COMPLETED, proc=worker)
    time.sleep(1.0)  # let the duplicates be consumed too
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert GatewayPayout.objects.filter(idempotency_key=refund.uuid).count() == 1
    assert GatewayPayout.objects.get().amount == refund.amount == ticket.refund_amount
    assert ticket.events.filter(transition="refund_succeeded").count() == 1
    log = worker.stop()  # the worker process, not this one, did the work
    assert log.count("execute_refund_task[") >= 4 and "succeeded" in log, log[-2000:]


def test_the_worker_logs_and_records_a_task_with_the_id_of_the_request_that_queued_it(worker, staff, buyer):
    """A request queues the refund (on commit); the worker's JSON log lines for that task carry the request's
    id, and the history rows the worker writes name the task and the same request id."""
    order = make_order(buyer=buyer, lines=[("general", "30.00", 2, None)])
    ticket = journeys.advance(submit(order, type="return_refund"), Ticket.Status.AWAITING_REFUND, staff=staff)

    response = client_for(staff["finance"]).post(f"/api/v1/finance/tickets/{ticket.ticket_no}/approve/", {},
                                                 format="json", HTTP_X_REQUEST_ID="req-to-worker-0001")

    assert response.status_code == 200
    assert _wait_for(lambda: Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.COMPLETED, proc=worker)
    lines = [json.loads(line) for line in worker.stop().splitlines() if line.startswith("{")]
    task_lines = [line for line in lines if line.get("task_name") == "refunds.tasks.execute_refund_task"]
    assert task_lines, lines[-5:]
    assert {line["request_id"] for line in task_lines} == {"req-to-worker-0001"}
    assert any("succeeded" in line["message"] for line in task_lines)
    refund = Refund.objects.get(ticket=ticket)
    by_worker = [e.pgh_context.metadata for e in refund.history.all()
                 if e.pgh_context_id and e.pgh_context.metadata.get("task") == "refunds.tasks.execute_refund_task"]
    assert by_worker and {m["request_id"] for m in by_worker} == {"req-to-worker-0001"}


def test_a_real_worker_runs_the_deadline_sweep(worker, staff, buyer):
    order = make_order(buyer=buyer)
    ticket = journeys.advance(submit(order, type="return_refund"), Ticket.Status.AWAITING_RETURN, staff=staff)
    passed = ticket.return_deadline - dt.timedelta(days=8)
    Ticket.objects.filter(pk=ticket.pk).update(return_deadline=passed, next_deadline_at=passed)  # and its due time

    run_deadlines_task.delay()

    assert _wait_for(lambda: Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.CLOSED, proc=worker)
    event = Ticket.objects.get(pk=ticket.pk).events.get(transition="close")
    assert event.actor is None and event.actor_role == "system"
    assert "tickets.tasks.run_deadlines_task" in worker.stop()


def test_beat_and_a_real_worker_close_a_ticket_when_its_deadline_passes(worker, staff, buyer):
    """Nobody calls the sweep: beat sends it on its schedule (a row, as the admin edits it: every second,
    to the worker's queue), the worker runs it, and the ticket closes once its deadline has passed."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    ticket = journeys.advance(submit(make_order(buyer=buyer), type="return_refund"), Ticket.Status.AWAITING_RETURN,
                              staff=staff)
    deadline = clock.now() + dt.timedelta(seconds=4)
    Ticket.objects.filter(pk=ticket.pk).update(return_deadline=deadline, next_deadline_at=deadline)
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.exclude(task="tickets.tasks.run_deadlines_task").update(enabled=False)
    PeriodicTask.objects.update_or_create(name="Deadline sweep (close, auto-confirm, escalate)", defaults={
        "task": "tickets.tasks.run_deadlines_task", "interval": every_second, "queue": worker.queue,
        "enabled": True})

    beat = Beat()
    try:
        assert _wait_for(lambda: Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.CLOSED, seconds=60,
                         proc=worker)
    finally:
        beat_log = beat.stop()
    event = Ticket.objects.get(pk=ticket.pk).events.get(transition="close")
    assert event.actor is None and event.actor_role == "system" and event.at > deadline  # not a moment early
    assert "Sending due task" in beat_log and "tickets.tasks.run_deadlines_task" in beat_log, beat_log[-2000:]
    assert "tickets.tasks.run_deadlines_task" in worker.stop()
