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
_lock = threading.Lock()


def wake() -> None:
    """After a commit that wrote events (events.outbox): sequence them and start their deliveries, on this
    process's waker thread, so the request that committed waits neither for the sequencer nor for a broker
    (a broker that is down takes its timeout to refuse). Wakes that come while it runs make one more run, not
    one each. With WEBHOOK_DELIVERY off (the tests that drive delivery themselves) it runs right here."""
    if settings.WEBHOOK_DELIVERY == "off":
        wake_now()
        return
    _waker().set()


def wake_now() -> None:
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


# ------------------------------------------------------------------------------------- the waker thread

_woken: "threading.Event | None" = None


def _waker() -> threading.Event:
    global _woken
    with _lock:
        if _woken is None:
            _woken = threading.Event()
            threading.Thread(target=_wake_loop, args=(_woken,), name="events-waker", daemon=True).start()
    return _woken


def _wake_loop(woken: threading.Event) -> None:
    while True:
        woken.wait()
        woken.clear()
        try:
            close_old_connections()  # a connection the database dropped is opened again
            wake_now()
        except Exception:
            log.exception("events waker: the sweep catches up")


# ----------------------------------------------------------------------------- the demo's delivery thread

_queue: "queue.Queue[int] | None" = None


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
