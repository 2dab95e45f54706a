"""The demo without Redis (WEBHOOK_DELIVERY="thread"): after a commit, a thread of the process itself sends the
event to a real receiver; the change does not wait for the receiver, and a change rolled back sends nothing."""

import threading
import time

import pytest
from django.db import transaction

from events import services
from events.models import Delivery, Event
from tests.events.receiver import Reply
from tests.factories import make_order, submit

pytestmark = pytest.mark.django_db(transaction=True)


def _wait(predicate, seconds=15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_after_the_commit_the_process_own_thread_delivers_the_event(local_webhooks, receiver, buyer):
    local_webhooks.WEBHOOK_DELIVERY = "thread"
    receiver.answers = [Reply(200, delay=2.0)]  # a slow receiver: the claim must not wait for it
    order = make_order(buyer=buyer)
    endpoint, secret = services.register_endpoint(shop=order.shop, url=receiver.url)

    started = time.monotonic()
    ticket = submit(order)  # commits (no transaction around it), then wakes the delivery thread
    assert time.monotonic() - started < 2.0

    [request] = receiver.wait_for(1, seconds=15)
    event = request.verify(secret)
    assert (event["type"], event["ticket_no"]) == ("ticket.submitted", ticket.ticket_no)
    assert event["id"] == str(Event.objects.get(ticket=ticket).uuid)
    assert _wait(lambda: Delivery.objects.get().status == Delivery.Status.DELIVERED)
    assert "webhook-delivery" in [t.name for t in threading.enumerate()]


def test_a_change_rolled_back_sends_nothing(local_webhooks, receiver, buyer):
    local_webhooks.WEBHOOK_DELIVERY = "thread"
    order = make_order(buyer=buyer)
    services.register_endpoint(shop=order.shop, url=receiver.url)

    with pytest.raises(RuntimeError), transaction.atomic():
        submit(order)
        raise RuntimeError("the rest of the request failed")
    kept = submit(make_order(buyer=buyer, shop=order.shop))  # a change that commits, to know the thread ran

    [request] = receiver.wait_for(1, seconds=15)
    assert request.event["ticket_no"] == kept.ticket_no
    time.sleep(0.3)
    assert len(receiver.got()) == 1 and Event.objects.count() == 1
