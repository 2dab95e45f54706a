"""A refund survives the broker: an approval with the broker down is recorded and answered, and the dispatcher
sends the refund once the broker is back; refunds stuck pending or in progress are settled by the
reconciliation (`manage.py reconcile_refunds`, and `requeue_refunds`, its former name)."""

import datetime as dt
import json
import os
import time
import uuid
from io import StringIO

import pytest
import redis
from django.apps import apps
from django.core.management import call_command

from aftersales import clock
from config.celery_app import app as celery_app
from refunds import services as refunds
from refunds.execution import execute_refund
from refunds.models import GatewayPayout, Refund
from refunds.sandbox import InProcessGateway
from refunds.tasks import dispatch_pending_refunds, reconcile_refunds
from tests.api_helpers import API
from tests.factories import client_for
from tickets.models import Ticket

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
CLOSED_PORT_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
S = Refund.Status


@pytest.fixture
def broker():
    """Celery sending to a broker (not running tasks in-process), at the URL the test gives, on a queue of
    the test's own; put back as it was afterwards."""
    keys = ("CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "CELERY_TASK_DEFAULT_QUEUE")
    saved = {key: celery_app.conf.get(key) for key in keys}
    queue = f"test-{uuid.uuid4().hex[:8]}"

    def use(url: str) -> str:
        celery_app.conf.update(CELERY_BROKER_URL=url, CELERY_TASK_ALWAYS_EAGER=False, CELERY_TASK_DEFAULT_QUEUE=queue)
        celery_app._pool = None  # built on first use from the configuration then in force
        celery_app.__dict__.pop("amqp", None)
        return queue

    yield use
    celery_app.conf.update(saved)
    celery_app._pool = None
    celery_app.__dict__.pop("amqp", None)
    redis.Redis.from_url(REDIS_URL).delete(queue)


@pytest.mark.django_db(transaction=True)
def test_an_approval_with_the_broker_down_is_recorded_and_sent_when_the_broker_is_back(
        awaiting_refund, staff, broker):
    ticket = awaiting_refund()
    broker(CLOSED_PORT_URL)

    started = time.monotonic()
    response = client_for(staff["finance"]).post(f"{API}/finance/tickets/{ticket.ticket_no}/approve/")

    assert response.status_code == 200, response.content
    assert response.json()["refund_status"] == "pending"
    assert time.monotonic() - started < 10
    refund = Refund.objects.get(ticket=ticket)
    assert (refund.status, refund.dispatched_at) == (S.PENDING, None)
    assert Ticket.objects.get(pk=ticket.pk).refund_requested_at is not None
    assert dispatch_pending_refunds(now=clock.now() + dt.timedelta(seconds=11)) == 0  # still down: kept

    queue = broker(REDIS_URL)
    assert dispatch_pending_refunds(now=clock.now()) == 0  # approved a moment ago: the on-commit publish's turn
    assert dispatch_pending_refunds(now=clock.now() + dt.timedelta(seconds=11)) == 1

    refund.refresh_from_db()
    assert refund.dispatched_at is not None
    messages = redis.Redis.from_url(REDIS_URL).lrange(queue, 0, -1)
    assert len(messages) == 1
    assert json.loads(messages[0])["headers"]["argsrepr"] == f"({refund.pk},)"
    assert dispatch_pending_refunds(now=clock.now() + dt.timedelta(seconds=11)) == 0  # sent once
    execute_refund(refund_id=refund.pk)  # what the worker taking the message does
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.COMPLETED
    assert GatewayPayout.objects.count() == 1


@pytest.mark.django_db
def test_reconciliation_finishes_a_refund_the_gateway_paid_and_sends_again_one_it_did_not(awaiting_refund, staff):
    paid, unpaid, lost = (awaiting_refund() for _ in range(3))
    for ticket in (paid, unpaid, lost):
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])  # not run: no commit
    refund_paid, refund_unpaid, refund_lost = (Refund.objects.get(ticket=t) for t in (paid, unpaid, lost))
    InProcessGateway().refund(idempotency_key=str(refund_paid.uuid), amount=refund_paid.amount, order_no="x")
    now = clock.now()
    # Two workers died mid-call, their leases ran out 3 minutes ago; one message was lost 16 minutes ago.
    Refund.objects.filter(pk__in=[refund_paid.pk, refund_unpaid.pk]).update(
        status=S.IN_PROGRESS, lease_expires_at=now - dt.timedelta(minutes=3))
    Refund.objects.filter(pk=refund_lost.pk).update(dispatched_at=now - dt.timedelta(minutes=16))

    found = reconcile_refunds(now=now)

    assert (found["paid"], found["resent"], found["redispatched"], found["unanswered"]) == (1, 1, 1, 0)
    assert set(Refund.objects.values_list("status", flat=True)) == {S.SUCCEEDED}
    assert GatewayPayout.objects.count() == 3
    assert set(Ticket.objects.values_list("status", flat=True)) == {Ticket.Status.COMPLETED}
    assert list(refund_paid.gateway_attempts.values_list("call", "outcome")) == [("status", "succeeded")]
    assert reconcile_refunds(now=now + dt.timedelta(minutes=30))["paid"] == 0  # nothing left


@pytest.mark.django_db
def test_reconciliation_leaves_refunds_a_worker_still_holds_or_will_retry(awaiting_refund, staff):
    held, retrying = awaiting_refund(), awaiting_refund()
    for ticket in (held, retrying):
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    now = clock.now()
    Refund.objects.filter(ticket=held).update(status=S.IN_PROGRESS, lease_expires_at=now + dt.timedelta(seconds=30))
    Refund.objects.filter(ticket=retrying).update(status=S.IN_PROGRESS, lease_expires_at=now - dt.timedelta(seconds=60))

    found = reconcile_refunds(now=now)

    assert sum(found.values()) == 0
    assert set(Refund.objects.values_list("status", flat=True)) == {S.IN_PROGRESS}


@pytest.mark.django_db
def test_reconcile_refunds_prints_what_it_found(awaiting_refund, staff):
    ticket = awaiting_refund()
    refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    out = StringIO()

    call_command("reconcile_refunds", "--now", (clock.now() + dt.timedelta(minutes=16)).isoformat(), stdout=out)

    lines = out.getvalue().splitlines()
    assert "redispatched: 1" in "\n".join(lines)
    assert [line.split(":")[0] for line in lines] == [
        "paid", "resent", "redispatched", "unanswered", "undelivered", "errors", "refunds_requeued"]
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.COMPLETED


@pytest.mark.django_db
def test_the_migration_schedules_the_dispatcher_and_turns_the_requeue_into_the_reconciliation():
    from django_celery_beat.models import PeriodicTask

    schedules = __import__("refunds.migrations.0007_backfill_parts_and_schedules", fromlist=["install"])
    PeriodicTask.objects.filter(task__startswith="refunds.").delete()
    __import__("refunds.migrations.0003_refund_requested_and_requeue_schedule", fromlist=["install"]).install(apps, None)

    schedules.install(apps, None)
    schedules.install(apps, None)  # twice: the same rows

    rows = {(t.task, t.interval.every, t.interval.period) for t in PeriodicTask.objects.filter(task__startswith="refunds.")}
    assert rows == {("refunds.tasks.dispatch_refunds_task", 30, "seconds"),
                    ("refunds.tasks.reconcile_refunds_task", 2, "minutes")}
    for task in rows:
        assert task[0] in celery_app.tasks
