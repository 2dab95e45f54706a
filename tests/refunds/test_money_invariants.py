"""Whatever happens to refunds, the money holds (SPEC §11, issue #11): claims, lowered approvals, declines,
timeouts after payment, transient errors, retries and reconciliations in any order never refund a line
more than was paid for it, never pay a key twice, and end with the ledger and the refunds agreeing.
And twenty finance users approving one ticket at once pay it once."""

import contextlib
import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales import clock
from aftersales.errors import DomainError, InvalidTransition
from refunds import services as refunds
from refunds.execution import execute_refund
from refunds.gateway import GatewayError
from refunds.models import GatewayPayout, Refund, RefundLine
from refunds.tasks import reconcile_refunds
from tests.factories import make_order, submit
from tickets import services as tickets
from tickets.models import Ticket

S = Refund.Status
FAULTS = st.lists(st.sampled_from(["ok", "error", "timeout", "decline"]), max_size=3)
CLAIM = st.tuples(st.just("claim"), st.integers(0, 1), st.integers(1, 2), st.booleans(), st.booleans())
STEPS = st.lists(st.one_of(
    CLAIM,
    st.tuples(st.just("run"), st.integers(0, 9), FAULTS),
    st.tuples(st.just("reconcile"), FAULTS),
    st.tuples(st.just("approve_again"), st.integers(0, 9)),
), min_size=1, max_size=10)


def claim(order, staff, line: int, units: int, lowered: bool, extras: bool) -> None:
    """A refund-only claim of up to ``units`` of a line, approved by ops (lowered by a cent: a service
    fee; with ``extras``, giving back the order's shipping, coupon and points too, whatever a sibling
    already took) and by finance. Refused claims (nothing left to claim) change nothing."""
    try:
        with transaction.atomic():
            ticket = submit(order, type="refund_only", lines=[(line, units)])
            amount = ticket.refund_amount - Decimal("0.01") if lowered and ticket.refund_amount > 1 else None
            tickets.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"], refund_amount=amount,
                                   fee_reason="Worn" if amount is not None else "", refund_shipping=extras,
                                   refund_coupon=extras, refund_virtual_currency=extras)
            refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    except DomainError:
        pass


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=CLAIM, steps=STEPS)
def test_no_sequence_refunds_a_line_beyond_its_price_or_pays_a_key_twice(first, steps, buyer, staff, gateway):
    with transaction.atomic():
        order = make_order(buyer=buyer, lines=(("general", "10.00", 3, None), ("general", "7.00", 2, None)),
                           shipping_fee="6.00", coupon="3.00", virtual_currency="1.50")
        for step in [first, *steps]:
            if step[0] == "claim":
                claim(order, staff, *step[1:])
                continue
            live = list(Refund.objects.filter(ticket__order=order).order_by("pk"))
            if step[0] == "run" and live:
                gateway.script = list(step[2])
                with contextlib.suppress(GatewayError):
                    execute_refund(refund_id=live[step[1] % len(live)].pk)
            elif step[0] == "reconcile":
                gateway.script = list(step[1])
                reconcile_refunds(now=clock.now() + dt.timedelta(minutes=20))
            elif step[0] == "approve_again":
                waiting = list(Ticket.objects.filter(order=order, status=Ticket.Status.AWAITING_REFUND,
                                                     refund_requested_at__isnull=True).order_by("pk"))
                if waiting:
                    refunds.finance_approve_ticket(ticket_id=waiting[step[1] % len(waiting)].pk, actor=staff["finance"])
        # The gateway behaves again: everything under way settles.
        gateway.script, gateway.status_errors = [], 0
        reconcile_refunds(now=clock.now() + dt.timedelta(minutes=20))

        refunds_of_order = Refund.objects.filter(ticket__order=order)
        assert not refunds_of_order.filter(status__in=[S.PENDING, S.IN_PROGRESS]).exists()
        for line in order.lines.all():
            paid_back = RefundLine.objects.filter(order_line=line, refund__status=S.SUCCEEDED).aggregate(
                total=Sum("amount"))["total"] or 0
            assert line.refunded_amount == paid_back <= line.paid_amount
        succeeded = refunds_of_order.filter(status=S.SUCCEEDED)
        payouts = GatewayPayout.objects.filter(order_no=order.order_no)
        assert sorted(payouts.values_list("idempotency_key", "amount")) == sorted(
            succeeded.values_list("uuid", "amount"))
        assert succeeded.values("ticket").distinct().count() == succeeded.count()  # one paid refund a ticket
        # Per order (issue #19): what the order counts is what succeeded, and never more than it paid or
        # than each order-level part it had.
        order.refresh_from_db()
        given = succeeded.aggregate(amount=Sum("amount", default=0), shipping=Sum("shipping", default=0),
                                    coupon=Sum("coupon", default=0), vc=Sum("virtual_currency", default=0))
        assert (order.refunded_amount, order.refunded_shipping, order.refunded_coupon,
                order.refunded_virtual_currency) == (given["amount"], given["shipping"], given["coupon"], given["vc"])
        assert sum(payouts.values_list("amount", flat=True), Decimal(0)) == given["amount"] <= order.amount_paid
        assert given["shipping"] <= order.shipping_fee and given["coupon"] <= order.coupon_discount
        assert given["vc"] <= order.virtual_currency
        transaction.set_rollback(True)  # the next example starts from nothing


@pytest.mark.django_db(transaction=True)
def test_twenty_finance_users_approving_one_ticket_at_once_pay_it_once(awaiting_refund, staff):
    ticket = awaiting_refund()
    users = [staff["finance"].pk] * 20
    barrier, results = threading.Barrier(len(users)), [None] * len(users)

    def approve(i, user_pk):
        try:
            user = get_user_model().objects.get(pk=user_pk)
            barrier.wait(timeout=30)
            results[i] = refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=user)
        except Exception as exc:  # the outcome is the point: asserted below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(i, pk)) for i, pk in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert not any(thread.is_alive() for thread in threads)
    winners = [r for r in results if isinstance(r, Ticket)]
    assert len(winners) == 1, results
    assert all(isinstance(r, InvalidTransition) and r.status == 409 for r in results if r not in winners), results
    refund = Refund.objects.get(ticket=ticket)
    assert refund.status == S.SUCCEEDED
    assert list(GatewayPayout.objects.values_list("idempotency_key", "amount")) == [(refund.uuid, refund.amount)]
    assert Ticket.objects.get(pk=ticket.pk).events.filter(transition="finance_approve").count() == 1
