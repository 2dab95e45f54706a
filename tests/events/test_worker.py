"""Webhooks with a real Celery worker and Redis (WEBHOOK_DELIVERY="celery" in the worker and in this process),
to a real receiver: a worker killed (SIGKILL, pool and all) while deliveries are in flight, and a broker down
while tickets move. Every event reaches the receiver at least once; deduplicating by webhook-id, once.

The worker processes and the Celery switch are the refunds crash test's (tests/refunds/test_worker_crash.py)."""

import time
import uuid

import pytest
import redis

from config.celery_app import app as celery_app
from events import services
from events.models import Delivery, Event
from events.tasks import sweep
from tests.edges.test_celery_worker import SENDING, _forget_connections
from tests.events.receiver import Reply
from tests.factories import make_order, submit
from tests.refunds.test_dispatch import CLOSED_PORT_URL
from tests.refunds.test_worker_crash import REDIS_URL, Processes, wait_for
from tickets import services as tickets

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def celery_webhooks(local_webhooks):
    """Celery sending through Redis to a queue of the test's own, webhooks sent by its workers; ``broker(url)``
    points this process at another broker (one that is down)."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    saved = {key: celery_app.conf.get(key) for key in SENDING}
    local_webhooks.WEBHOOK_DELIVERY = "celery"
    processes = Processes(0, queue)
    processes.env.update(WEBHOOK_DELIVERY="celery", WEBHOOK_ALLOW_PRIVATE_ADDRESSES="true",
                         WEBHOOK_REQUIRE_HTTPS="false")

    def broker(url: str) -> None:
        celery_app.conf.update(dict(zip(SENDING, (url, False, queue), strict=True)))
        _forget_connections()

    broker(REDIS_URL)
    processes.broker = broker
    try:
        yield processes
    finally:
        processes.stop_all()
        celery_app.conf.update(saved)
        _forget_connections()
        redis.Redis.from_url(REDIS_URL).delete(queue)


def _delivered_all() -> bool:
    return not Delivery.objects.exclude(status=Delivery.Status.DELIVERED).exists()


def _sweep_until_delivered(seconds: float) -> bool:
    """The periodic sweep, as beat runs it every 10 s (here every second), until nothing is left to send."""
    return wait_for(lambda: _delivered_all() or (sweep(), False)[1], seconds, every=1.0)


def _each_once(receiver, secret) -> dict[str, dict]:
    """The receiver's view after deduplicating by webhook-id; every request verified."""
    unique = {}
    for request in receiver.got():
        unique.setdefault(request.webhook_id, request.verify(secret))
    return unique


def test_a_worker_killed_while_deliveries_are_in_flight_leaves_nothing_undelivered(
        celery_webhooks, receiver, buyer):
    # A slow receiver; the sixth request hangs, so the worker is surely mid-POST when it dies.
    receiver.answers = [Reply(200, delay=0.1)] * 5 + [Reply(200, delay=5.0)]
    receiver.default = Reply(200, delay=0.02)
    shop = make_order(buyer=buyer).shop
    endpoint, secret = services.register_endpoint(shop=shop, url=receiver.url)
    orders = [make_order(buyer=buyer, shop=shop) for _ in range(30)]
    first = celery_webhooks.worker()

    claims = [submit(order) for order in orders]  # each commits, is sequenced and wakes the worker

    assert len(receiver.wait_for(6, seconds=60)) >= 6, "the worker sent nothing"
    celery_webhooks.kill(first)
    in_flight = receiver.got()[-1].webhook_id
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() >= 30 - 5
    assert Delivery.objects.get(event__uuid=in_flight).status == Delivery.Status.PENDING  # sent, never recorded

    celery_webhooks.worker()
    assert _sweep_until_delivered(90), list(Delivery.objects.values_list("status", flat=True))

    events = {str(u) for u in Event.objects.filter(ticket__in=claims).values_list("uuid", flat=True)}
    unique = _each_once(receiver, secret)
    assert set(unique) == events and len(events) == 30
    ids = receiver.ids()
    assert len(ids) > len(unique) and ids.count(in_flight) == 2  # at least once: the one in flight went again
    assert {e["ticket_no"] for e in unique.values()} == {c.ticket_no for c in claims}


def test_with_the_broker_down_tickets_move_and_once_it_is_back_the_sweep_delivers_everything(
        celery_webhooks, receiver, buyer, ops_user):
    shop = make_order(buyer=buyer).shop
    endpoint, secret = services.register_endpoint(shop=shop, url=receiver.url)
    celery_webhooks.broker(CLOSED_PORT_URL)

    started = time.monotonic()
    claims = [submit(make_order(buyer=buyer, shop=shop)) for _ in range(4)]
    for claim in claims[:2]:
        tickets.reject_ticket(ticket_id=claim.pk, actor=ops_user, reason="No defect.")
    tickets.cancel_ticket(ticket_id=claims[2].pk, actor=buyer.user)
    # Each change committed and answered at once, the broker notwithstanding: the waker thread, not the
    # request, sequences the events and tries the broker.
    assert time.monotonic() - started < 10

    deadline = time.monotonic() + 20  # sequenced after the commits, by the waker thread
    while Delivery.objects.filter(status=Delivery.Status.PENDING).count() < 7 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Event.objects.filter(position__isnull=True).count() == 0
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 7
    assert sweep() == 1  # still down: it tries, loses nothing
    assert receiver.got() == []

    celery_webhooks.broker(REDIS_URL)
    celery_webhooks.worker()
    assert _sweep_until_delivered(90), list(Delivery.objects.values_list("status", flat=True))

    unique = _each_once(receiver, secret)
    assert set(unique) == {str(u) for u in Event.objects.values_list("uuid", flat=True)} and len(unique) == 7
    for claim in claims:  # one ticket's events in order
        kinds = [r.event["type"] for r in receiver.got() if r.event["ticket_no"] == claim.ticket_no]
        assert kinds[0] == "ticket.submitted" and len(set(kinds)) == len(kinds)
