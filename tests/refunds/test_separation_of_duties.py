"""Separation of duties (issue #19, findings 2 and 3): claimant, reviewer and payer of a ticket are three
people, held by one rule (tickets.services.duties) that every door goes through: the services, the API, the
review panel, the bulk actions, the payment by hand. Each forbidden pairing is walked through each door;
the same door then lets another person through, so the refusal is the rule's, not the door's."""

from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from aftersales.errors import FieldInvalid, OwnClaim, OwnReview
from demo.journeys import advance
from orders.services import import_order
from refunds import services as refunds
from refunds.models import Refund
from tests.api_helpers import API
from tests.factories import BuyerFactory, UserFactory, client_for, make_order, submit
from tickets import services as tickets
from tickets.models import Ticket
from warehouse import services as warehouse

pytestmark = pytest.mark.django_db
S = Ticket.Status
QUEUE = reverse("admin:refunds_refundqueueticket_changelist")
TICKETS = reverse("admin:tickets_ticket_changelist")
REFUNDS = reverse("admin:refunds_refund_changelist")


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def insider(db):
    """A buyer who also works here (added to every role after buying): the claimant of the tickets below."""
    buyer = BuyerFactory(account="insider")
    return buyer


def works_everywhere(user):
    user.groups.add(*(Group.objects.get(name=name) for name in ("ops", "finance", "warehouse")))
    user._role_names = None
    return user


def own_claim(insider, *, status=S.PENDING_REVIEW, staff=None, type="return_refund") -> Ticket:
    ticket = submit(make_order(buyer=insider, lines=(("general", "900.00", 1, None),)), type=type,
                    reason_code="no_reason_7d")
    if status != S.PENDING_REVIEW:
        ticket = advance(ticket, status, staff=staff)
    works_everywhere(insider.user)
    return ticket


def untouched(ticket: Ticket, status: str) -> None:
    ticket.refresh_from_db()
    assert ticket.status == status
    assert not Refund.objects.filter(ticket=ticket, status=Refund.Status.SUCCEEDED).exists()


# -------------------------------------------------------------------------------- the order import


def test_finding2_a_role_users_account_is_not_imported_as_a_buyer(service_user):
    """Role users are group-only (not is_staff): ops2 could receive an order, claim and approve it."""
    ops2 = UserFactory(username="ops2", groups=["ops"])
    assert not ops2.is_staff
    order = {"order_no": "SO-OPS2", "shop": {"code": "S1", "name": "Shop"}, "buyer": {"account": ops2.username},
             "status": "delivered", "placed_at": "2026-12-01T10:00:00+08:00", "shipped_at": "2026-12-02T10:00:00+08:00",
             "delivered_at": "2026-12-03T10:00:00+08:00", "amount_paid": "900.00",
             "lines": [{"line_id": "SO-OPS2-1", "sku": "A", "product_name": "Sofa", "category": "general",
                        "unit_price": "900.00", "quantity": 1}]}

    with pytest.raises(FieldInvalid) as refused:
        import_order(order)
    response = client_for(service_user).post(f"{API}/orders/import/", order, format="json")

    assert refused.value.field == "buyer.account"
    assert response.status_code == 400 and response.json()["fields"] == {
        "buyer.account": ["This account name belongs to a staff user."]}


def test_finding2_a_buyer_who_joined_the_staff_later_gets_no_more_orders_imported(insider):
    works_everywhere(insider.user)
    order = {"order_no": "SO-LATER", "shop": {"code": "S1", "name": "Shop"}, "buyer": {"account": "insider"},
             "status": "unshipped", "placed_at": "2026-12-01T10:00:00+08:00", "amount_paid": "10.00",
             "lines": [{"line_id": "SO-LATER-1", "sku": "A", "product_name": "Cup", "category": "general",
                        "unit_price": "10.00", "quantity": 1}]}
    with pytest.raises(FieldInvalid):
        import_order(order)


