"""The review page offers only the actions that fit the ticket's type and state (issue #21): one rule,
tickets.services.open_decisions read by tickets.panel.fitting_actions, table by table; the approval form asks
only the terms that apply; a registered action says when it fits.

The tables are written out by hand, as test_transitions' is: a change to the rule the product did not ask
for fails here."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django_fsm import can_proceed

from aftersales.errors import InvalidTransition
from tests.factories import make_order, submit
from tests.tickets.test_transitions import EX, RO, RR, reach
from tickets import panel, services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

DECISIONS = {"approve", "reject", "compensate", "reship", "retention"}
IN_REVIEW = {"approve", "reject", "compensate", "reship"}
GOODS_BACK = {"approve", "reject", "compensate"}  # nothing to re-ship, no sale left to keep

# (type, state) -> the decisions the page offers. The note fits every ticket.
FITTING = {
    (RO, "pending_review"): IN_REVIEW,
    (RR, "pending_review"): IN_REVIEW | {"retention"},
    (EX, "pending_review"): IN_REVIEW | {"retention"},
    (RO, "pending_review_sent_back_by_finance"): IN_REVIEW,
    (RR, "pending_review_sent_back_by_finance"): GOODS_BACK,  # its goods came back before finance saw it
    (RR, "pending_review_goods_back_failed_inspection"): GOODS_BACK,
    (EX, "pending_review_goods_back_failed_inspection"): GOODS_BACK,
    (RR, "pending_review_goods_back_untracked"): GOODS_BACK,
    **{(t, state): set() for t in (RO, RR, EX) for state in ("rejected", "cancelled", "completed")},
    **{(t, state): set() for t in (RR, EX) for state in ("awaiting_return", "awaiting_return_goods_sent", "closed")},
    **{(t, state): set() for t in (RO, RR) for state in ("awaiting_refund", "awaiting_refund_refund_open")},
    (EX, "awaiting_refund_compensation"): set(),
    (EX, "awaiting_exchange"): set(),
    (EX, "awaiting_exchange_replacement_sent"): set(),
    (RO, "awaiting_exchange_reship"): set(),
}


@pytest.mark.parametrize(("ticket_type", "state"), list(FITTING))
def test_the_page_offers_the_decisions_that_fit_the_type_and_state(ticket_type, state, staff, buyer):
    ticket = reach(ticket_type, state, staff, buyer)

    fitting = set(panel.fitting_actions(ticket))

    assert fitting & DECISIONS == FITTING[(ticket_type, state)]
    assert "note" in fitting


@pytest.mark.parametrize(("ticket_type", "state"), [key for key, fits in FITTING.items() if fits])
def test_every_decision_offered_is_one_the_state_machine_takes(ticket_type, state, staff, buyer):
    """The rule never offers what the machine refuses (each service's first check, tickets.machine.check_can)."""
    ticket = reach(ticket_type, state, staff, buyer)

    for decision in FITTING[(ticket_type, state)] - {"retention"}:
        assert can_proceed(getattr(ticket, decision)), decision


def test_retention_is_refused_once_the_goods_are_back(staff, buyer):
    ticket = reach(RR, "pending_review_goods_back_failed_inspection", staff, buyer)

    with pytest.raises(InvalidTransition):
        services.record_retention_attempt(ticket_id=ticket.pk, actor=staff["ops"], offer="10 off", kept=True)

    assert not ticket.events.filter(transition="retention_attempt").exists()


# (type, state) -> the approval form's fields. The amount where money moves; an extra only where there is one
# to give back; the return desk only where the buyer is asked to send the goods.
AMOUNT = ["refund_amount", "fee_reason"]
RETURN_DESK = ["return_address", "return_contact", "return_phone"]
APPROVAL_FIELDS = {
    (RO, "pending_review"): AMOUNT,
    (RR, "pending_review"): [*AMOUNT, *RETURN_DESK],
    (EX, "pending_review"): RETURN_DESK,
    (RR, "pending_review_goods_back_failed_inspection"): AMOUNT,
    (EX, "pending_review_goods_back_failed_inspection"): [],
}


@pytest.mark.parametrize(("ticket_type", "state"), list(APPROVAL_FIELDS))
def test_the_approval_form_asks_only_the_terms_that_apply(ticket_type, state, staff, buyer):
    ticket = reach(ticket_type, state, staff, buyer)

    assert list(panel.ApproveForm(ticket=ticket).fields) == APPROVAL_FIELDS[(ticket_type, state)]


def test_an_extra_is_offered_only_when_the_order_has_it_to_give_back(buyer):
    ticket = submit(make_order(buyer=buyer, shipping_fee="8.00", status="unshipped",
                               lines=(("general", "900.00", 1, None),)), type="refund_only", reason_code="changed_mind")

    assert list(panel.ApproveForm(ticket=ticket).fields) == [*AMOUNT, "refund_shipping"]


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(user, ticket) -> str:
    return client_of(user).get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()


def test_a_refund_only_claim_shows_no_return_desk_and_a_returned_ticket_no_reship_or_retention(staff, buyer):
    refund_only = submit(make_order(buyer=buyer), type="refund_only", reason_code="missing_parts", photos=1)
    goods_back = reach(RR, "pending_review_goods_back_failed_inspection", staff, buyer)

    claim, returned = page(staff["ops"], refund_only), page(staff["ops"], goods_back)

    assert 'id="approve-form"' in claim and 'id="reship-form"' in claim
    assert 'id="approve_return_address"' not in claim and 'id="retention-form"' not in claim
    assert 'id="approve-form"' in returned and 'id="compensate-form"' in returned
    assert 'id="reship-form"' not in returned and 'id="retention-form"' not in returned
    assert 'id="approve_return_address"' not in returned  # the goods are in the warehouse already


def test_a_ticket_past_review_shows_no_decision_at_all(staff, buyer):
    ticket = reach(RR, "awaiting_return", staff, buyer)

    html = page(staff["ops"], ticket)

    assert 'id="decisions"' not in html
    assert 'id="note-form"' in html


def test_a_registered_action_says_when_it_fits(monkeypatch, ops_user, buyer):
    monkeypatch.setattr(panel, "_ACTIONS", dict(panel._ACTIONS))
    panel.register_panel_action("chase_courier", panel.PanelAction(
        panel.NoFieldsForm, done="Chased.", call=lambda *args: None,
        fits=lambda ticket: ticket.status == Ticket.Status.AWAITING_RETURN))
    pending = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue")

    assert "chase_courier" not in panel.fitting_actions(pending)
    services.approve_ticket(ticket_id=pending.pk, actor=ops_user)
    pending.refresh_from_db()
    assert "chase_courier" in panel.fitting_actions(pending)
    assert "approve" not in panel.fitting_actions(pending)


def test_the_approval_takes_the_return_contact_and_phone_typed_on_the_page(ops_user, buyer):
    ticket = submit(make_order(buyer=buyer), type="return_refund", reason_code="quality_issue")
    ops = client_of(ops_user)
    typed = {"action": "approve", "refund_amount": "", "fee_reason": "", "return_address": "Dock 4, 9 Port Road",
             "return_contact": "Ms Wang", "return_phone": "+86 21 5555 0101"}

    asked = ops.post(reverse("admin:tickets_ticket_act", args=[ticket.pk]), typed)
    assert "Ms Wang +86 21 5555 0101" in asked.content.decode()  # the confirmation says where and to whom
    ops.post(reverse("admin:tickets_ticket_act", args=[ticket.pk]), {**typed, "confirmed": "yes"})

    ticket.refresh_from_db()
    assert (ticket.status, ticket.return_address, ticket.return_contact, ticket.return_phone) == (
        Ticket.Status.AWAITING_RETURN, "Dock 4, 9 Port Road", "Ms Wang", "+86 21 5555 0101")
    assert ticket.refund_amount == Decimal("20.00")


def test_the_return_desk_starts_at_the_shop_s_and_an_emptied_field_keeps_the_shop_s(ops_user, buyer):
    order = make_order(buyer=buyer)
    shop = order.shop
    shop.return_contact, shop.return_phone = "Returns team", "400-800-1234"
    shop.save()
    ticket = submit(order, type="exchange", reason_code="quality_issue")

    html = page(ops_user, ticket)
    assert 'value="Returns team"' in html and 'value="400-800-1234"' in html
    client_of(ops_user).post(reverse("admin:tickets_ticket_act", args=[ticket.pk]), {
        "action": "approve", "return_address": "", "return_contact": "", "return_phone": "", "confirmed": "yes"})

    ticket.refresh_from_db()
    assert (ticket.status, ticket.return_contact, ticket.return_phone, ticket.return_address) == (
        Ticket.Status.AWAITING_RETURN, "Returns team", "400-800-1234", shop.return_address)
