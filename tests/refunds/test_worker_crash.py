"""A worker killed (SIGKILL) while refunds are with the gateway: another worker and the reconciliation finish
every refund, and the sandbox, a separate process reached over HTTP, moved the money once for each."""

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from aftersales import clock
from config.celery_app import app as celery_app
from refunds import services as refunds
from refunds.models import GatewayPayout, Refund
from refunds.tasks import dispatch_pending_refunds, reconcile_refunds
from tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
S = Refund.Status

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, seconds: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


class Processes:
    """The sandbox and the workers, each in its own process group, on the test database."""

    def __init__(self, port: int, queue: str):
        db = connection.settings_dict
        self.queue = queue
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "REDIS_URL": REDIS_URL,
                    "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
                    "SECRET_KEY": "crash-test", "REFUND_GATEWAY": "refunds.sandbox.HttpGateway",
                    "REFUND_GATEWAY_URL": f"http://127.0.0.1:{port}", "REFUND_GATEWAY_TIMEOUT": "5"}
        self.running: list[subprocess.Popen] = []

    def start(self, *args: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        self.running.append(proc)
        return proc

    def worker(self) -> subprocess.Popen:
        return self.start("-m", "celery", "-A", "config.celery_app", "worker", "--pool=prefork", "--concurrency=4",
                          "-Q", self.queue, "--without-gossip", "--without-mingle", "--without-heartbeat",
                          "-n", f"{uuid.uuid4().hex[:6]}@%h")

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker and its pool: nothing gets to clean up
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.running:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.kill(proc)


SANDBOX_FAULTS = {
    # Every call takes 300 ms: refunds are with the gateway when the worker dies.
    "slow": ["--latency-ms", "300"],
    # Every refund call pays, then answers nothing within the adapter's timeout: only status() tells.
    "timeout_after_success": ["--latency-ms", "50", "--timeout-after-success-rate", "1.0", "--hang-ms", "1500"],
}


@pytest.fixture(params=["slow"])
def system(settings, request):
    port, queue = free_port(), f"test-{uuid.uuid4().hex[:8]}"
    processes = Processes(port, queue)
    settings.REFUND_GATEWAY, settings.REFUND_GATEWAY_URL = "refunds.sandbox.HttpGateway", f"http://127.0.0.1:{port}"
    keys = ("CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "CELERY_TASK_DEFAULT_QUEUE")
    saved = {key: celery_app.conf.get(key) for key in keys}
    celery_app.conf.update(CELERY_BROKER_URL=REDIS_URL, CELERY_TASK_ALWAYS_EAGER=False, CELERY_TASK_DEFAULT_QUEUE=queue)
    celery_app._pool = None
    celery_app.__dict__.pop("amqp", None)
    processes.start("manage.py", "run_refund_sandbox", "--port", str(port), *SANDBOX_FAULTS[request.param])
    assert wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, 90), "the sandbox did not start"
    try:
        yield processes
    finally:
        processes.stop_all()
        celery_app.conf.update(saved)
        celery_app._pool = None
        celery_app.__dict__.pop("amqp", None)


def test_refunds_in_flight_when_a_worker_is_killed_complete_once_each(system, awaiting_refund, staff):
    tickets = [awaiting_refund() for _ in range(12)]
    first = system.worker()
    for ticket in tickets:  # each commits, then publishes its refund
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    refunds_ = Refund.objects.filter(ticket__in=tickets)

    assert wait_for(lambda: refunds_.filter(status=S.IN_PROGRESS).count() >= 3, 60), "no refund reached the gateway"
    system.kill(first)
    stranded = refunds_.exclude(status=S.SUCCEEDED).count()
    assert stranded >= 3  # the test killed work in flight, not an idle worker
    system.worker()

    def reconciled() -> bool:
        """The periodic reconciliation, as it runs once the dead worker's leases (and the grace) are past."""
        reconcile_refunds(now=clock.now() + dt.timedelta(minutes=20))
        return not refunds_.exclude(status=S.SUCCEEDED).exists()

    assert wait_for(reconciled, 120, every=2.0), list(refunds_.values_list("status"))

    assert Ticket.objects.filter(pk__in=[t.pk for t in tickets], status=Ticket.Status.COMPLETED).count() == 12
    assert sorted(GatewayPayout.objects.values_list("idempotency_key", "amount")) == sorted(
        refunds_.values_list("uuid", "amount"))


@pytest.mark.parametrize("system", ["timeout_after_success"], indirect=True)
def test_with_every_payment_answered_by_a_timeout_each_refund_still_completes_once(system, awaiting_refund, staff):
    """The provider pays, then the answer never comes: the task retries, asks status(key) first, finds the
    payment and records it; nothing is sent twice."""
    tickets = [awaiting_refund() for _ in range(6)]
    system.worker()
    for ticket in tickets:
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    refunds_ = Refund.objects.filter(ticket__in=tickets)

    def paid() -> bool:
        """Meanwhile the dispatcher runs, as its periodic task would (a publish lost on a busy machine)."""
        dispatch_pending_refunds(now=clock.now() + dt.timedelta(seconds=11))
        return not refunds_.exclude(status=S.SUCCEEDED).exists()

    assert wait_for(paid, 240, every=2.0), list(refunds_.values_list("status", flat=True))

    assert GatewayPayout.objects.filter(idempotency_key__in=refunds_.values("uuid")).count() == 6
    for refund in refunds_:
        calls = list(refund.gateway_attempts.values_list("call", "outcome"))
        assert calls[0] == ("refund", "timeout") and ("status", "succeeded") in calls, calls
