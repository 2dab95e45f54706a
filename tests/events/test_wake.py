"""After a commit that wrote events: one wake-up sequences them and starts their deliveries; the sweep does it for
a process that died between its commit and its wake-up."""

import time

import pytest
from django.db import transaction

from events import services, tasks
from events.models import Delivery, Event
from tests.factories import make_order, submit
from tickets import services as tickets

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_wake_up_per_transaction_however_many_events_it_wrote(monkeypatch, buyer, ops_user):
    woken = []
    monkeypatch.setattr(tasks, "wake", lambda: woken.append(1))
    ticket = submit(make_order(buyer=buyer))
    assert len(woken) == 1

    with transaction.atomic():
        tickets.reject_ticket(ticket_id=ticket.pk, actor=ops_user, reason="No.")
        other = submit(make_order(buyer=buyer))
        with pytest.raises(RuntimeError), transaction.atomic():  # a savepoint rolled back takes only its own
            tickets.cancel_ticket(ticket_id=other.pk, actor=buyer.user)
            raise RuntimeError
        assert woken == [1]
    assert len(woken) == 2 and Event.objects.count() == 3


def test_the_sweep_sequences_and_starts_what_a_dead_process_left(monkeypatch, local_webhooks, receiver, buyer):
    order = make_order(buyer=buyer)
    endpoint, secret = services.register_endpoint(shop=order.shop, url=receiver.url)
    monkeypatch.setattr(tasks, "wake", lambda: None)  # the process died right after its commit
    ticket = submit(order)
    assert Event.objects.get(ticket=ticket).position is None and not Delivery.objects.exists()
    monkeypatch.undo()
    local_webhooks.WEBHOOK_DELIVERY = "thread"

    assert tasks.sweep() == 1

    [request] = receiver.wait_for(1, seconds=15)
    assert request.verify(secret)["ticket_no"] == ticket.ticket_no
    assert Event.objects.get(ticket=ticket).position is not None
    deadline = time.monotonic() + 15
    while Delivery.objects.get().status != Delivery.Status.DELIVERED and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED
