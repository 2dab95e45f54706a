"""Webhooks delivered to a real HTTP receiver on 127.0.0.1 (tests/events/receiver.py): signed as Standard
Webhooks and verified with the `standardwebhooks` package, retried on the published schedule, one ticket's
events in order, every attempt kept. Time travels with time_machine (it moves every thread's clock, so the
receiver verifies timestamps at the moment the test has travelled to)."""

import datetime as dt
import socket
import time

import pytest
import time_machine
from django.db import DatabaseError, transaction
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from aftersales import clock
from events import services, signing
from events.delivery import RETRY_WINDOW, deliver_endpoint, endpoints_due, schedule
from events.models import Attempt, Delivery, Endpoint, Event
from events.outbox import sequence
from tests.events.receiver import Reply
from tests.factories import make_order, submit
from tickets import services as tickets

pytestmark = pytest.mark.django_db

TWO_LINES = (("general", "10.00", 1, None), ("general", "10.00", 1, None))
SECOND = dt.timedelta(seconds=1)


def sent(receiver) -> list[tuple[str, str]]:
    return [(r.event["ticket_no"], r.event["type"]) for r in receiver.got()]


# ------------------------------------------------------------------------------------------ signatures


def test_events_arrive_signed_in_order_and_verify_with_standardwebhooks(local_webhooks, receiver, buyer, ops_user):
    order = make_order(buyer=buyer)
    endpoint, secret = services.register_endpoint(shop=order.shop, url=receiver.url)
    ticket = submit(order)
    tickets.reject_ticket(ticket_id=ticket.pk, actor=ops_user, reason="Photos show no defect.")
    sequence()

    assert deliver_endpoint(endpoint.pk).delivered == 2

    got = receiver.got()
    events = [request.verify(secret) for request in got]
    stored = list(Event.objects.filter(ticket=ticket).order_by("position"))
    assert [e["type"] for e in events] == ["ticket.submitted", "ticket.rejected"]
    assert [r.webhook_id for r in got] == [e["id"] for e in events] == [str(e.uuid) for e in stored]
    assert [e["position"] for e in events] == [e.position for e in stored]
    assert events[1]["data"]["rejection_reason"] == "Photos show no defect."
    assert {e["ticket_no"] for e in events} == {ticket.ticket_no} and {e["shop"] for e in events} == {order.shop.code}
    assert got[0].path == "/hooks/aftersales" and got[0].headers["content-type"] == "application/json"
    assert len(got[0].headers["webhook-signature"].split(" ")) == 1  # one secret, one signature
    assert abs(int(got[0].headers["webhook-timestamp"]) - time.time()) < 60
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.DELIVERED}
    assert deliver_endpoint(endpoint.pk).delivered == 0 and len(receiver.got()) == 2  # nothing twice


def test_a_tampered_body_or_another_secret_fails_verification(local_webhooks, receiver, buyer):
    order = make_order(buyer=buyer)
    endpoint, secret = services.register_endpoint(shop=order.shop, url=receiver.url)
    submit(order)
    sequence()
    deliver_endpoint(endpoint.pk)
    [request] = receiver.got()
    request.verify(secret)

    tampered = request.body.replace(b'"pending_review"', b'"completed"')
    assert tampered != request.body
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):  # the same body under another id (a replayed signature)
        Webhook(secret).verify(request.body, {**request.headers, "webhook-id": str(Event.objects.get().uuid)[:-1]})


def test_a_request_older_than_five_minutes_fails_verification(local_webhooks, receiver, buyer):
    order = make_order(buyer=buyer)
    endpoint, secret = services.register_endpoint(shop=order.shop, url=receiver.url)
    submit(order)
    sequence()
    with time_machine.travel(clock.now(), tick=True) as traveller:
        deliver_endpoint(endpoint.pk)
        [request] = receiver.got()
        traveller.shift(dt.timedelta(minutes=4))
        request.verify(secret)  # late but within the tolerance
        traveller.shift(dt.timedelta(minutes=2))
        with pytest.raises(WebhookVerificationError, match="too old"):
            request.verify(secret)


