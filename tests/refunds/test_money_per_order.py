"""Money per order (issue #19, findings 1, 7 and 8): what belongs to the order rather than a line (shipping,
the coupon, the points) and the order's cash are counted per order and held by the database; every money
path locks the order first (order, then ticket, then refund), so sibling tickets decide one after the
other; a deadlock that still happens is tried once more, then answered 409 in words.

Races run on PostgreSQL with real threads (tests/tickets/test_concurrency.race)."""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from aftersales.errors import Conflict, Contention, FieldInvalid, InvalidTransition
from aftersales.transactions import atomic_retrying
from demo.journeys import receive, ship_back
from orders.models import Order
from orders.services import import_order
from refunds import services as refunds
from refunds.models import GatewayPayout, Refund
from tests.factories import UserFactory, make_order, reason, submit
from tests.tickets.test_concurrency import race
from tickets import services as tickets
from tickets.models import Ticket

S = Ticket.Status


@pytest.fixture
def two_of_each(db):
    return {"ops": [UserFactory(groups=["ops"]), UserFactory(groups=["ops"])],
            "finance": [UserFactory(groups=["finance"]), UserFactory(groups=["finance"])],
            "warehouse": UserFactory(groups=["warehouse"])}


def paid_per_order(order: Order) -> Decimal:
    """What the gateway paid out for this order (the sandbox's own ledger)."""
    return sum(GatewayPayout.objects.filter(order_no=order.order_no).values_list("amount", flat=True), Decimal(0))


def sibling_claims(buyer):
    """Finding 1's order: two lines of 50.00, shipping 10.00 (110.00 paid), delivered yesterday; a return
    claim per line."""
    order = make_order(buyer=buyer, lines=(("general", "50.00", 1, None), ("general", "50.00", 1, None)),
                       shipping_fee="10.00")
    return order, [submit(order, type="return_refund", reason_code="quality_issue", lines=[(i, 1)])
                   for i in range(2)]


@pytest.mark.django_db(transaction=True)
def test_finding1_sibling_approvals_at_once_give_the_shipping_once_and_never_pay_more_than_the_order(
        buyer, two_of_each):
    """Two ops users approve the two tickets of one order at the same moment, each with the shipping:
    one gets it, the other does not; paid through, the gateway pays at most what the order paid. 50 runs."""
    ops, finance = two_of_each["ops"], two_of_each["finance"]
    staff = {"warehouse": two_of_each["warehouse"]}
    for _run in range(50):
        order, pair = sibling_claims(buyer)
        results = race(*[(user.pk, lambda user, t=ticket: tickets.approve_ticket(
            ticket_id=t.pk, actor=user, refund_shipping=True)) for user, ticket in zip(ops, pair, strict=True)])
        assert all(outcome == "ok" for outcome, _ in results), results
        shipping = sorted(Ticket.objects.filter(order=order).values_list("shipping_refund", flat=True))
        assert shipping == [Decimal("0.00"), Decimal("10.00")]
        for ticket in pair:
            ticket.refresh_from_db()
            ship_back(ticket, staff)
            receive(ticket, staff)
        race(*[(user.pk, lambda user, t=ticket: refunds.finance_approve_ticket(ticket_id=t.pk, actor=user))
               for user, ticket in zip(finance, pair, strict=True)])
        order.refresh_from_db()
        assert paid_per_order(order) == order.refunded_amount == Decimal("110.00")
        assert order.refunded_shipping == Decimal("10.00")
        assert set(Ticket.objects.filter(order=order).values_list("status", flat=True)) == {S.COMPLETED}