# -------------------------------------------------------------------------------- claimant ≠ reviewer

REVIEW_DOORS = {
    "service approve": lambda t, u: tickets.approve_ticket(ticket_id=t.pk, actor=u),
    "service preview": lambda t, u: tickets.preview_approval(ticket_id=t.pk, actor=u),
    "service reject": lambda t, u: tickets.reject_ticket(ticket_id=t.pk, actor=u, reason="no"),
    "service compensate": lambda t, u: tickets.compensate_ticket(ticket_id=t.pk, actor=u, amount="10.00", note="n"),
    "service reship": lambda t, u: tickets.reship_ticket(ticket_id=t.pk, actor=u,
                                                         lines=[{"order_line_id": _line(t), "quantity": 1}]),
    "service retention": lambda t, u: tickets.record_retention_attempt(ticket_id=t.pk, actor=u, offer="5 off",
                                                                       kept=False),
    "api approve": lambda t, u: _api(u, f"staff/tickets/{t.ticket_no}/approve/", {}),
    "api reject": lambda t, u: _api(u, f"staff/tickets/{t.ticket_no}/reject/", {"reason": "no"}),
    "api compensate": lambda t, u: _api(u, f"staff/tickets/{t.ticket_no}/compensate/",
                                        {"amount": "10.00", "note": "n"}),
    "api reship": lambda t, u: _api(u, f"staff/tickets/{t.ticket_no}/reship/",
                                    {"lines": [{"order_line_id": _line(t), "quantity": 1}]}),
    "panel approve": lambda t, u: _panel(u, t, {"action": "approve", "confirmed": "yes"}),
    "panel reject": lambda t, u: _panel(u, t, {"action": "reject", "reason": "no"}),
    "bulk approve": lambda t, u: _bulk(u, TICKETS, "approve_selected", t),
}


def _line(ticket):
    return ticket.lines.select_related("order_line").first().order_line.line_id


def _api(user, path, body):
    response = client_for(user).post(f"{API}/{path}", body, format="json")
    if response.status_code == 403:
        raise {"own_claim": OwnClaim, "own_review": OwnReview}[response.json()["code"]](response.json()["detail"])
    assert response.status_code < 300, response.content
    return response


def _panel(user, ticket, data):
    client = browser(user)
    client.post(reverse("admin:tickets_ticket_act", args=[ticket.pk]), data)
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    _raise_if_refused_in(page)


def _bulk(user, url, action, ticket, **extra):
    page = browser(user).post(url, {"action": action, helpers.ACTION_CHECKBOX_NAME: [ticket.pk], "confirmed": "yes",
                                    **extra}, follow=True).content.decode()
    _raise_if_refused_in(page)


def _raise_if_refused_in(page: str) -> None:
    if "You filed this claim yourself" in page:
        raise OwnClaim("page")
    if "(four eyes on money)" in page:
        raise OwnReview("page")


@pytest.mark.parametrize("door", REVIEW_DOORS)
def test_finding2_the_claimant_does_not_decide_their_own_claim_through_any_door(insider, staff, door):
    ticket = own_claim(insider)

    with pytest.raises(OwnClaim):
        REVIEW_DOORS[door](ticket, insider.user)
    untouched(ticket, S.PENDING_REVIEW)
    assert not ticket.events.exclude(transition__in=["submit"]).exists()

    REVIEW_DOORS[door](ticket, staff["ops"])  # another person goes through the same door


# -------------------------------------------------------------------------------- claimant ≠ goods

GOODS_DOORS = {
    "service receive": lambda t, u: warehouse.record_inbound(
        ticket_id=t.pk, actor=u, lines=[{"order_line_id": _line(t), "quantity": 1, "accepted": True}]),
    "api receive": lambda t, u: _api(u, "warehouse/inbound/", {
        "ticket_no": t.ticket_no, "lines": [{"order_line_id": _line(t), "quantity": 1, "accepted": True}]}),
}