def test_after_rotation_both_secrets_verify_during_the_grace_period_and_only_the_new_one_after(
        local_webhooks, receiver, buyer, ops_user):
    local_webhooks.WEBHOOK_SECRET_GRACE_HOURS = 24
    order = make_order(buyer=buyer)
    endpoint, old = services.register_endpoint(shop=order.shop, url=receiver.url)
    with time_machine.travel(clock.now(), tick=True) as traveller:
        _, new = services.rotate_secret(endpoint_id=endpoint.pk)
        assert new != old and new.startswith("whsec_")
        ticket = submit(order)
        sequence()
        deliver_endpoint(endpoint.pk)
        during = receiver.got()[-1]
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        assert during.verify(old) == during.verify(new)

        traveller.shift(dt.timedelta(hours=24, minutes=1))
        tickets.reject_ticket(ticket_id=ticket.pk, actor=ops_user, reason="No defect.")
        sequence()
        deliver_endpoint(endpoint.pk)
        after = receiver.got()[-1]
        assert after.event["type"] == "ticket.rejected"
        assert len(after.headers["webhook-signature"].split(" ")) == 1
        after.verify(new)
        with pytest.raises(WebhookVerificationError):
            after.verify(old)


# ---------------------------------------------------------------------------------- retries and attempts


def test_a_receiver_answering_500_twice_then_200_gets_the_event_three_times_and_no_more(
        local_webhooks, receiver, buyer):
    local_webhooks.WEBHOOK_RESPONSE_EXCERPT = 1000
    receiver.answers = [Reply(500, b"E" * 5000, delay=0.2), Reply(503, "upstream down — 稍后".encode())]
    order = make_order(buyer=buyer)
    endpoint, secret = services.register_endpoint(shop=order.shop, url=receiver.url)
    submit(order)
    sequence()
    delivery = Delivery.objects.get()

    with time_machine.travel(clock.now(), tick=True) as traveller:
        assert deliver_endpoint(endpoint.pk).delivered == 0
        assert len(receiver.got()) == 1
        traveller.shift(3 * SECOND)  # the first retry comes 5 s (± 25 %) after the failure: not yet
        deliver_endpoint(endpoint.pk)
        assert len(receiver.got()) == 1
        traveller.shift(4 * SECOND)
        assert deliver_endpoint(endpoint.pk).delivered == 0
        assert len(receiver.got()) == 2
        receiver.got()[-1].verify(secret)
        traveller.shift(10 * SECOND)  # the second comes 15 s (± 25 %) later: not yet
        deliver_endpoint(endpoint.pk)
        assert len(receiver.got()) == 2
        traveller.shift(9 * SECOND)
        assert deliver_endpoint(endpoint.pk).delivered == 1
        receiver.got()[-1].verify(secret)
        traveller.shift(dt.timedelta(days=2))
        assert deliver_endpoint(endpoint.pk).delivered == 0
        assert endpoints_due(now=clock.now()) == []

    got = receiver.got()
    assert len(got) == 3
    assert len({r.webhook_id for r in got}) == 1 and len({r.headers["webhook-timestamp"] for r in got}) == 3
    attempts = list(Attempt.objects.order_by("at", "pk"))
    assert [(a.status_code, a.ok, a.error) for a in attempts] == [
        (500, False, "HTTP 500"), (503, False, "HTTP 503"), (200, True, "")]
    assert [a.response_excerpt for a in attempts] == ["E" * 1000, "upstream down — 稍后", '{"ok":true}']  # capped
    assert attempts[0].latency_ms >= 200 and all(0 <= a.latency_ms < 5000 for a in attempts)
    assert {a.delivery_id for a in attempts} == {delivery.pk} and {a.webhook_id for a in attempts} == {got[0].webhook_id}
    assert attempts[1].at - attempts[0].at >= 3.75 * SECOND and attempts[2].at - attempts[1].at >= 11.25 * SECOND
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Delivery.Status.DELIVERED, 3, "")
    assert delivery.delivered_at == attempts[2].at and delivery.first_attempt_at == attempts[0].at
    with pytest.raises(DatabaseError), transaction.atomic():  # kept as it happened
        Attempt.objects.filter(pk=attempts[0].pk).update(error="")


