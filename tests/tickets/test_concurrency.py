"""Races on PostgreSQL with real threads (SPEC §11: a decision is taken once, a refund paid once).

Each test commits its setup (transaction=True), then starts the competing calls in threads that
wait at one barrier and call the services at the same moment, each on its own database connection.
With transaction=True, on-commit callbacks run and Celery is eager, so a finance approval executes
its refund in the approving thread right after commit. (The reasons, roles and policies the flush
after each test removes are installed again by tests/conftest.py.)"""

import datetime as dt
import threading
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection

from aftersales.errors import InvalidTransition, QuantityAboveClaimable
from demo.journeys import advance
from refunds import services as refunds
from refunds.models import GatewayPayout, Refund
from tests.factories import UserFactory, make_order, reason, submit
from tickets import services
from tickets.models import ReturnShipment, Ticket, TicketLine, TimelineEvent

pytestmark = pytest.mark.django_db(transaction=True)
S = Ticket.Status
User = get_user_model()


def race(*calls):
    """Run each ``call(user)`` in its own thread, all released together by a barrier.

    ``calls`` are (user_pk or None, function). Each thread loads its own user on its own connection
    before the barrier, and closes its connection at the end. Returns one ("ok", value) or
    ("error", exception) per call, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, user_pk, call):
        try:
            user = User.objects.get(pk=user_pk) if user_pk is not None else None
            barrier.wait(timeout=20)
            results[i] = ("ok", call(user))
        except Exception as exc:  # the outcome is the point: the test asserts on it
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, user_pk, call)) for i, (user_pk, call) in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock?)"
    return results


def one_winner(results, loser_error):
    """Exactly one call succeeded; every other one was refused with ``loser_error``. Returns the winner's index."""
    winners = [i for i, (outcome, _) in enumerate(results) if outcome == "ok"]
    assert len(winners) == 1, results
    for i, (_outcome, value) in enumerate(results):
        if i != winners[0]:
            assert isinstance(value, loser_error), results
    return winners[0]


@pytest.fixture
def second_ops(db):
    return UserFactory(username="ops2", groups=["ops"], is_staff=True)


@pytest.fixture
def second_finance(db):
    return UserFactory(username="finance2", groups=["finance"], is_staff=True)


# ---------------------------------------------------------------------------------------------
# ops: one decision


@pytest.mark.parametrize("round_", range(3))
def test_two_reviewers_approving_and_rejecting_at_once_leave_exactly_one_decision(
        round_, staff, second_ops, buyer):
    ticket = submit(make_order(buyer=buyer), type="return_refund")

    results = race(
        (staff["ops"].pk, lambda user: services.approve_ticket(ticket_id=ticket.pk, actor=user)),
        (second_ops.pk, lambda user: services.reject_ticket(ticket_id=ticket.pk, actor=user,
                                                            reason="Photos show no defect.")),
    )

    winner = one_winner(results, InvalidTransition)
    ticket.refresh_from_db()
    decisions = list(ticket.events.filter(transition__in=["approve", "reject"]).values_list(
        "transition", "actor_id", "from_status", "to_status"))
    if winner == 0:
        assert ticket.status == S.AWAITING_RETURN
        assert decisions == [("approve", staff["ops"].pk, S.PENDING_REVIEW, S.AWAITING_RETURN)]
        assert ticket.rejection_reason == ""
    else:
        assert ticket.status == S.REJECTED
        assert decisions == [("reject", second_ops.pk, S.PENDING_REVIEW, S.REJECTED)]
        assert ticket.approved_at is None
    assert ticket.reviewer_id == decisions[0][1]
    assert ticket.events.count() == 2  # submit + the one decision


def test_a_buyer_cancelling_while_ops_approves_never_loses_the_cancellation(staff, buyer):
    """Cancel first: the approval is refused. Approve first: the buyer may still cancel (nothing was
    sent back). Either way the ticket ends cancelled and the timeline tells the order it happened in."""
    ticket = submit(make_order(buyer=buyer), type="exchange")

    approval, cancellation = race(
        (staff["ops"].pk, lambda user: services.approve_ticket(ticket_id=ticket.pk, actor=user)),
        (buyer.user.pk, lambda user: services.cancel_ticket(ticket_id=ticket.pk, actor=user)),
    )

    assert cancellation[0] == "ok", cancellation
    ticket.refresh_from_db()
    assert ticket.status == S.CANCELLED
    transitions = list(ticket.events.values_list("transition", "from_status", "to_status"))
    if approval[0] == "ok":
        assert transitions == [("submit", "", S.PENDING_REVIEW), ("approve", S.PENDING_REVIEW, S.AWAITING_RETURN),
                               ("cancel", S.AWAITING_RETURN, S.CANCELLED)]
    else:
        assert isinstance(approval[1], InvalidTransition)
        assert transitions == [("submit", "", S.PENDING_REVIEW), ("cancel", S.PENDING_REVIEW, S.CANCELLED)]
        assert ticket.approved_at is None


