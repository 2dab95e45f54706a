"""Celery with a real worker against Redis: the refund runs once, and the deadline sweep runs, in a
separate worker process reading the same PostgreSQL database."""

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from aftersales.celery import app as celery_app
from refunds.models import GatewayPayout, Refund
from refunds.tasks import execute_refund_task
from tests.factories import make_order, submit
from tickets import journeys, services
from tickets.models import Ticket
from tickets.tasks import run_deadlines_task

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    """A worker on its own queue, with the test database as its database; the app sends through Redis."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    settings_dict = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:"
                                         f"{settings_dict['PORT']}/{settings_dict['NAME']}",
           "REDIS_URL": REDIS_URL, "SECRET_KEY": "worker-test", "CELERY_TASK_ALWAYS_EAGER": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "aftersales", "worker", "--pool=solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info", "-n", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    saved = {k: celery_app.conf[k] for k in ("broker_url", "task_always_eager", "task_default_queue")}
    celery_app.conf.update(broker_url=REDIS_URL, task_always_eager=False, task_default_queue=queue)
    celery_app._pool = None  # forget any connection pool made for the in-memory broker
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            output, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
        celery_app.conf.update(saved)
        celery_app._pool = None
        if os.environ.get("SHOW_WORKER_LOG"):
            print(output)


def _wait_for(predicate, *, seconds=60.0, proc=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the worker died: {proc.stdout.read()}")
        time.sleep(0.1)
    return False


def test_a_real_worker_executes_the_refund_once_despite_duplicate_messages(worker, staff, buyer):
    order = make_order(buyer=buyer, lines=[("general", "30.00", 2, None)])
    ticket = journeys.advance(submit(order, type="return_refund"), Ticket.Status.AWAITING_REFUND, staff=staff)

    services.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])  # commits, then queues
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


def test_a_real_worker_runs_the_deadline_sweep(worker, staff, buyer):
    order = make_order(buyer=buyer)
    ticket = journeys.advance(submit(order, type="return_refund"), Ticket.Status.AWAITING_RETURN, staff=staff)
    Ticket.objects.filter(pk=ticket.pk).update(return_deadline=ticket.return_deadline - dt.timedelta(days=8))

    run_deadlines_task.delay()

    assert _wait_for(lambda: Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.CLOSED, proc=worker)
    event = Ticket.objects.get(pk=ticket.pk).events.get(transition="close")
    assert event.actor is None and event.actor_role == "system"
