"""Finance's endpoints (API.md): the refund list holds what ops approved and nothing already under way,
approving executes one refund, and a rejection goes back to ops with a reason the buyer does not see."""

import pytest

from demo import journeys
from demo.journeys import advance
from refunds.models import Refund
from tests.api_helpers import API, pending, status_of
from tests.factories import assert_error, client_for, make_order, submit
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(finance_user):
    return client_for(finance_user)


def test_finance_refund_list_holds_only_ops_approved_tickets_awaiting_refund(buyer, staff, finance):
    approved = advance(pending(buyer), "awaiting_refund", staff=staff)
    received = advance(pending(buyer, type="return_refund"), "awaiting_refund", staff=staff)
    compensated = advance(pending(buyer), "pending_review", staff=staff)
    journeys.compensate(compensated, staff)
    pending(buyer)
    advance(pending(buyer, type="return_refund"), "awaiting_return", staff=staff)
    advance(pending(buyer), "completed", staff=staff)
    advance(pending(buyer), "rejected", staff=staff)
    sent_back = advance(pending(buyer), "awaiting_refund", staff=staff)
    assert finance.post(f"{API}/finance/tickets/{sent_back.ticket_no}/reject/", {"reason": "Check the fee"},
                        format="json").json()["status"] == "pending_review"

    response = finance.get(f"{API}/finance/refunds/")

    assert response.status_code == 200
    assert {r["ticket_no"] for r in response.json()["results"]} == {
        approved.ticket_no, received.ticket_no, compensated.ticket_no}
    assert all(r["status"] == "awaiting_refund" for r in response.json()["results"])


def test_finance_approve_executes_one_refund(buyer, staff, finance, django_capture_on_commit_callbacks):
    ticket = advance(pending(buyer), "awaiting_refund", staff=staff)
    url = f"{API}/finance/tickets/{ticket.ticket_no}/approve/"

    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(url)

    assert response.status_code == 200, response.content
    assert response.json()["refund_status"] == "pending"  # paid after commit
    ticket.refresh_from_db()
    assert ticket.status == "completed"
    refund = Refund.objects.get(ticket=ticket)
    assert (refund.status, str(refund.amount)) == ("succeeded", "20.00")
    assert_error(finance.post(url), 409, "invalid_transition")
    assert Refund.objects.filter(ticket=ticket).count() == 1
    buyer_view = client_for(buyer.user).get(f"{API}/tickets/{ticket.ticket_no}/").json()
    assert (buyer_view["status"], buyer_view["refund_status"]) == ("completed", "succeeded")


def test_finance_approve_twice_before_the_refund_ran_is_409(buyer, staff, finance):
    ticket = advance(pending(buyer), "awaiting_refund", staff=staff)
    url = f"{API}/finance/tickets/{ticket.ticket_no}/approve/"

    assert finance.post(url).status_code == 200
    assert_error(finance.post(url), 409, "invalid_transition")
    assert Refund.objects.filter(ticket=ticket).count() == 1


def test_finance_approve_of_a_pending_ticket_is_409(buyer, finance):
    ticket = pending(buyer)

    assert_error(finance.post(f"{API}/finance/tickets/{ticket.ticket_no}/approve/"), 409, "invalid_transition")
    assert not Refund.objects.exists()


def test_finance_reject_back_to_ops_with_a_reason_the_buyer_does_not_see(buyer, staff, finance):
    ticket = advance(pending(buyer), "awaiting_refund", staff=staff)
    url = f"{API}/finance/tickets/{ticket.ticket_no}/reject/"
    assert_error(finance.post(url, {}, format="json"), 400, "invalid", field="reason")
    assert status_of(ticket) == "awaiting_refund"

    response = finance.post(url, {"reason": "Fee should be 5.00, see policy"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending_review"
    assert response.json()["finance_rejection_reason"] == "Fee should be 5.00, see policy"
    buyer_view = client_for(buyer.user).get(f"{API}/tickets/{ticket.ticket_no}/")
    assert b"Fee should be 5.00" not in buyer_view.content
    assert not Refund.objects.exists()


def test_finance_does_not_see_tickets_whose_refund_is_already_under_way(buyer, staff, finance):
    auto = submit(make_order(buyer=buyer, status="unshipped", lines=(("general", "20.00", 1, None),)),
                  type="refund_only", reason_code="changed_mind")  # approved and refunded by the system
    waiting = advance(pending(buyer), "awaiting_refund", staff=staff)
    assert Ticket.objects.get(pk=auto.pk).approved_at is not None

    listed = {r["ticket_no"] for r in finance.get(f"{API}/finance/refunds/").json()["results"]}

    assert listed == {waiting.ticket_no}