# ---------------------------------------------------------------------------------------------
# buyer: the last units


@pytest.mark.parametrize("round_", range(3))
def test_two_sessions_claiming_the_last_units_create_exactly_one_ticket(round_, buyer):
    order = make_order(lines=(("general", "7.00", 5, "33.33"),), buyer=buyer)
    submit(order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 3)])
    line = order.lines.get()

    def claim_two(user):
        return services.submit_ticket(actor=user, order_no=order.order_no, type="return_refund",
                                      reason_id=reason("no_reason_7d").pk,
                                      lines=[{"order_line_id": line.line_id, "quantity": 2}])

    results = race((buyer.user.pk, claim_two), (buyer.user.pk, claim_two))

    winner = one_winner(results, QuantityAboveClaimable)
    assert results[1 - winner][1].field == "lines.0.quantity"
    assert Ticket.objects.filter(order=order).count() == 2
    lines = TicketLine.objects.filter(order_line=line)
    assert sum(tl.quantity for tl in lines) == 5
    assert sum(tl.refund_amount for tl in lines) == Decimal("33.33")
    assert TimelineEvent.objects.filter(ticket__order=order, transition="submit").count() == 2


# ---------------------------------------------------------------------------------------------
# finance: one refund


@pytest.mark.parametrize("ticket_type", ["refund_only", "return_refund"])
def test_two_finance_approvals_at_once_pay_one_refund(ticket_type, staff, second_finance, buyer):
    ticket = advance(submit(make_order(buyer=buyer), type=ticket_type), S.AWAITING_REFUND, staff=staff)

    results = race(
        (staff["finance"].pk, lambda user: refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=user)),
        (second_finance.pk, lambda user: refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=user)),
    )

    one_winner(results, InvalidTransition)
    ticket.refresh_from_db()
    assert ticket.status == S.COMPLETED
    refund = Refund.objects.get(ticket=ticket)
    assert (refund.status, refund.amount) == (Refund.Status.SUCCEEDED, Decimal("20.00"))
    payout = GatewayPayout.objects.get()
    assert (payout.idempotency_key, payout.amount) == (refund.uuid, Decimal("20.00"))
    assert ticket.events.filter(transition="finance_approve").count() == 1
    assert ticket.events.filter(transition="refund_succeeded").count() == 1


def test_a_double_click_of_four_finance_approvals_pays_once(staff, buyer):
    ticket = advance(submit(make_order(buyer=buyer), type="refund_only"), S.AWAITING_REFUND, staff=staff)

    results = race(*[(staff["finance"].pk,
                      lambda user: refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=user))] * 4)

    one_winner(results, InvalidTransition)
    ticket.refresh_from_db()
    assert ticket.status == S.COMPLETED
    assert Refund.objects.filter(ticket=ticket).count() == 1
    assert GatewayPayout.objects.count() == 1
    assert ticket.events.filter(transition="refund_succeeded").count() == 1


# ---------------------------------------------------------------------------------------------
# the deadline sweep against the buyer


def test_the_buyer_shipping_back_as_the_deadline_closes_the_ticket_ends_one_way_only(staff, buyer):
    """One second past the return deadline the sweep closes while the buyer, late, enters a tracking number."""
    ticket = advance(submit(make_order(buyer=buyer), type="return_refund"), S.AWAITING_RETURN, staff=staff)

    with time_machine.travel(ticket.return_deadline + dt.timedelta(seconds=1)):
        results = race(
            (buyer.user.pk, lambda user: services.record_return_shipment(
                ticket_id=ticket.pk, actor=user, courier="SF Express", tracking_no="SF123")),
            (None, lambda user: services.close_ticket(ticket_id=ticket.pk, reason="Return deadline passed.")),
        )

    winner = one_winner(results, InvalidTransition)
    ticket.refresh_from_db()
    shipments = ReturnShipment.objects.filter(ticket=ticket).count()
    if winner == 0:
        assert (ticket.status, shipments) == (S.AWAITING_RETURN, 1)
        assert not ticket.events.filter(transition="close").exists()
    else:
        assert (ticket.status, shipments) == (S.CLOSED, 0)
        assert not ticket.events.filter(transition="record_return_shipment").exists()
