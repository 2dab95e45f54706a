"""The finance refund list's money columns (API.md): each row's `refund_status` and `refund_error`, the
`refund_status` filter (the work list by default: none asked for yet, or the last try failed), and the
totals of the whole list as filtered, exact to the cent, beside cursor pages."""

import pytest

from demo import journeys
from refunds.models import Refund
from refunds.services import finance_approve_ticket
from tests.api_helpers import API
from tests.factories import assert_error, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(finance_user):
    return client_for(finance_user)


def rows(client, **params) -> dict[str, dict]:
    response = client.get(f"{API}/finance/refunds/", params)
    assert response.status_code == 200, response.content
    return {row["ticket_no"]: row for row in response.json()["results"]}


@pytest.fixture
def money_in_every_state(awaiting_refund, gateway, staff, django_capture_on_commit_callbacks):
    """One ticket per refund status: waiting (none), declined (failed), asked (pending), being paid
    (in_progress) and paid (succeeded)."""
    waiting = awaiting_refund(lines=(("general", "12.35", 1, None),))
    declined = awaiting_refund(lines=(("general", "100.10", 1, None),))
    gateway.script = ["decline"]
    with django_capture_on_commit_callbacks(execute=True):
        finance_approve_ticket(ticket_id=declined.pk, actor=staff["finance"])
    asked = awaiting_refund(lines=(("general", "7.00", 1, None),))
    finance_approve_ticket(ticket_id=asked.pk, actor=staff["finance"])  # not run: no commit in this test
    being_paid = awaiting_refund(lines=(("general", "8.00", 1, None),))
    finance_approve_ticket(ticket_id=being_paid.pk, actor=staff["finance"])
    Refund.objects.filter(ticket=being_paid).update(status=Refund.Status.IN_PROGRESS)
    paid = awaiting_refund(lines=(("general", "9.00", 1, None),))
    journeys.finance_approve(paid, staff)  # paid at once
    return {"waiting": waiting, "declined": declined, "asked": asked, "being_paid": being_paid, "paid": paid}


def test_the_work_list_carries_refund_status_and_error(finance, money_in_every_state):
    t = money_in_every_state

    listed = rows(finance)

    assert set(listed) == {t["waiting"].ticket_no, t["declined"].ticket_no}
    assert (listed[t["waiting"].ticket_no]["refund_status"], listed[t["waiting"].ticket_no]["refund_error"]) == (
        "none", "")
    declined = listed[t["declined"].ticket_no]
    assert declined["refund_status"] == "failed"
    assert "the account is closed" in declined["refund_error"]


@pytest.mark.parametrize(("statuses", "expected"), [
    (["none"], {"waiting"}),
    (["failed"], {"declined"}),
    (["pending"], {"asked"}),
    (["in_progress"], {"being_paid"}),
    (["succeeded"], {"paid"}),
    (["pending", "in_progress"], {"asked", "being_paid"}),
    (["none", "failed", "succeeded"], {"waiting", "declined", "paid"}),
])
def test_the_refund_status_filter(finance, money_in_every_state, statuses, expected):
    t = money_in_every_state

    listed = rows(finance, refund_status=statuses)

    assert set(listed) == {t[name].ticket_no for name in expected}
    assert {row["refund_status"] for row in listed.values()} == set(statuses)


def test_a_ticket_paid_after_a_declined_try_is_succeeded_not_failed(finance, awaiting_refund, gateway, staff,
                                                                     django_capture_on_commit_callbacks):
    ticket = awaiting_refund()
    gateway.script = ["decline"]
    with django_capture_on_commit_callbacks(execute=True):
        finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    assert rows(finance, refund_status="failed")[ticket.ticket_no]["refund_status"] == "failed"

    with django_capture_on_commit_callbacks(execute=True):
        finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])

    assert rows(finance, refund_status="failed") == {}
    assert rows(finance) == {}
    paid = rows(finance, refund_status="succeeded")[ticket.ticket_no]
    assert (paid["refund_status"], paid["refund_error"], paid["status"]) == ("succeeded", "", "completed")


def test_totals_are_of_the_whole_filtered_list_to_the_cent(finance, money_in_every_state):
    first = finance.get(f"{API}/finance/refunds/", {"page_size": 1}).json()
    second = finance.get(first["next"]).json()

    assert len(first["results"]) == len(second["results"]) == 1
    assert second["next"] is None
    assert first["totals"] == second["totals"] == {"count": 2, "refund_amount": "112.45"}
    everything = finance.get(f"{API}/finance/refunds/", {"refund_status": ["none", "failed", "pending",
                                                                           "in_progress", "succeeded"]}).json()
    assert everything["totals"] == {"count": 5, "refund_amount": "136.45"}
    assert finance.get(f"{API}/finance/refunds/", {"refund_status": "in_progress"}).json()["totals"] == {
        "count": 1, "refund_amount": "8.00"}


def test_an_empty_list_totals_zero(finance):
    assert finance.get(f"{API}/finance/refunds/").json()["totals"] == {"count": 0, "refund_amount": "0.00"}


@pytest.mark.parametrize("value", ["paid", "FAILED", "", "none\x00"])
def test_a_bad_refund_status_is_400_naming_it(finance, value):
    assert_error(finance.get(f"{API}/finance/refunds/", {"refund_status": value}), 400, "invalid",
                 field="refund_status")


# Measured: token + groups + the totals + the page (with order, shop, buyer, the refund status) + lines.
FINANCE_LIST_QUERIES = 5


@pytest.mark.parametrize("count", [2, 12])
def test_finance_list_queries_do_not_grow_with_rows(finance, awaiting_refund, django_assert_max_num_queries,
                                                     count):
    for _ in range(count):
        awaiting_refund()

    with django_assert_max_num_queries(FINANCE_LIST_QUERIES):
        response = finance.get(f"{API}/finance/refunds/", {"page_size": 50})

    assert len(response.json()["results"]) == count
