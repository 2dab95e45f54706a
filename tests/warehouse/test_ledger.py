"""The stock ledger (issue #12): every receipt and shipment writes its movements in its own transaction, and
per SKU and location the kept balance always equals the sum of the movements, whatever the sequence; two
clerks receiving the same parcel at once record one inbound (real threads on PostgreSQL)."""

from collections import Counter

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales import clock
from aftersales.errors import InvalidTransition
from demo import journeys
from demo.journeys import advance
from tests.factories import UserFactory, make_order, submit
from tests.tickets.test_concurrency import one_winner, race
from tests.warehouse.test_flows import lines_of
from tickets.models import Ticket
from warehouse import selectors, services
from warehouse.models import Inbound, StockBalance, StockMovement

S = Ticket.Status

# One step: (ticket type, units claimed of a 3-unit line of SKU-1, units received, accepted, shipped after)
STEP = st.tuples(st.sampled_from(["return_refund", "exchange"]), st.integers(1, 3), st.integers(1, 3),
                 st.booleans(), st.booleans())


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=4))
def test_per_sku_and_location_the_balance_is_the_sum_of_the_movements(steps, buyer, staff):
    expected: Counter = Counter(**{f"{sku}|{loc}": q for sku, loc, q in StockBalance.objects.values_list(
        "sku", "location", "quantity")})
    with transaction.atomic():  # each example starts from where the last left the database, then undoes it
        for ticket_type, claimed, received, accepted, ship in steps:
            order = make_order(buyer=buyer, lines=(("general", "10.00", 3, None), ("general", "4.00", 1, None)))
            ticket = advance(submit(order, type=ticket_type, lines=[(0, claimed), (1, 1)]), S.AWAITING_RETURN,
                             staff=staff)
            first, second = lines_of(ticket)
            units = min(received, claimed)
            services.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=[
                {**first, "quantity": units, "accepted": accepted, "reject_reason": "" if accepted else "used"},
                {**second, "accepted": True}])
            expected[f"SKU-1|{'sellable' if accepted else 'damaged'}"] += units
            expected["SKU-2|sellable"] += 1
            ticket.refresh_from_db()
            if ship and ticket.status == S.AWAITING_EXCHANGE:
                services.record_outbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=lines_of(ticket),
                                         courier="SF", tracking_no=f"SFR{ticket.pk}")
                expected["SKU-1|sellable"] -= claimed
                expected["SKU-2|sellable"] -= 1

        assert selectors.stock_mismatches() == []
        balances = {f"{sku}|{loc}": q for sku, loc, q in StockBalance.objects.values_list("sku", "location", "quantity")}
        assert balances == {key: value for key, value in expected.items() if key in balances}
        assert all(expected[key] == 0 for key in expected if key not in balances)
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_a_movement_cannot_be_edited_nor_go_the_wrong_way(buyer, staff):
    ticket = advance(submit(make_order(buyer=buyer), type="return_refund"), S.AWAITING_REFUND, staff=staff)
    movement = StockMovement.objects.get(ticket=ticket)

    with pytest.raises(RuntimeError):
        movement.save()
    with pytest.raises(IntegrityError), transaction.atomic():  # out of stock is never a receipt
        StockMovement.objects.create(sku="SKU-1", location="sellable", quantity=-1, kind="return_accepted",
                                     ticket=ticket, inbound=movement.inbound, operator=staff["warehouse"],
                                     at=clock.now())
    with pytest.raises(Exception, match="stock_movements_append_only|Cannot"), transaction.atomic():
        StockMovement.objects.filter(pk=movement.pk).update(quantity=5)  # PostgreSQL refuses it too


@pytest.mark.django_db(transaction=True)
def test_two_clerks_receiving_the_same_parcel_at_once_record_one_inbound(buyer, staff):
    ticket = advance(submit(make_order(buyer=buyer), type="return_refund"), S.AWAITING_RETURN, staff=staff)
    journeys.ship_back(ticket, staff)
    lines = lines_of(ticket, accepted=True)

    def receive(user):
        return services.record_inbound(ticket_id=ticket.pk, actor=user, lines=lines)

    other_clerk = UserFactory(username="warehouse2", groups=["warehouse"])
    results = race((staff["warehouse"].pk, receive), (other_clerk.pk, receive))

    one_winner(results, InvalidTransition)
    assert Inbound.objects.filter(ticket=ticket).count() == 1
    assert StockMovement.objects.filter(ticket=ticket).count() == 1
    assert StockBalance.objects.get(sku="SKU-1", location="sellable").quantity == 2
    ticket.refresh_from_db()
    assert ticket.status == S.AWAITING_REFUND
    assert ticket.events.filter(transition="receive_goods").count() == 1