def test_one_tickets_failing_event_holds_back_its_later_events_but_not_the_other_tickets(
        local_webhooks, receiver, buyer, ops_user):
    order = make_order(buyer=buyer, lines=TWO_LINES)
    endpoint, secret = services.register_endpoint(shop=order.shop, url=receiver.url)
    a, b = submit(order, lines=[(0, 1)]), submit(order, lines=[(1, 1)])
    tickets.reject_ticket(ticket_id=a.pk, actor=ops_user, reason="No.")
    tickets.reject_ticket(ticket_id=b.pk, actor=ops_user, reason="No.")
    sequence()
    a_first = str(Event.objects.get(ticket=a, type="ticket.submitted").uuid)
    failed = []

    def first_of_a_fails_once(request):
        if request.webhook_id == a_first and not failed:
            failed.append(request)
            return Reply(500)
        return None

    receiver.rule = first_of_a_fails_once
    A, B = a.ticket_no, b.ticket_no  # noqa: N806
    with time_machine.travel(clock.now(), tick=True) as traveller:
        deliver_endpoint(endpoint.pk)
        assert sent(receiver) == [(A, "ticket.submitted"), (B, "ticket.submitted"), (B, "ticket.rejected")]
        assert Delivery.objects.filter(ticket_id=a.pk, status=Delivery.Status.PENDING, attempts=0).count() == 1

        traveller.shift(10 * SECOND)
        assert deliver_endpoint(endpoint.pk).delivered == 2

    assert sent(receiver)[3:] == [(A, "ticket.submitted"), (A, "ticket.rejected")]
    for request in receiver.got():
        assert request.headers["webhook-signature"].startswith("v1,")
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.DELIVERED}


def test_a_resent_delivery_starts_the_schedule_again(local_webhooks, receiver, buyer):
    """A fresh window after a resend: its first failure is retried in seconds, not after the 4-hour gaps the
    delivery had reached before."""
    receiver.default = Reply(500)
    order = make_order(buyer=buyer)
    endpoint, _ = services.register_endpoint(shop=order.shop, url=receiver.url)
    submit(order)
    sequence()
    delivery = Delivery.objects.get()
    with time_machine.travel(clock.now(), tick=True) as traveller:
        for _ in range(8):  # the 8th failure waits 4 hours (± jitter) for the next
            deliver_endpoint(endpoint.pk)
            delivery.refresh_from_db()
            traveller.move_to(delivery.next_attempt_at + dt.timedelta(milliseconds=10))
        deliver_endpoint(endpoint.pk)
        delivery.refresh_from_db()
        assert delivery.next_attempt_at - clock.now() > dt.timedelta(hours=2)

        assert services.resend(delivery_ids=[delivery.pk]) == 1
        deliver_endpoint(endpoint.pk)

        delivery.refresh_from_db()
        assert delivery.attempts == 10 and delivery.status == Delivery.Status.PENDING
        assert delivery.next_attempt_at - delivery.first_attempt_at <= 6.25 * SECOND
        traveller.shift(7 * SECOND)
        deliver_endpoint(endpoint.pk)  # the second of the new window: 15 s later
        delivery.refresh_from_db()
        assert 11 * SECOND <= delivery.next_attempt_at - clock.now() <= 19 * SECOND
    assert len(receiver.got()) == 11


# ------------------------------------------------------------------------------------ what can go wrong


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(local_webhooks, receiver, buyer):
    local_webhooks.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.answers = [Reply(200, delay=1.5)]
    order = make_order(buyer=buyer)
    endpoint, _ = services.register_endpoint(shop=order.shop, url=receiver.url)
    submit(order)
    sequence()

    started = time.monotonic()
    assert deliver_endpoint(endpoint.pk).delivered == 0

    assert time.monotonic() - started < 1.2
    [attempt] = Attempt.objects.all()
    assert (attempt.status_code, attempt.ok, attempt.error) == (None, False, "Timed out.")
    assert 250 <= attempt.latency_ms < 1200
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Delivery.Status.PENDING, 1, "Timed out.")
    assert delivery.next_attempt_at > clock.now()


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_timeout(local_webhooks, receiver, buyer):
    """Each byte comes before a read would time out, but the answer as a whole may not take longer."""
    local_webhooks.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.answers = [Reply(200, b"k" * 50, drip=0.1)]
    order = make_order(buyer=buyer)
    endpoint, _ = services.register_endpoint(shop=order.shop, url=receiver.url)
    submit(order)
    sequence()

    started = time.monotonic()
    assert deliver_endpoint(endpoint.pk).delivered == 0

    assert time.monotonic() - started < 1.5  # not the 5 s the dripping would take
    [attempt] = Attempt.objects.all()
    assert (attempt.status_code, attempt.ok) == (None, False) and attempt.error.startswith("Timed out")
    assert 450 <= attempt.latency_ms < 1500