@pytest.mark.django_db(transaction=True)
def test_finding1_shipping_already_given_by_a_sibling_is_never_paid_again(buyer, staff, gateway):
    """Whatever the tickets say (two of them carrying the whole shipping, as before the fix), the refund
    that would pay the shipping a second time is refused before any money moves, and the order's CHECK
    refuses it if anything tried to count it."""
    order, pair = sibling_claims(buyer)
    for ticket in pair:
        tickets.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"])
        ticket.refresh_from_db()
        ship_back(ticket, staff)
        receive(ticket, staff)
    # What the unlocked read let happen: both tickets hold the order's shipping.
    Ticket.objects.filter(order=order).update(shipping_refund=Decimal("10.00"), refund_amount=Decimal("60.00"))

    for ticket in pair:
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])

    order.refresh_from_db()
    assert paid_per_order(order) == order.refunded_amount == Decimal("60.00")
    failed = Refund.objects.get(ticket__order=order, status=Refund.Status.FAILED)
    assert "shipping" in failed.failure_reason and order.order_no in failed.failure_reason
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(refunded_shipping=Decimal("20.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(refunded_amount=Decimal("110.01"))


@pytest.mark.django_db
def test_an_order_keeps_what_its_refunds_gave_back_and_the_import_cannot_shrink_below_it(
        buyer, django_capture_on_commit_callbacks):
    order = make_order(buyer=buyer, lines=(("general", "40.00", 1, None),), status="unshipped", shipping_fee="8.00",
                       coupon="4.00", virtual_currency="2.00")
    with django_capture_on_commit_callbacks(execute=True):
        submit(order, type="refund_only", reason_code="changed_mind")  # approved by the system, paid at once
    order.refresh_from_db()
    assert (order.refunded_amount, order.refunded_shipping) == (Decimal("42.00"), Decimal("8.00"))
    payload = {"order_no": order.order_no, "shop": {"code": order.shop.code, "name": order.shop.name},
               "buyer": {"account": buyer.account}, "status": "unshipped",
               "placed_at": order.placed_at.isoformat(), "goods_amount": "40.00", "shipping_fee": "5.00",
               "coupon_discount": "4.00", "virtual_currency": "2.00", "amount_paid": "39.00",
               "lines": [{"line_id": line.line_id, "sku": line.sku, "product_name": line.product_name,
                          "category": line.category, "unit_price": str(line.unit_price), "quantity": line.quantity,
                          "paid_amount": str(line.paid_amount)} for line in order.lines.all()]}
    with pytest.raises(FieldInvalid) as refused:
        import_order(payload)
    assert refused.value.field in {"amount_paid", "shipping_fee"}


@pytest.mark.django_db(transaction=True)
def test_finding8_two_refund_only_claims_that_together_take_an_unshipped_order_carry_its_shipping_once(buyer):
    """Each buyer session claims one line of an unshipped order at the same moment: the second to decide
    sees the first and, taking the whole order, carries the shipping (SPEC §4.1); never both, never none."""
    reason_id = reason("changed_mind").pk
    for _run in range(12):
        order = make_order(buyer=buyer, status="unshipped", shipping_fee="6.00",
                           lines=(("general", "20.00", 1, None), ("general", "30.00", 1, None)))
        lines = list(order.lines.all())
        results = race(*[(buyer.user.pk, lambda user, line=line, order_no=order.order_no: tickets.submit_ticket(
            actor=user, order_no=order_no, type="refund_only", reason_id=reason_id,
            lines=[{"order_line_id": line.line_id, "quantity": 1}])) for line in lines])
        assert all(outcome == "ok" for outcome, _ in results), results
        shipping = sorted(Ticket.objects.filter(order=order).values_list("shipping_refund", flat=True))
        assert shipping == [Decimal("0.00"), Decimal("6.00")]
        order.refresh_from_db()
        assert paid_per_order(order) == order.refunded_amount == order.amount_paid == Decimal("56.00")


@pytest.mark.django_db(transaction=True)
def test_finding7_approving_again_while_another_records_the_failed_refund_paid_by_hand_never_fails_the_server(
        buyer, staff, two_of_each, gateway):
    """Finance approves a ticket whose refund the gateway declined, while another finance user records that
    refund as paid by hand: one wins, the other is refused in words; no deadlock, one payment. 12 runs."""
    finance = two_of_each["finance"]
    for _run in range(12):
        order = make_order(buyer=buyer, lines=(("general", "30.00", 1, None),))
        ticket = submit(order, type="refund_only", reason_code="quality_issue")
        tickets.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"])
        gateway.script = ["decline"]
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
        declined = Refund.objects.get(ticket=ticket, status=Refund.Status.FAILED)
        results = race(
            (finance[0].pk, lambda user, pk=ticket.pk: refunds.finance_approve_ticket(ticket_id=pk, actor=user)),
            (finance[1].pk, lambda user, pk=declined.pk: refunds.mark_refund_paid_manually(
                refund_id=pk, actor=user, reason="bank transfer", reference="TX-1")))
        for outcome, value in results:
            assert outcome == "ok" or isinstance(value, Conflict | InvalidTransition), results
        order.refresh_from_db()
        ticket.refresh_from_db()
        assert ticket.status == S.COMPLETED
        assert Refund.objects.filter(ticket=ticket, status=Refund.Status.SUCCEEDED).count() == 1
        assert order.refunded_amount == Decimal("30.00")


@pytest.mark.django_db(transaction=True)
def test_finding7_a_deadlock_is_tried_once_more_and_then_answered_in_words(buyer):
    """Two transactions lock two orders in opposite orders: PostgreSQL kills one; ``atomic_retrying`` runs
    it again (and it succeeds); with no try left it is a Contention (409), never a server error."""
    first, second = (make_order(buyer=buyer) for _ in range(2))
    attempts = {"a": 0, "b": 0}
    barrier = threading.Barrier(2)

    def locker(name, pks):
        @atomic_retrying
        def work():
            attempts[name] += 1
            # The first try locks in the order given (opposite to the other's: a deadlock); a second try
            # locks in one order, so it goes through even if PostgreSQL chose both as victims.
            for i, pk in enumerate(pks if attempts[name] == 1 else sorted(pks)):
                Order.objects.select_for_update().filter(pk=pk).exists()
                if i == 0 and attempts[name] == 1:
                    barrier.wait(timeout=10)  # both hold their first order before asking for the other's
            return name
        return work

    outcomes = {}

    def run(name, pks):
        try:
            outcomes[name] = locker(name, pks)()
        except Exception as exc:  # the outcome is the point
            outcomes[name] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=("a", [first.pk, second.pk])),
               threading.Thread(target=run, args=("b", [second.pk, first.pk]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == {"a": "a", "b": "b"}  # the victim ran again and went through
    assert max(attempts.values()) == 2  # the one PostgreSQL chose ran again

    # Inside a caller's transaction there is no second try: the refusal goes up, in words.
    from django.db import OperationalError

    @atomic_retrying
    def always_deadlocked():
        raise OperationalError("deadlock detected") from _Sqlstate("40P01")

    with pytest.raises(Contention) as refused, transaction.atomic():
        always_deadlocked()
    assert "try again" in refused.value.detail


class _Sqlstate(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate
