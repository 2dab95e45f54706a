"""Handing deliveries to workers, and the sweep that catches up whatever a crash or a broker outage left.

``WEBHOOK_DELIVERY`` says who sends: ``celery`` (a worker, the production and compose setup), ``thread`` (a
thread of this process, the demo without Redis: delivery follows the commit without holding the request),
or ``off`` (nobody: the tests that drive delivery themselves).

- ``wake`` runs after every commit that wrote events: it sequences them (events.outbox) and starts the
  delivery of each endpoint that got some. It never raises: the change is committed; what it could not do,
  the sweep does.
- ``sweep_events_task`` (every 10 s) sequences what no wake did (a process that died after its commit),
  and wakes every endpoint with something due (retries whose time came, messages a broker outage lost).
- ``deadline_warnings_task`` (every 5 min) writes ``deadline.warning`` events.
"""

import logging
import queue
import threading
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, close_old_connections, connections

from aftersales import clock
from events.delivery import deliver_endpoint, endpoints_due
from events.outbox import record_deadline_warnings, sequence

log = logging.getLogger(__name__)

DEADLINE_WARNING = timedelta(hours=24)


def wake() -> None:
    try:
        endpoints = sequence()
    except Exception:
        log.exception("events not sequenced after commit; the sweep does it")
        return
    for endpoint_id in sorted(endpoints):
        start(endpoint_id)


def start(endpoint_id: int) -> None:
    """Have ``endpoint_id``'s due deliveries sent, as WEBHOOK_DELIVERY says. Never raises."""
    mode = settings.WEBHOOK_DELIVERY
    if mode == "celery":
        try:
            deliver_endpoint_task.delay(endpoint_id)
        except Exception:  # a broker down: the sweep publishes it again once it is back
            log.warning("delivery of endpoint %s not handed to a worker; the sweep does it", endpoint_id)
    elif mode == "thread":
        _runner().put(endpoint_id)


# acks_late + reject_on_worker_lost: a worker killed mid-run leaves the message for another; what it had
# sent without recording stays pending and goes again (receivers deduplicate by webhook-id).
@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=1,
             retry_backoff_max=30, max_retries=5)
def deliver_endpoint_task(endpoint_id: int) -> int:
    run = deliver_endpoint(endpoint_id)
    if run.more:
        start(endpoint_id)  # the run's budget was spent with more due: go on in a new message
    return run.delivered


@shared_task(acks_late=True)
def sweep_events_task() -> int:
    return sweep()


@shared_task(acks_late=True)
def deadline_warnings_task() -> int:
    return record_deadline_warnings(now=clock.now(), within=DEADLINE_WARNING)


def sweep() -> int:
    """Sequence what is left, and start every endpoint with something due. Returns how many were started."""
    sequence()
    due = endpoints_due(now=clock.now())
    for endpoint_id in due:
        start(endpoint_id)
    return len(due)


# ----------------------------------------------------------------------------- the demo's delivery thread

_queue: "queue.Queue[int] | None" = None
_lock = threading.Lock()


def _runner() -> "queue.Queue[int]":
    global _queue
    with _lock:
        if _queue is None:
            _queue = queue.Queue()
            threading.Thread(target=_serve, args=(_queue,), name="webhook-delivery", daemon=True).start()
    return _queue


def _serve(work: "queue.Queue[int]") -> None:
    while True:
        endpoint_id = work.get()
        try:
            close_old_connections()
            if deliver_endpoint(endpoint_id).more:  # its budget spent with more due: go on after the others
                work.put(endpoint_id)
        except Exception:
            log.exception("webhook delivery to endpoint %s stopped; the sweep starts it again", endpoint_id)
        finally:
            connections.close_all()