def test_a_refused_connection_is_a_failed_attempt(local_webhooks, buyer):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    order = make_order(buyer=buyer)
    endpoint, _ = services.register_endpoint(shop=order.shop, url=f"http://127.0.0.1:{port}/hooks")
    submit(order)
    sequence()

    assert deliver_endpoint(endpoint.pk).delivered == 0

    [attempt] = Attempt.objects.all()
    assert (attempt.status_code, attempt.ok, attempt.error) == (None, False, "Connection refused.")
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_an_endpoint_that_is_down_gets_one_try_per_run_not_one_per_waiting_event(local_webhooks, buyer):
    """No answer at all (refused, timed out): the run stops there instead of trying every waiting event up to
    the timeout each; the others stay due for the next run (the next event, or the sweep)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    order = make_order(buyer=buyer, lines=(("general", "10.00", 1, None),) * 3)
    endpoint, _ = services.register_endpoint(shop=order.shop, url=f"http://127.0.0.1:{port}/hooks")
    for line in range(3):
        submit(order, lines=[(line, 1)])
    sequence()

    assert deliver_endpoint(endpoint.pk).delivered == 0

    assert Attempt.objects.count() == 1
    assert sorted(Delivery.objects.values_list("attempts", flat=True)) == [0, 0, 1]
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 3
    assert endpoints_due(now=clock.now()) == [endpoint.pk]


def test_a_receiver_closing_a_kept_open_connection_costs_no_failed_attempt(local_webhooks, receiver, buyer):
    """Receivers may close an idle keep-alive connection whenever they like: the next POST goes again on a new
    connection, as any HTTP client does, instead of failing once."""
    receiver.default = Reply(hang_up=True)
    order = make_order(buyer=buyer, lines=(("general", "10.00", 1, None),) * 3)
    endpoint, _ = services.register_endpoint(shop=order.shop, url=receiver.url)
    for line in range(3):
        submit(order, lines=[(line, 1)])
    sequence()

    assert deliver_endpoint(endpoint.pk).delivered == 3

    assert list(Attempt.objects.values_list("ok", flat=True)) == [True, True, True]
    assert len(receiver.got()) == 3


def test_a_redirect_is_not_followed_and_counts_as_a_failure(local_webhooks, receiver, buyer):
    receiver.answers = [Reply(302, b"", headers=(("location", receiver.url + "/moved"),)),
                        Reply(307, b"", headers=(("location", "http://10.0.0.1/inside"),))]
    order = make_order(buyer=buyer)
    endpoint, _ = services.register_endpoint(shop=order.shop, url=receiver.url)
    submit(order)
    sequence()

    with time_machine.travel(clock.now(), tick=True) as traveller:
        deliver_endpoint(endpoint.pk)
        traveller.shift(10 * SECOND)
        deliver_endpoint(endpoint.pk)

    assert [r.path for r in receiver.got()] == ["/hooks/aftersales", "/hooks/aftersales"]  # never /moved
    attempts = list(Attempt.objects.order_by("at", "pk"))
    assert [(a.status_code, a.ok) for a in attempts] == [(302, False), (307, False)]
    assert "redirects are not followed" in attempts[0].error
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_a_huge_answer_is_read_only_up_to_the_cap(local_webhooks, receiver, buyer):
    local_webhooks.WEBHOOK_RESPONSE_EXCERPT = 1000
    receiver.answers = [Reply(200, stream=512 * 1024 * 1024)]  # half a gigabyte announced and written
    order = make_order(buyer=buyer)
    endpoint, _ = services.register_endpoint(shop=order.shop, url=receiver.url)
    ticket = submit(order)
    sequence()

    started = time.monotonic()
    assert deliver_endpoint(endpoint.pk).delivered == 1

    assert time.monotonic() - started < 3
    [attempt] = Attempt.objects.all()
    assert (attempt.status_code, attempt.ok, attempt.response_excerpt) == (200, True, "x" * 1000)
    [request] = receiver.got()
    deadline = time.monotonic() + 10
    while request.fully_answered is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert request.fully_answered is False  # we hung up: the rest was never read
    # The next POST goes on a new connection, and is answered.
    tickets.cancel_ticket(ticket_id=ticket.pk, actor=buyer.user)
    sequence()
    assert deliver_endpoint(endpoint.pk).delivered == 1
    assert [r.event["type"] for r in receiver.got()] == ["ticket.submitted", "ticket.cancelled"]


# ---------------------------------------------------------------------------------------- 24 hours on


def _retry_until(traveller, delivery: Delivery, endpoint_id: int, *, until, every_run=None) -> int:
    """Run the endpoint's delivery at each time its ``delivery`` falls due, until ``until()``."""
    runs = 0
    while not until():
        if every_run:
            every_run()
        deliver_endpoint(endpoint_id)
        delivery.refresh_from_db()
        if delivery.next_attempt_at:
            traveller.move_to(delivery.next_attempt_at + dt.timedelta(milliseconds=10))
        runs += 1
        assert runs < 40, "the retries never ended"
    return runs


