"""Delivering the outbox to the shops' endpoints: at least once, one ticket's events in order, retried.

- **At least once.** A delivery is pending until a 2xx answer is recorded. A worker that dies mid-batch
  leaves its deliveries pending: the next run sends them again with the same ``webhook-id``, and the
  receiver deduplicates by it (docs/webhooks.md).
- **In order per ticket.** One run at a time per endpoint (a PostgreSQL advisory lock of the session, so a
  killed worker's lock goes with its connection); it takes due deliveries in position order, and never one
  while an earlier delivery of the same ticket to the same endpoint is still pending. A failing event holds
  back the later events of its ticket, not the other tickets'.
- **Retries** (``retry_delay``): exponential backoff from 5 s, times 3 each time, at most 4 h apart, with
  ±25 % jitter, for 24 hours from the first attempt; then the delivery has failed (resend brings it back).
- **An endpoint failing for 24 hours** (every attempt since its last success) is disabled, with why; the
  admin home says so. Enabling it again is the administrator's act.
"""

import json
import logging
import random
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils.translation import gettext
from rest_framework import serializers

from aftersales import clock
from events import signing
from events.models import Attempt, Delivery, Endpoint, Event
from events.transport import Answer, Sender

log = logging.getLogger(__name__)

RETRY_FIRST = timedelta(seconds=5)
RETRY_FACTOR = 3
RETRY_MAX_GAP = timedelta(hours=4)
RETRY_WINDOW = timedelta(hours=24)
JITTER = 0.25
BATCH = 200
ENDPOINT_LOCK = 0x0E7E_0002  # with the endpoint's id: one delivery run per endpoint


def retry_delay(failed_attempts: int, *, jitter: float | None = None) -> timedelta:
    """How long after the ``failed_attempts``-th failure the next attempt goes (before the window's end)."""
    base = min(RETRY_FIRST * RETRY_FACTOR ** (failed_attempts - 1), RETRY_MAX_GAP)
    spread = random.uniform(-JITTER, JITTER) if jitter is None else jitter
    return base * (1 + spread)


def schedule() -> list[timedelta]:
    """The published schedule without jitter: when each attempt goes, counted from the first."""
    at, out, failed = timedelta(0), [timedelta(0)], 0
    while True:
        failed += 1
        at += retry_delay(failed, jitter=0)
        if at >= RETRY_WINDOW:
            out.append(RETRY_WINDOW)
            return out
        out.append(at)


def body_of(event: Event) -> bytes:
    """The webhook's body: the event as the feed lists it (events.shapes.EventOutput)."""
    return json.dumps({
        "id": str(event.uuid), "position": event.position, "type": event.type, "ticket_no": event.ticket_no,
        "shop": event.shop.code, "occurred_at": _iso(event.occurred_at), "data": event.data,
    }, ensure_ascii=False, separators=(",", ":")).encode()


def _iso(moment: datetime) -> str:
    return serializers.DateTimeField().to_representation(moment)


def signing_secrets(endpoint: Endpoint, *, now: datetime) -> list[str]:
    """The secrets to sign with now: the current one, and the one before it during its grace period."""
    valid = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        valid.append(endpoint.previous_secret)
    return valid


def due_deliveries(endpoint_id: int, *, now: datetime, limit: int = BATCH):
    # "No earlier delivery of its ticket pending" as "the first pending of its ticket": a subquery the planner
    # runs per row on the index (endpoint, ticket, position). As NOT EXISTS it became an anti-join, and with
    # the statistics of a table where nothing was pending (a burst, a resend) the planner scanned every
    # pending row for each row: 270 ms instead of 2 ms a batch of 200 (bench/webhooks.py).
    first_pending = (Delivery.objects.filter(endpoint_id=OuterRef("endpoint_id"), status=Delivery.Status.PENDING,
                                             ticket_id=OuterRef("ticket_id"))
                     .order_by("position").values("position")[:1])
    return (Delivery.objects.filter(endpoint_id=endpoint_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(ticket_id__isnull=True) | Q(position__lte=Subquery(first_pending)))
            .select_related("event__shop").order_by("position")[:limit])


_local_locks: dict[int, threading.Lock] = {}


