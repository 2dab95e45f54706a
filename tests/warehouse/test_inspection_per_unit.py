"""Inspection per unit (issue #21): "2 cups, 1 chipped" is recorded as 1 passed and 1 refused with its reason.
A line may come several times in one receipt, together at most what was claimed; the inbound keeps a row per
result, the timeline one entry per (line, passed, reason), and the refund is recomputed, to the cent, for the
units that passed."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.errors import FieldInvalid, FieldRequired
from aftersales.money import unit_amount
from tests.api_helpers import API
from tests.factories import assert_error, client_for, make_order
from tests.warehouse.test_flows import balance, returned
from tickets.models import Ticket
from warehouse import services
from warehouse.models import InboundLine, StockMovement

pytestmark = pytest.mark.django_db
S = Ticket.Status


def cups(buyer, staff, *, price="25.00", units=2, **order):
    """A return of ``units`` cups at ``price`` each, on its way back."""
    return returned(buyer, staff, lines=(("general", price, units, None),), **order)


def entry(ticket, units, *, accepted=True, why="", note=""):
    line = ticket.lines.select_related("order_line").get()
    return {"order_line_id": line.order_line.line_id, "quantity": units, "accepted": accepted,
            "reject_reason": why, "note": note}


def test_two_cups_one_chipped_refunds_the_one_that_passed(buyer, staff):
    ticket = cups(buyer, staff)  # 2 × 25.00: 50.00 claimed

    inbound = services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=[
        entry(ticket, 1), entry(ticket, 1, accepted=False, why="damaged_by_buyer", note="Chipped rim")])

    ticket.refresh_from_db()
    assert (ticket.status, ticket.inspection_passed) == (S.PENDING_REVIEW, False)
    assert (ticket.goods_amount, ticket.refund_amount) == (Decimal("25.00"), Decimal("25.00"))
    assert sorted((line.quantity, line.accepted, line.reject_reason, line.note) for line in inbound.lines.all()) == [
        (1, False, "damaged_by_buyer", "Chipped rim"), (1, True, "", "")]
    event = ticket.events.get(transition="receive_goods")
    assert [(row.units, row.accepted, row.reject_reason, row.note) for row in event.inspection] == [
        (1, True, "", ""), (1, False, "damaged_by_buyer", "Chipped rim")]
    assert event.refund_amount_change.old == Decimal("50.00") and event.refund_amount_change.new == Decimal("25.00")
    assert (balance("SKU-1", "sellable"), balance("SKU-1", "damaged")) == (1, 1)
    # The ticket's line keeps what was claimed: the refused cup's money stays out of any later claim.
    assert ticket.lines.get().quantity == 2


def test_units_refused_for_the_same_reason_are_one_entry_and_other_reasons_their_own(buyer, staff):
    ticket = cups(buyer, staff, price="10.00", units=4)

    services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=[
        entry(ticket, 1, accepted=False, why="used", note="Stained"),
        entry(ticket, 1, accepted=False, why="used", note="Scratched"),
        entry(ticket, 1, accepted=False, why="missing_parts")])  # the fourth cup never came

    ticket.refresh_from_db()
    event = ticket.events.get(transition="receive_goods")
    assert [(row.units, row.reject_reason, row.note) for row in event.inspection] == [
        (2, "used", "Stained; Scratched"), (1, "missing_parts", "")]
    assert InboundLine.objects.filter(inbound__ticket=ticket).count() == 2
    assert ticket.refund_amount == Decimal("0.00")  # nothing passed
    assert StockMovement.objects.filter(ticket=ticket, location="damaged").count() == 2


def test_entries_of_a_line_adding_up_to_more_than_was_claimed_are_refused_naming_the_entry(buyer, staff):
    ticket = cups(buyer, staff)

    with pytest.raises(FieldInvalid) as refused:
        services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=[
            entry(ticket, 1), entry(ticket, 1, accepted=False, why="used"), entry(ticket, 1)])

    assert refused.value.field == "lines.2.quantity"
    assert "the buyer claimed 2 of this line" in refused.value.detail
    ticket.refresh_from_db()
    assert ticket.status == S.AWAITING_RETURN and not ticket.inbounds.exists()
    assert not StockMovement.objects.filter(ticket=ticket).exists()


def test_a_refused_unit_without_a_reason_is_refused_and_changes_nothing(buyer, staff):
    ticket = cups(buyer, staff)

    with pytest.raises(FieldRequired) as refused:
        services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=[
            entry(ticket, 1), entry(ticket, 1, accepted=False)])

    assert refused.value.field == "lines.1.reject_reason"
    assert Ticket.objects.get(pk=ticket.pk).status == S.AWAITING_RETURN


def test_the_api_takes_a_line_split_into_passed_and_refused_units(buyer, staff):
    ticket = cups(buyer, staff)
    clerk = client_for(staff["warehouse"])

    response = clerk.post(f"{API}/warehouse/inbound/", {"ticket_no": ticket.ticket_no, "lines": [
        entry(ticket, 1), {**entry(ticket, 1, accepted=False, why="damaged_by_buyer"), "note": "Chipped"}]},
        format="json")

    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["refund_amount"]) == ("pending_review", "25.00")
    assert sorted(InboundLine.objects.filter(inbound__ticket=ticket).values_list("accepted", "quantity")) == [
        (False, 1), (True, 1)]


def test_the_api_refuses_a_split_above_the_claim(buyer, staff):
    ticket = cups(buyer, staff)

    response = client_for(staff["warehouse"]).post(f"{API}/warehouse/inbound/", {
        "ticket_no": ticket.ticket_no, "lines": [entry(ticket, 2), entry(ticket, 1, accepted=False, why="used")]},
        format="json")

    assert_error(response, 400, "invalid", field="lines.1.quantity")
    assert Ticket.objects.get(pk=ticket.pk).status == S.AWAITING_RETURN


# The rule, whatever the numbers: a line of `quantity` units that cost `paid`; the buyer claims `claimed` of
# them; the clerk finds `passed` good and refuses the rest of what arrived for two reasons.
@st.composite
def splits(draw):
    quantity = draw(st.integers(1, 7))
    unit_price = Decimal(draw(st.integers(1, 99_999))) / 100
    claimed = draw(st.integers(1, quantity))
    passed = draw(st.integers(0, claimed))
    used = draw(st.integers(0, claimed - passed))
    damaged = draw(st.integers(0, claimed - passed - used))
    return (quantity, unit_price, claimed), (passed, used, damaged)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(split=splits())
def test_the_refund_is_the_passed_units_paid_amount_to_the_cent(split, buyer, staff):
    (quantity, unit_price, claimed), (passed, used, damaged) = split
    paid = unit_price * quantity
    with transaction.atomic():  # each example undone: the next starts from the same database
        order = make_order(buyer=buyer, lines=(("general", str(unit_price), quantity, None),))
        from demo.journeys import advance, ship_back
        from tests.factories import submit
        ticket = advance(submit(order, type="return_refund", reason_code="quality_issue", lines=[(0, claimed)]),
                         S.AWAITING_RETURN, staff=staff)
        ship_back(ticket, staff)
        claimed_refund = ticket.refund_amount
        lines = [entry(ticket, units, accepted=ok, why=why) for units, ok, why in (
            (passed, True, ""), (used, False, "used"), (damaged, False, "damaged_by_buyer")) if units]
        if not lines:
            transaction.set_rollback(True)
            return
        services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=lines)

        ticket.refresh_from_db()
        expected = paid if passed == quantity else unit_amount(paid, quantity) * passed
        everything = passed == claimed
        assert ticket.status == (S.AWAITING_REFUND if everything else S.PENDING_REVIEW)
        assert ticket.goods_amount == (claimed_refund if everything else expected)
        assert ticket.refund_amount == ticket.goods_amount  # no shipping, no fee on these orders
        assert ticket.refund_amount.as_tuple().exponent == -2 and Decimal(0) <= ticket.refund_amount <= claimed_refund
        event = ticket.events.get(transition="receive_goods")
        assert sum(row.units for row in event.inspection if row.accepted) == passed
        assert sum(row.units for row in event.inspection if not row.accepted) == used + damaged
        rows = list(InboundLine.objects.filter(inbound__ticket=ticket).values_list("quantity", "accepted",
                                                                                    "reject_reason"))
        assert all(units > 0 and (ok == (why == "")) for units, ok, why in rows)  # the table's CHECKs, kept
        assert sum(units for units, *_ in rows) == passed + used + damaged
        transaction.set_rollback(True)
