"""The money a line can give back is held by the database (issue #11): OrderLine.refunded_amount, raised in
the transaction that records a refund as paid, never above what was paid for the line, whatever code or
SQL runs. A refund is recorded with its parts: goods per line, shipping, coupon and points."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from demo import journeys
from refunds import services as refunds
from refunds.execution import _record_success, execute_refund
from refunds.models import GatewayPayout, Refund, RefundLine
from tests.factories import make_order, submit
from tickets import services as tickets
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
D = Decimal


def test_sql_cannot_refund_a_line_beyond_what_was_paid(buyer):
    line = make_order(buyer=buyer, lines=(("general", "20.00", 1, None),)).lines.get()

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE orders_orderline SET refunded_amount = paid_amount + 0.01 WHERE id = %s", [line.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE orders_orderline SET refunded_amount = -0.01 WHERE id = %s", [line.pk])

    with connection.cursor() as cursor:  # exactly what was paid is allowed
        cursor.execute("UPDATE orders_orderline SET refunded_amount = paid_amount WHERE id = %s", [line.pk])
    line.refresh_from_db()
    assert line.refunded_amount == D("20.00")


def test_a_paid_refund_counts_its_goods_against_each_line_and_not_its_shipping(buyer):
    """[001] goods 45 after a 5 coupon, shipping 10, the whole unshipped order refunded: 55 cash, the
    lines 27 + 18 refunded, shipping 10 beside them, the coupon not given back."""
    order = make_order(lines=(("general", "30.00", 1, None), ("general", "10.00", 2, None)), status="unshipped",
                       shipping_fee="10.00", coupon="5.00", buyer=buyer)

    ticket = submit(order, type="refund_only", reason_code="changed_mind")  # approved by the system
    journeys._refund_now(ticket)

    refund = Refund.objects.get(ticket=ticket)
    assert (refund.status, refund.amount, refund.shipping, refund.coupon) == ("succeeded", D("55.00"), D("10.00"), 0)
    assert list(refund.lines.values_list("order_line__line_id", "amount")) == [
        (line.line_id, line.paid_amount) for line in order.lines.all()]
    assert [line.refunded_amount for line in order.lines.all()] == [D("27.00"), D("18.00")]


def test_a_service_fee_comes_off_the_goods_split_over_the_lines(buyer, staff):
    order = make_order(buyer=buyer, lines=(("general", "30.00", 1, None), ("general", "10.00", 1, None)))
    ticket = submit(order, type="refund_only")
    tickets.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"], refund_amount=D("30.01"),
                           fee_reason="Opened and used")

    journeys.finance_approve(ticket, staff)

    refund = Refund.objects.get(ticket=ticket)
    assert (refund.status, refund.amount, refund.shipping) == ("succeeded", D("30.01"), 0)
    assert list(refund.lines.values_list("amount", flat=True)) == [D("22.51"), D("7.50")]
    assert [line.refunded_amount for line in order.lines.all()] == [D("22.51"), D("7.50")]


def test_recording_a_success_that_would_pass_a_line_cap_fails_and_changes_nothing(awaiting_refund, staff):
    ticket = awaiting_refund()
    refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])  # not run: no commit here
    refund = Refund.objects.get(ticket=ticket)
    line = ticket.order.lines.get()
    line.refunded_amount = D("0.01")  # something else paid a cent for this line
    line.save(update_fields=["refunded_amount"])

    with pytest.raises(IntegrityError):
        _record_success(refund_id=refund.pk, reference="RF-TEST")

    refund.refresh_from_db()
    line.refresh_from_db()
    ticket.refresh_from_db()
    assert (refund.status, refund.gateway_reference, refund.finished_at) == ("pending", "", None)
    assert line.refunded_amount == D("0.01")
    assert ticket.status == Ticket.Status.AWAITING_REFUND
    assert not ticket.events.filter(transition="refund_succeeded").exists()


def test_a_refund_that_would_pass_a_line_cap_fails_before_any_money_moves(awaiting_refund, staff):
    ticket = awaiting_refund()
    refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    line = ticket.order.lines.get()
    line.refunded_amount = D("0.01")
    line.save(update_fields=["refunded_amount"])

    refund = execute_refund(refund_id=Refund.objects.get(ticket=ticket).pk)

    assert refund.status == Refund.Status.FAILED
    assert "20.00" in refund.failure_reason
    assert not GatewayPayout.objects.exists()
    assert not refund.gateway_attempts.exists()
    line.refresh_from_db()
    assert line.refunded_amount == D("0.01")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.refund_requested_at) == (Ticket.Status.AWAITING_REFUND, None)  # finance again
    assert ticket.events.filter(transition="refund_failed").count() == 1


def test_a_refund_in_progress_on_the_same_line_counts_before_another_is_sent(buyer, staff):
    """Two tickets on one line, each for half of it; the first is with the gateway when someone (by SQL)
    raises the line's refunded amount: the second may not be sent, though the first has not finished."""
    order = make_order(buyer=buyer, lines=(("general", "10.00", 2, None),))
    first = journeys.advance(submit(order, type="refund_only", lines=[(0, 1)]), "awaiting_refund", staff=staff)
    second = journeys.advance(submit(order, type="refund_only", lines=[(0, 1)]), "awaiting_refund", staff=staff)
    refunds.finance_approve_ticket(ticket_id=first.pk, actor=staff["finance"])
    refunds.finance_approve_ticket(ticket_id=second.pk, actor=staff["finance"])
    Refund.objects.filter(ticket=first).update(status=Refund.Status.IN_PROGRESS)
    order.lines.update(refunded_amount=D("0.01"))

    refund = execute_refund(refund_id=Refund.objects.get(ticket=second).pk)

    assert refund.status == Refund.Status.FAILED
    assert not GatewayPayout.objects.exists()


def test_the_migration_backfills_parts_and_refunded_amounts_of_earlier_refunds(buyer, staff):
    from refunds.migrations import __name__ as package

    backfill = __import__(f"{package}.0007_backfill_parts_and_schedules", fromlist=["backfill"]).backfill
    order = make_order(buyer=buyer, lines=(("general", "30.00", 1, None), ("general", "10.00", 2, None)),
                       status="unshipped", shipping_fee="10.00")
    paid = submit(order, type="refund_only", reason_code="changed_mind", lines=[(0, 1)])
    journeys._refund_now(paid)
    waiting = journeys.advance(submit(make_order(buyer=buyer), type="refund_only"), "awaiting_refund", staff=staff)
    refunds.finance_approve_ticket(ticket_id=waiting.pk, actor=staff["finance"])
    expected = {r.pk: (r.shipping, list(r.lines.values_list("order_line_id", "amount"))) for r in Refund.objects.all()}
    # As before the parts existed. The lines are append-only: the suite's user (a superuser) switches the
    # triggers off for the delete, within the test's transaction.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
    RefundLine.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = origin")
    Refund.objects.update(shipping=0, coupon=0, virtual_currency=0, dispatched_at=None)
    order.lines.update(refunded_amount=0)

    backfill(apps, None)

    assert {r.pk: (r.shipping, list(r.lines.values_list("order_line_id", "amount")))
            for r in Refund.objects.all()} == expected
    assert [line.refunded_amount for line in order.lines.all()] == [D("30.00"), 0]
    pending = Refund.objects.get(ticket=waiting)
    assert pending.dispatched_at == pending.created_at