@contextmanager
def endpoint_lock(endpoint_id: int):
    """Yield True if this process now delivers ``endpoint_id`` alone, False if another run does."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ENDPOINT_LOCK, endpoint_id])
            got = cursor.fetchone()[0]
        try:
            yield got
        finally:
            if got:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ENDPOINT_LOCK, endpoint_id])
        return
    lock = _local_locks.setdefault(endpoint_id, threading.Lock())
    got = lock.acquire(blocking=False)
    try:
        yield got
    finally:
        if got:
            lock.release()


@dataclass(frozen=True)
class Run:
    delivered: int
    more: bool = False  # the run spent its budget with more due: queue another


def deliver_endpoint(endpoint_id: int, *, max_batches: int = 50) -> Run:
    """Send what is due to one endpoint, batch after batch, until nothing is due (or ``max_batches``).
    If another run holds the endpoint, returns at once: that run sends ours too, because a run looks again
    after letting go of the endpoint (no wake-up is lost)."""
    delivered = 0
    while True:
        with endpoint_lock(endpoint_id) as alone:
            if not alone:
                return Run(delivered)
            endpoint = Endpoint.objects.filter(pk=endpoint_id, active=True, disabled_at__isnull=True).first()
            if endpoint is None:
                return Run(delivered)
            with Sender(endpoint.url) as sender:
                for _batch in range(max_batches):
                    batch = list(due_deliveries(endpoint_id, now=clock.now()))
                    if not batch:
                        break
                    done, stop = _send_batch(endpoint, batch, sender)
                    delivered += done
                    if stop:
                        return Run(delivered)
                else:
                    return Run(delivered, more=True)
        if not due_deliveries(endpoint_id, now=clock.now(), limit=1).exists():
            return Run(delivered)


def _send_batch(endpoint: Endpoint, batch: list[Delivery], sender: Sender) -> tuple[int, bool]:
    """POST each delivery of the batch in order, then record every attempt at once. Returns (delivered,
    stop): stop when the endpoint was disabled, or gave no HTTP answer at all (refused, timed out,
    unreachable): the rest is not tried against an endpoint that is down, one after another up to the
    timeout each; it stays due, and the next run (the next event, or the sweep within 10 s) tries again."""
    held_back: set[int] = set()  # tickets whose earlier event failed in this batch: their later ones wait
    attempts, outcomes = [], []
    for delivery in batch:
        if delivery.ticket_id in held_back:
            continue
        now = clock.now()
        body = body_of(delivery.event)
        headers = signing.headers(signing_secrets(endpoint, now=now), msg_id=str(delivery.event.uuid),
                                  timestamp=int(now.timestamp()), body=body)
        answer = sender.post(body, headers)
        attempts.append(_attempt(endpoint, delivery, answer, now))
        outcomes.append((delivery, answer, now))
        if not answer.ok and delivery.ticket_id is not None:
            held_back.add(delivery.ticket_id)
        if answer.status is None:
            break
    delivered, disabled = _record(endpoint, attempts, outcomes)
    return delivered, disabled or any(answer.status is None for _d, answer, _n in outcomes)


def _attempt(endpoint, delivery, answer: Answer, now: datetime, *, by=None) -> Attempt:
    return Attempt(endpoint=endpoint, delivery=delivery, event_type=delivery.event.type if delivery else "",
                   webhook_id=str(delivery.event.uuid) if delivery else "", at=now, status_code=answer.status,
                   latency_ms=answer.latency_ms, ok=answer.ok, error=answer.error[:500],
                   response_excerpt=answer.excerpt[:1000], by=by)


@transaction.atomic
def _record(endpoint: Endpoint, attempts: list[Attempt], outcomes) -> tuple[int, bool]:
    Attempt.objects.bulk_create(attempts)
    # The backoff counts the failures of this window (a resend opens a new one and starts again from 5 s),
    # not every attempt the delivery ever had.
    in_window = dict(Attempt.objects.filter(
        delivery__in=[d for d, answer, _now in outcomes if not answer.ok and d.first_attempt_at is not None],
        at__gte=F("delivery__first_attempt_at")).values("delivery").annotate(n=Count("pk")).values_list("delivery", "n"))
    delivered = 0
    for delivery, answer, now in outcomes:
        delivery.attempts += 1
        delivery.first_attempt_at = delivery.first_attempt_at or now
        if answer.ok:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = Delivery.Status.DELIVERED, now, None
            delivery.last_error = ""
            delivered += 1
            continue
        delivery.last_error = answer.error[:500]
        next_at = now + retry_delay(in_window.get(delivery.pk, 1))
        window_end = delivery.first_attempt_at + RETRY_WINDOW
        if now >= window_end:
            delivery.status, delivery.next_attempt_at = Delivery.Status.FAILED, None
        else:
            delivery.next_attempt_at = min(next_at, window_end)
    _save_outcomes([d for d, _a, _n in outcomes])
    return delivered, _endpoint_health(endpoint, outcomes)


OUTCOME_FIELDS = ["status", "attempts", "first_attempt_at", "next_attempt_at", "delivered_at", "last_error"]


def _save_outcomes(deliveries: list[Delivery]) -> None:
    """Save the batch's outcome fields, as ``bulk_update`` would. On PostgreSQL in one UPDATE from arrays:
    bulk_update builds a CASE of 200 branches per field in Python, most of a batch's time (bench/webhooks.py)."""
    if connection.vendor != "postgresql":
        Delivery.objects.bulk_update(deliveries, OUTCOME_FIELDS)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE events_delivery AS d SET status = v.status, attempts = v.attempts, "
            "first_attempt_at = v.first_attempt_at, next_attempt_at = v.next_attempt_at, "
            "delivered_at = v.delivered_at, last_error = v.last_error "
            "FROM unnest(%s::bigint[], %s::varchar[], %s::integer[], %s::timestamptz[], %s::timestamptz[], "
            "            %s::timestamptz[], %s::varchar[]) "
            "     AS v(id, status, attempts, first_attempt_at, next_attempt_at, delivered_at, last_error) "
            "WHERE d.id = v.id",
            [[d.pk for d in deliveries], [d.status for d in deliveries], [d.attempts for d in deliveries],
             [d.first_attempt_at for d in deliveries], [d.next_attempt_at for d in deliveries],
             [d.delivered_at for d in deliveries], [d.last_error for d in deliveries]])


