"""The feed's promise: a reader that polls ``GET /api/v1/events/?after=<last position it holds>`` never skips an
event, whatever order the transactions that wrote them commit in. Each writer is a thread with its own
connection to PostgreSQL; the first to insert its event commits last."""

import random
import threading

import pytest
from django.db import connection, transaction

from events.models import Event
from tests.factories import client_for, make_order, submit

pytestmark = pytest.mark.django_db(transaction=True)


class Writer(threading.Thread):
    """Submits a claim in a transaction of its own connection, then holds it open until released."""

    def __init__(self, order):
        super().__init__(daemon=True)
        self.order, self.inserted, self.release, self.done = order, threading.Event(), threading.Event(), threading.Event()
        self.ticket, self.error = None, None

    def run(self):
        try:
            with transaction.atomic():
                self.ticket = submit(self.order)
                self.inserted.set()
                if not self.release.wait(30):
                    raise TimeoutError("never released")
        except Exception as exc:  # noqa: BLE001 — reported by the test
            self.error = exc
        finally:
            self.inserted.set()
            connection.close()
            self.done.set()

    def commit(self):
        self.release.set()
        assert self.done.wait(30)
        assert self.error is None, self.error


class Reader:
    """A shop's system catching up: it keeps the last position it saw and asks for what follows."""

    def __init__(self, user):
        self.client, self.after, self.seen = client_for(user), 0, []

    def poll(self) -> list[str]:
        new = []
        while True:
            body = self.client.get("/api/v1/events/", {"after": self.after, "page_size": 2}).json()
            new += [event["ticket_no"] for event in body["results"]]
            if body["results"]:
                self.after = body["results"][-1]["position"]
            if not body["next"]:
                break
        self.seen += new
        return new


def test_the_event_inserted_first_and_committed_last_is_not_skipped(buyer, service_user):
    first, second = Writer(make_order(buyer=buyer)), Writer(make_order(buyer=buyer))
    reader = Reader(service_user)
    first.start()
    assert first.inserted.wait(30) and first.error is None
    second.start()
    assert second.inserted.wait(30) and second.error is None

    second.commit()
    assert reader.poll() == [second.ticket.ticket_no]  # the first is still in flight
    assert reader.poll() == []
    first.commit()
    assert reader.poll() == [first.ticket.ticket_no]  # after the position of the second: not skipped
    assert reader.poll() == []

    one, two = (Event.objects.get(ticket=w.ticket) for w in (first, second))
    assert one.id < two.id and one.position > two.position  # an id cursor would have skipped `one`
    assert sorted(reader.seen) == sorted([first.ticket.ticket_no, second.ticket.ticket_no])


def test_many_writers_committing_in_a_shuffled_order_are_each_seen_once(buyer, service_user):
    writers = [Writer(make_order(buyer=buyer)) for _ in range(6)]
    reader = Reader(service_user)
    for writer in writers:  # inserted one after the other: ids in this order
        writer.start()
        assert writer.inserted.wait(30) and writer.error is None
    order = writers[:]
    random.Random(22).shuffle(order)
    order.sort(key=lambda w: w is writers[0])  # and the first to insert commits last

    for writer in order:
        reader.poll()
        writer.commit()
        assert reader.poll() == [writer.ticket.ticket_no]

    assert sorted(reader.seen) == sorted(w.ticket.ticket_no for w in writers)
    assert len(reader.seen) == len(set(reader.seen)) == 6
