"""The sandbox payment provider behaves like a real one: one payment per idempotency key however often it
is asked, the same key with another amount refused, declines stuck to their key, and over HTTP a real
socket timeout, after which the status call tells whether the money moved."""

import threading
import uuid
from decimal import Decimal

import pytest

from refunds.gateway import GatewayDeclined, GatewayError, GatewayTimeout
from refunds.models import GatewayPayout
from refunds.sandbox import Faults, HttpGateway, InProcessGateway, KeyReused, Sandbox, SandboxServer

D = Decimal


def key() -> str:
    return str(uuid.uuid4())


@pytest.mark.django_db
def test_the_same_key_twice_pays_once_and_answers_the_first_payment():
    gateway, k = InProcessGateway(), key()

    first = gateway.refund(idempotency_key=k, amount=D("20.00"), order_no="O-1")
    again = gateway.refund(idempotency_key=k, amount=D("20.00"), order_no="O-1")

    assert again == first
    assert GatewayPayout.objects.filter(idempotency_key=k).count() == 1
    assert gateway.status(idempotency_key=k) == first
    assert gateway.status(idempotency_key=key()) is None


@pytest.mark.django_db
def test_the_same_key_with_another_amount_is_refused_and_pays_nothing_more():
    gateway, k = InProcessGateway(), key()
    gateway.refund(idempotency_key=k, amount=D("20.00"), order_no="O-1")

    with pytest.raises(KeyReused):
        gateway.refund(idempotency_key=k, amount=D("20.01"), order_no="O-1")

    assert list(GatewayPayout.objects.values_list("amount", flat=True)) == [D("20.00")]


@pytest.mark.django_db
def test_a_declined_key_stays_declined_and_pays_nothing():
    sandbox = Sandbox(Faults(decline_rate=0.5), seed=7)
    keys = [key() for _ in range(40)]
    declined = set()
    for k in keys:
        try:
            sandbox.refund(idempotency_key=k, amount=D("1.00"), order_no="O-1")
        except GatewayDeclined:
            declined.add(k)

    assert 5 < len(declined) < 35  # about half
    for k in keys:  # asked again: the same answer for each key
        if k in declined:
            with pytest.raises(GatewayDeclined):
                sandbox.refund(idempotency_key=k, amount=D("1.00"), order_no="O-1")
        else:
            sandbox.refund(idempotency_key=k, amount=D("1.00"), order_no="O-1")
    assert set(GatewayPayout.objects.values_list("idempotency_key", flat=True)) == {
        uuid.UUID(k) for k in keys if k not in declined}


# --------------------------------------------------------------------------------------------- over HTTP


@pytest.fixture
def http_sandbox(settings):
    """A sandbox server on a free port, served from a thread of this process (its handler threads use
    their own database connections: the test commits, transaction=True)."""
    servers = []

    def start(faults: Faults | None = None, timeout: float = 2.0) -> HttpGateway:
        server = SandboxServer(("127.0.0.1", 0), Sandbox(faults, seed=1))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        settings.REFUND_GATEWAY_URL = f"http://127.0.0.1:{server.server_address[1]}"
        settings.REFUND_GATEWAY_TIMEOUT = timeout
        return HttpGateway()

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db(transaction=True)
def test_over_http_the_same_key_pays_once_and_another_amount_is_refused(http_sandbox):
    gateway, k = http_sandbox(), key()

    first = gateway.refund(idempotency_key=k, amount=D("12.34"), order_no="O-9")
    assert gateway.refund(idempotency_key=k, amount=D("12.34"), order_no="O-9") == first
    with pytest.raises(KeyReused):
        gateway.refund(idempotency_key=k, amount=D("99.99"), order_no="O-9")

    assert gateway.status(idempotency_key=k) == first
    assert gateway.status(idempotency_key=key()) is None
    assert list(GatewayPayout.objects.values_list("amount", flat=True)) == [D("12.34")]


@pytest.mark.django_db(transaction=True)
def test_over_http_a_payment_answered_too_late_is_a_timeout_and_status_shows_it_paid(http_sandbox):
    gateway, k = http_sandbox(Faults(timeout_after_success_rate=1.0, hang_ms=1500), timeout=0.3), key()

    with pytest.raises(GatewayTimeout):
        gateway.refund(idempotency_key=k, amount=D("5.00"), order_no="O-2")

    paid = gateway.status(idempotency_key=k)
    assert paid is not None and paid.amount == D("5.00")
    assert GatewayPayout.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_over_http_a_transient_error_pays_nothing_and_an_absent_gateway_is_a_transient_error(http_sandbox, settings):
    gateway, k = http_sandbox(Faults(error_rate=1.0)), key()

    with pytest.raises(GatewayError) as raised:
        gateway.refund(idempotency_key=k, amount=D("5.00"), order_no="O-3")
    assert not isinstance(raised.value, GatewayTimeout)
    assert not GatewayPayout.objects.exists()

    settings.REFUND_GATEWAY_URL = "http://127.0.0.1:9"  # nothing listens there: never sent
    with pytest.raises(GatewayError) as raised:
        HttpGateway().refund(idempotency_key=k, amount=D("5.00"), order_no="O-3")
    assert not isinstance(raised.value, GatewayTimeout)


@pytest.mark.django_db(transaction=True)
def test_over_http_concurrent_calls_with_one_key_pay_once(http_sandbox):
    http_sandbox(Faults(latency_ms=20))
    k, barrier, answers = key(), threading.Barrier(8), []

    def call():
        gateway = HttpGateway()  # each thread its own connection
        barrier.wait(timeout=10)
        answers.append(gateway.refund(idempotency_key=k, amount=D("7.00"), order_no="O-4"))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(answers) == 8 and len(set(answers)) == 1
    assert GatewayPayout.objects.count() == 1
