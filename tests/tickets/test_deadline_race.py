"""Two deadline sweeps at once on PostgreSQL (real threads, each on its own connection): every due ticket is
acted on exactly once, none is skipped (FOR UPDATE SKIP LOCKED over the due tickets, in batches)."""

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection

from aftersales import clock
from demo import journeys
from tests.factories import make_order, submit
from tickets.deadlines import run_deadlines
from tickets.models import Ticket, TimelineEvent

pytestmark = pytest.mark.django_db(transaction=True)
LINES = 10


def test_two_sweeps_at_once_act_on_each_of_500_due_tickets_exactly_once(staff, buyer):
    tickets = []
    for _ in range(50):  # 500 claims, one per order line
        order = make_order(buyer=buyer, lines=[("general", "10.00", 1, None)] * LINES)
        tickets += [submit(order, lines=[(i, 1)]) for i in range(LINES)]
    returns = tickets[:50]  # approved: these close at their return deadline; the rest escalate
    for ticket in returns:
        journeys.approve(ticket, staff)
    now = clock.now() + dt.timedelta(days=8)
    assert Ticket.objects.filter(next_deadline_at__lt=now, escalated_at__isnull=True).count() == 500

    barrier, results = threading.Barrier(2), [None, None]

    def sweep(i):
        try:
            barrier.wait(timeout=20)
            results[i] = run_deadlines(now, batch=20)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a sweep is stuck"

    first, second = results
    total = first + second
    assert total == Counter(closed=50, escalated_review=450), (first, second)
    assert first.total() > 0 and second.total() > 0  # both took part
    acted = Counter(TimelineEvent.objects.filter(transition__in=["close", "escalate"], actor__isnull=True)
                    .values_list("ticket_id", flat=True))
    assert set(acted) == {t.pk for t in tickets} and set(acted.values()) == {1}
    assert Ticket.objects.filter(pk__in=[t.pk for t in returns], status="closed").count() == 50
    assert not Ticket.objects.filter(next_deadline_at__lt=now, escalated_at__isnull=True).exists()
