"""Finance's refund queue in the admin (SPEC §8, seed 001) and four eyes on money (issue #11): the queue holds
what ops approved and finance has not yet sent, line by line, oldest first, with the selection's total;
approving a selection asks once with the count and the total; sending back needs a reason and pays
nothing; who reviewed a claim does not also pay it, unless a small shop's policy says so."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.test import Client
from django.urls import reverse

from aftersales import clock
from aftersales.errors import OwnReview
from demo.journeys import advance
from policies.models import Policy
from refunds import services
from refunds.models import Refund
from tests.api_helpers import API, pending, status_of
from tests.factories import ShopFactory, UserFactory, assert_error, client_for
from tickets import services as tickets
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
QUEUE = reverse("admin:refunds_refundqueueticket_changelist")
S = Ticket.Status


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows(html: str) -> list[str]:
    """The ticket numbers of the list, in their order."""
    import re

    # each opens finance's view of the ticket (the queue's own change page, its filters kept)
    return re.findall(r'<a href="/admin/refunds/refundqueueticket/\d+/change/(?:\?[^"]*)?">(AS\d+)</a>', html)


def approved(buyer, staff, *, lines=(("general", "10.00", 2, None),), **kwargs) -> Ticket:
    return advance(pending(buyer, lines=lines, **kwargs), S.AWAITING_REFUND, staff=staff)


def test_the_queue_holds_what_finance_must_pay_oldest_first_line_by_line_with_the_total(buyer, staff):
    with clock.frozen_at(clock.now() - dt.timedelta(days=2)):
        oldest = approved(buyer, staff, lines=(("general", "89.00", 1, None), ("general", "12.50", 2, None)))
    newest = approved(buyer, staff)
    under_way = approved(buyer, staff)
    services.finance_approve_ticket(ticket_id=under_way.pk, actor=staff["finance"])  # the money is on its way
    pending(buyer)
    advance(pending(buyer), S.COMPLETED, staff=staff)

    response = client_of(staff["finance"]).get(QUEUE)

    assert response.status_code == 200
    html = response.content.decode()
    assert rows(html) == [oldest.ticket_no, newest.ticket_no]
    assert "Product 1</td><td class=\"num\">¥89.00 × 1</td><td class=\"num\">¥89.00" in html
    assert "Product 2</td><td class=\"num\">¥12.50 × 2</td><td class=\"num\">¥25.00" in html
    assert "2 refunds in this list, ¥134.00 in all." in html  # 114.00 + 20.00
    assert f"{oldest.reviewer.get_username()}" in html


def test_the_queue_filters_by_amount_shop_escalation_and_date(buyer, staff):
    other = ShopFactory(code="S-2", name="Second Shop")
    small = approved(buyer, staff)
    big = approved(buyer, staff, lines=(("general", "300.00", 1, None),), shop=other)
    Ticket.objects.filter(pk=big.pk).update(escalated_at=clock.now())
    finance = client_of(staff["finance"])

    def numbers(**params):
        return set(rows(finance.get(QUEUE, params).content.decode()))

    assert numbers(refund_amount__range__gte="100") == {big.ticket_no}
    assert numbers(refund_amount__range__lte="100") == {small.ticket_no}
    assert numbers(shop__id__exact=other.pk) == {big.ticket_no}
    assert numbers(escalated="yes") == {big.ticket_no}
    assert numbers(escalated="no") == {small.ticket_no}
    today = clock.now().date().isoformat()
    assert numbers(created_at__range__gte=today) == {small.ticket_no, big.ticket_no}
    assert "1 refund in this list, ¥300.00 in all." in finance.get(QUEUE, {"escalated": "yes"}).content.decode()


def test_approving_a_selection_shows_the_count_and_the_total_and_pays_only_once_confirmed(
        buyer, staff, django_capture_on_commit_callbacks):
    a, b = approved(buyer, staff), approved(buyer, staff, lines=(("general", "5.50", 1, None),))
    finance = client_of(staff["finance"])
    selection = {"action": "finance_approve_selected", helpers.ACTION_CHECKBOX_NAME: [a.pk, b.pk]}

    asked = finance.post(QUEUE, selection)

    assert asked.status_code == 200
    assert "Yes, 2 tickets, 25.50" in asked.content.decode()
    assert not Refund.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):  # the refunds run after commit
        assert finance.post(QUEUE, {**selection, "confirmed": "yes"}).status_code == 302
    assert {status_of(a), status_of(b)} == {S.COMPLETED}
    assert sorted(Refund.objects.values_list("amount", flat=True)) == [Decimal("5.50"), Decimal("20.00")]


def test_sending_back_a_selection_needs_a_reason_and_pays_nothing(buyer, staff):
    ticket = approved(buyer, staff)
    finance = client_of(staff["finance"])
    selection = {"action": "finance_send_back_selected", helpers.ACTION_CHECKBOX_NAME: [ticket.pk]}

    asked = finance.post(QUEUE, selection)
    assert 'id="send-back-form"' in asked.content.decode() and status_of(ticket) == S.AWAITING_REFUND
    refused = finance.post(QUEUE, {**selection, "confirmed": "yes", "reason": "  "})
    assert "This field is required." in refused.content.decode() and status_of(ticket) == S.AWAITING_REFUND

    assert finance.post(QUEUE, {**selection, "confirmed": "yes", "reason": "Fee not explained"}).status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.finance_rejection_reason) == (S.PENDING_REVIEW, "Fee not explained")
    assert not Refund.objects.exists()


@pytest.mark.parametrize("role", ["ops", "warehouse"])
def test_only_finance_works_the_queue(buyer, staff, role):
    approved(buyer, staff)

    assert client_of(staff[role]).get(QUEUE).status_code == 403


def test_the_queue_reads_the_same_number_of_queries_for_one_row_or_many(buyer, staff, django_assert_max_num_queries):
    approved(buyer, staff)
    finance = client_of(staff["finance"])
    finance.get(QUEUE)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        finance.get(QUEUE)
    for _ in range(5):
        approved(buyer, staff, lines=(("general", "10.00", 2, None), ("general", "3.00", 1, None)))
    with CaptureQueriesContext(connection) as six:
        finance.get(QUEUE)

    assert len(six) == len(one)


# ------------------------------------------------------------------------------------- four eyes


@pytest.fixture
def both_hats():
    """A person in ops and in finance (a small team), or a superuser."""
    return UserFactory(username="both", groups=["ops", "finance"])


def test_who_reviewed_a_claim_does_not_also_pay_it(buyer, staff, both_hats, django_capture_on_commit_callbacks):
    ticket = pending(buyer)
    tickets.approve_ticket(ticket_id=ticket.pk, actor=both_hats)

    with pytest.raises(OwnReview):
        services.finance_approve_ticket(ticket_id=ticket.pk, actor=both_hats)
    with pytest.raises(OwnReview):
        services.preview_finance_approval(ticket_id=ticket.pk, actor=both_hats)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.refund_requested_at) == (S.AWAITING_REFUND, None)
    assert not Refund.objects.exists() and not ticket.events.filter(transition="finance_approve").exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])  # another person: paid
    assert status_of(ticket) == S.COMPLETED


def test_superusers_are_held_to_it_too_and_the_api_says_403(buyer, admin_user):
    ticket = pending(buyer)
    tickets.approve_ticket(ticket_id=ticket.pk, actor=admin_user)

    response = client_for(admin_user).post(f"{API}/finance/tickets/{ticket.ticket_no}/approve/", format="json")

    assert_error(response, 403, "own_review")
    assert status_of(ticket) == S.AWAITING_REFUND and not Refund.objects.exists()


def test_a_small_shop_may_let_one_person_do_both_up_to_the_policy_amount(buyer, both_hats,
                                                                       django_capture_on_commit_callbacks):
    Policy.objects.filter(key="self_approval_max_amount").update(value=Decimal("20.00"))
    small, large = pending(buyer), pending(buyer, lines=(("general", "20.01", 1, None),))
    for ticket in (small, large):
        tickets.approve_ticket(ticket_id=ticket.pk, actor=both_hats)

    with django_capture_on_commit_callbacks(execute=True):
        services.finance_approve_ticket(ticket_id=small.pk, actor=both_hats)
    with pytest.raises(OwnReview):
        services.finance_approve_ticket(ticket_id=large.pk, actor=both_hats)

    assert (status_of(small), status_of(large)) == (S.COMPLETED, S.AWAITING_REFUND)


def test_the_ticket_page_refuses_it_in_words_and_the_queue_names_the_ticket(buyer, both_hats):
    ticket = pending(buyer)
    tickets.approve_ticket(ticket_id=ticket.pk, actor=both_hats)
    client = client_of(both_hats)

    client.post(reverse("admin:tickets_ticket_act", args=[ticket.pk]), {"action": "finance_approve"})
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    asked = client.post(QUEUE, {"action": "finance_approve_selected", helpers.ACTION_CHECKBOX_NAME: [ticket.pk]})

    assert "another finance user approves its refund" in page
    assert "another finance user approves its refund" in asked.content.decode()
    assert "Yes, 0 tickets, 0.00" in asked.content.decode()
    assert not Refund.objects.exists()