@pytest.mark.parametrize("door", GOODS_DOORS)
def test_finding2_the_claimant_does_not_inspect_their_own_returned_goods(insider, staff, door):
    ticket = own_claim(insider, status=S.AWAITING_RETURN, staff=staff)

    with pytest.raises(OwnClaim):
        GOODS_DOORS[door](ticket, insider.user)
    untouched(ticket, S.AWAITING_RETURN)

    GOODS_DOORS[door](ticket, staff["warehouse"])
    untouched(ticket, S.AWAITING_REFUND)


# -------------------------------------------------------------------------------- claimant ≠ payer, reviewer ≠ payer

PAY_DOORS = {
    "service approve": lambda t, u: refunds.finance_approve_ticket(ticket_id=t.pk, actor=u),
    "service preview": lambda t, u: refunds.preview_finance_approval(ticket_id=t.pk, actor=u),
    "service send back": lambda t, u: refunds.finance_reject_ticket(ticket_id=t.pk, actor=u, reason="check"),
    "api approve": lambda t, u: _api(u, f"finance/tickets/{t.ticket_no}/approve/", {}),
    "panel approve": lambda t, u: _panel(u, t, {"action": "finance_approve", "confirmed": "yes"}),
    "queue bulk approve": lambda t, u: _bulk(u, QUEUE, "finance_approve_selected", t),
}
# Sending back pays nothing: only the claimant is kept from it (a reviewer may also be the one who sends back).
REVIEWER_MAY = {"service send back"}


@pytest.mark.parametrize("door", PAY_DOORS)
def test_finding2_the_claimant_does_not_pay_their_own_claim_through_any_door(insider, staff, door,
                                                                            django_capture_on_commit_callbacks):
    ticket = own_claim(insider, status=S.AWAITING_REFUND, staff=staff)

    with pytest.raises(OwnClaim):
        PAY_DOORS[door](ticket, insider.user)
    untouched(ticket, S.AWAITING_REFUND)
    assert not Refund.objects.filter(ticket=ticket).exists()

    with django_capture_on_commit_callbacks(execute=True):
        PAY_DOORS[door](ticket, staff["finance"])


@pytest.mark.parametrize("door", sorted(set(PAY_DOORS) - REVIEWER_MAY))
def test_who_reviewed_does_not_pay_through_any_door(buyer, staff, door, django_capture_on_commit_callbacks):
    both = UserFactory(groups=["ops", "finance"])
    ticket = submit(make_order(buyer=buyer, lines=(("general", "900.00", 1, None),)), type="refund_only")
    tickets.approve_ticket(ticket_id=ticket.pk, actor=both)

    with pytest.raises(OwnReview):
        PAY_DOORS[door](ticket, both)
    untouched(ticket, S.AWAITING_REFUND)

    with django_capture_on_commit_callbacks(execute=True):
        PAY_DOORS[door](ticket, staff["finance"])


# -------------------------------------------------------------------------------- the payment by hand (finding 3)


def declined_refund(ticket, staff, gateway, capture) -> Refund:
    gateway.script = ["decline"]
    with capture(execute=True):
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    return Refund.objects.get(ticket=ticket, status=Refund.Status.FAILED)


MANUAL_DOORS = {
    "service": lambda r, u: refunds.mark_refund_paid_manually(refund_id=r.pk, actor=u, reason="bank transfer"),
    "admin action": lambda r, u: _bulk(u, REFUNDS, "mark_paid_manually", r, reason="bank transfer", reference=""),
}