def test_an_endpoint_whose_every_attempt_failed_for_24_hours_is_disabled_and_its_pending_deliveries_fail(
        local_webhooks, receiver, buyer):
    receiver.default = Reply(500, b"maintenance")
    order = make_order(buyer=buyer)
    endpoint, _ = services.register_endpoint(shop=order.shop, url=receiver.url)
    ticket = submit(order)
    tickets.cancel_ticket(ticket_id=ticket.pk, actor=buyer.user)  # its event waits behind the first
    sequence()
    first, held = Delivery.objects.order_by("position")

    with time_machine.travel(clock.now(), tick=True) as traveller:
        _retry_until(traveller, first, endpoint.pk,
                     until=lambda: Endpoint.objects.get(pk=endpoint.pk).disabled_at is not None)
        later = submit(make_order(buyer=buyer, shop=order.shop))  # after: not queued, not sent
        sequence()
        deliver_endpoint(endpoint.pk)

    endpoint.refresh_from_db()
    assert "24 hours" in endpoint.disabled_reason and "HTTP 500" in endpoint.disabled_reason
    attempts = list(Attempt.objects.order_by("at", "pk"))
    assert not any(a.ok for a in attempts) and len(receiver.got()) == len(attempts)
    assert endpoint.disabled_at == attempts[-1].at
    assert RETRY_WINDOW <= attempts[-1].at - attempts[0].at < RETRY_WINDOW + SECOND
    nominal = schedule()
    assert abs(len(attempts) - len(nominal)) <= 2  # the published schedule, give or take the jitter
    gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:], strict=False)]
    for gap, expected in zip(gaps[:6], [b - a for a, b in zip(nominal, nominal[1:], strict=False)], strict=False):
        assert expected * 0.75 <= gap <= expected * 1.25 + SECOND
    assert max(gaps) <= dt.timedelta(hours=5)
    first.refresh_from_db()
    held.refresh_from_db()
    assert (first.status, first.attempts) == (Delivery.Status.FAILED, len(attempts))
    assert (held.status, held.attempts, held.last_error) == (Delivery.Status.FAILED, 0, "The endpoint was disabled.")
    assert {r.webhook_id for r in receiver.got()} == {str(first.event.uuid)}
    assert not Delivery.objects.filter(event__ticket=later).exists()
    assert endpoints_due(now=clock.now() + dt.timedelta(days=3)) == []


def test_a_delivery_gives_up_after_24_hours_while_the_endpoint_lives_on_its_successes(
        local_webhooks, receiver, buyer):
    order = make_order(buyer=buyer)
    endpoint, _ = services.register_endpoint(shop=order.shop, url=receiver.url)
    submit(order)
    sequence()
    doomed = Delivery.objects.get()
    failing = {str(doomed.event.uuid)}
    receiver.rule = lambda request: Reply(500) if request.webhook_id in failing else None
    started = clock.now()
    late_pair = []

    def at_23_hours_one_event_passes_and_the_next_fails():
        """The receiver took one event an hour before the day is out; the one after it failed."""
        if late_pair or clock.now() - started < dt.timedelta(hours=20):
            return
        traveller.move_to(started + dt.timedelta(hours=23))
        passes, fails = (submit(make_order(buyer=buyer, shop=order.shop)) for _ in range(2))
        failing.add(str(Event.objects.get(ticket=fails).uuid))
        late_pair.extend([passes, fails])
        sequence()

    with time_machine.travel(started, tick=True) as traveller:
        _retry_until(traveller, doomed, endpoint.pk, every_run=at_23_hours_one_event_passes_and_the_next_fails,
                     until=lambda: Delivery.objects.get(pk=doomed.pk).status != Delivery.Status.PENDING)

    doomed.refresh_from_db()
    assert doomed.status == Delivery.Status.FAILED and doomed.last_error == "HTTP 500"
    assert doomed.next_attempt_at is None and doomed.attempts >= 10
    last = doomed.attempt_log.order_by("-at").first()
    assert last.at - doomed.first_attempt_at >= RETRY_WINDOW
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None and endpoint.disabled_reason == ""  # it took an event an hour ago
    assert endpoint.failing_since >= started + dt.timedelta(hours=23)
    passes, fails = late_pair
    assert Delivery.objects.get(event__ticket=passes).status == Delivery.Status.DELIVERED
    assert Delivery.objects.get(event__ticket=fails).status == Delivery.Status.PENDING  # its own 24 hours