def _endpoint_health(endpoint: Endpoint, outcomes) -> bool:
    """Keep the endpoint's failing-since; disable it once every attempt failed for 24 hours. True if disabled."""
    locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    failures = [(now, answer) for _d, answer, now in outcomes if not answer.ok]
    last_ok = max((i for i, (_d, answer, _now) in enumerate(outcomes) if answer.ok), default=None)
    if last_ok is not None:  # a success ends the failing; it starts again at the first failure after it
        locked.failing_since = next((now for _d, answer, now in outcomes[last_ok + 1:] if not answer.ok), None)
    elif failures:
        locked.failing_since = locked.failing_since or failures[0][0]
    disabled = False
    if failures and locked.failing_since and failures[-1][0] - locked.failing_since >= RETRY_WINDOW:
        disable(locked, now=failures[-1][0], reason=gettext(
            "Every delivery failed for 24 hours (since %(since)s); the last: %(error)s") % {
                "since": locked.failing_since.strftime("%Y-%m-%d %H:%M UTC"), "error": failures[-1][1].error})
        disabled = True
    else:
        locked.save(update_fields=["failing_since"])
    endpoint.failing_since = locked.failing_since
    return disabled


def disable(endpoint: Endpoint, *, now: datetime, reason: str) -> None:
    """Stop delivering to ``endpoint`` (its pending deliveries fail, with why); the admin home shows it."""
    endpoint.disabled_at, endpoint.disabled_reason = now, reason[:500]
    endpoint.save(update_fields=["failing_since", "disabled_at", "disabled_reason"])
    Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED, next_attempt_at=None, last_error=gettext("The endpoint was disabled."))
    log.warning("webhook endpoint %s disabled: %s", endpoint.pk, reason)


def endpoints_due(*, now: datetime) -> list[int]:
    """The endpoints with something to send now (the sweep wakes them)."""
    return list(Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now,
                                        endpoint__active=True, endpoint__disabled_at__isnull=True)
                .values_list("endpoint_id", flat=True).distinct())