@pytest.mark.parametrize("door", MANUAL_DOORS)
def test_finding3_the_reviewer_does_not_record_a_declined_refund_of_their_ticket_as_paid_by_hand(
        buyer, staff, gateway, door, django_capture_on_commit_callbacks):
    both = UserFactory(groups=["ops", "finance"])
    ticket = submit(make_order(buyer=buyer, lines=(("general", "900.00", 1, None),)), type="refund_only")
    tickets.approve_ticket(ticket_id=ticket.pk, actor=both)
    refund = declined_refund(ticket, staff, gateway, django_capture_on_commit_callbacks)

    with pytest.raises(OwnReview):
        MANUAL_DOORS[door](refund, both)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED and refund.paid_manually_by is None
    untouched(ticket, S.AWAITING_REFUND)

    MANUAL_DOORS[door](refund, staff["finance"])
    ticket.refresh_from_db()
    assert ticket.status == S.COMPLETED


def test_the_claimant_does_not_send_their_own_stuck_refund_to_the_gateway_again(
        insider, staff, gateway, django_capture_on_commit_callbacks):
    ticket = own_claim(insider, status=S.AWAITING_REFUND, staff=staff)
    gateway.script = ["error"] * 10  # no final answer: the refund stays under way
    with django_capture_on_commit_callbacks(execute=True):
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    stuck = Refund.objects.get(ticket=ticket)
    assert stuck.status in (Refund.Status.PENDING, Refund.Status.IN_PROGRESS)

    with pytest.raises(OwnClaim):
        refunds.retry_refund(refund_id=stuck.pk, actor=insider.user)
    with pytest.raises(OwnClaim):
        _bulk(insider.user, REFUNDS, "retry_selected", stuck)
    refunds.retry_refund(refund_id=stuck.pk, actor=staff["finance"])


@pytest.mark.parametrize("door", MANUAL_DOORS)
def test_finding3_the_claimant_does_not_record_their_own_refund_as_paid_by_hand(
        insider, staff, gateway, door, django_capture_on_commit_callbacks):
    ticket = own_claim(insider, status=S.AWAITING_REFUND, staff=staff)
    refund = declined_refund(ticket, staff, gateway, django_capture_on_commit_callbacks)

    with pytest.raises(OwnClaim):
        MANUAL_DOORS[door](refund, insider.user)
    untouched(ticket, S.AWAITING_REFUND)


# -------------------------------------------------------------------------------- payer ≠ reviewer


def test_who_paid_does_not_then_decide_the_claim(buyer, staff, gateway, django_capture_on_commit_callbacks):
    """Finance approved the refund (the gateway declined it) and sent the ticket back to ops: the same
    person, also in ops, does not now decide the claim; another ops user does."""
    both = UserFactory(groups=["ops", "finance"])
    ticket = submit(make_order(buyer=buyer, lines=(("general", "900.00", 1, None),)), type="refund_only")
    tickets.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"])
    gateway.script = ["decline"]
    with django_capture_on_commit_callbacks(execute=True):
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=both)
    refunds.finance_reject_ticket(ticket_id=ticket.pk, actor=both, reason="wrong account")

    with pytest.raises(OwnReview):
        tickets.approve_ticket(ticket_id=ticket.pk, actor=both)
    with pytest.raises(OwnReview):
        _api(both, f"staff/tickets/{ticket.ticket_no}/approve/", {})
    tickets.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"])


def test_a_one_person_shop_may_still_review_and_pay_small_claims_but_never_its_own(
        insider, buyer, django_capture_on_commit_callbacks):
    from policies.models import Policy

    Policy.objects.filter(key="self_approval_max_amount").update(value=Decimal("1000.00"))
    both = UserFactory(groups=["ops", "finance"])
    ticket = submit(make_order(buyer=buyer, lines=(("general", "900.00", 1, None),)), type="refund_only")
    tickets.approve_ticket(ticket_id=ticket.pk, actor=both)
    with django_capture_on_commit_callbacks(execute=True):
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=both)
    untouched_status = Ticket.objects.get(pk=ticket.pk).status
    assert untouched_status == S.COMPLETED

    own = own_claim(insider)
    with pytest.raises(OwnClaim):
        tickets.approve_ticket(ticket_id=own.pk, actor=insider.user)
