"""deadline.warning: the buyer's own deadlines (send the goods back, confirm receipt) within a day, once each."""

from datetime import timedelta

import pytest

from events.models import Event
from events.outbox import record_deadline_warnings
from tests.factories import make_order, submit
from tickets import services

DAY = timedelta(hours=24)


@pytest.fixture
def awaiting_return(buyer, ops_user):
    ticket = submit(make_order(buyer=buyer))
    return services.approve_ticket(ticket_id=ticket.pk, actor=ops_user)


def warnings(ticket):
    return list(Event.objects.filter(ticket=ticket, type="deadline.warning"))


@pytest.mark.django_db
def test_a_return_due_within_a_day_is_warned_of_once(awaiting_return):
    due = awaiting_return.next_deadline_at
    assert awaiting_return.next_deadline_kind == "return"

    assert record_deadline_warnings(now=due - DAY - timedelta(minutes=1), within=DAY) == 0
    assert record_deadline_warnings(now=due - timedelta(hours=20), within=DAY) == 1
    assert record_deadline_warnings(now=due - timedelta(hours=10), within=DAY) == 0

    [warning] = warnings(awaiting_return)
    assert warning.data["deadline"] == "return"
    assert warning.data["ticket"]["ticket_no"] == awaiting_return.ticket_no
    assert warning.data["due_at"].startswith(due.strftime("%Y-%m-%d"))


@pytest.mark.django_db
def test_no_warning_once_the_buyer_acted_or_the_deadline_passed(awaiting_return, buyer):
    due = awaiting_return.next_deadline_at
    services.record_return_shipment(ticket_id=awaiting_return.pk, actor=buyer.user, courier="SF",
                                    tracking_no="SF123")

    assert record_deadline_warnings(now=due - timedelta(hours=2), within=DAY) == 0
    assert record_deadline_warnings(now=due + timedelta(hours=1), within=DAY) == 0
    assert warnings(awaiting_return) == []


@pytest.mark.django_db
def test_staff_deadlines_are_not_the_buyers_and_are_not_warned_of(buyer):
    ticket = submit(make_order(buyer=buyer))  # pending review: the shop's deadline, not the buyer's

    assert record_deadline_warnings(now=ticket.next_deadline_at - timedelta(hours=1), within=DAY) == 0
