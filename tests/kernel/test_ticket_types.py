"""The ticket types' traits table (aftersales.vocabulary): one row per type, read by every part instead of
comparing the type, and the one photo rule built on it (tickets.rules.photos_required)."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.vocabulary import TYPE_TRAITS, ClaimWindow, TicketType, TypeTraits, traits, types_where
from orders.models import Order, OrderLine
from reasons.models import Reason
from tickets import rules
from tickets.models import Ticket

ticket_types = st.sampled_from(list(TicketType))


def test_every_ticket_type_has_one_row_of_traits_and_nothing_else_has_one():
    assert set(TYPE_TRAITS) == set(TicketType)
    assert all(isinstance(row, TypeTraits) for row in TYPE_TRAITS.values())


@given(ticket_types)
def test_the_traits_are_the_same_by_member_by_stored_value_and_on_a_ticket(ticket_type):
    assert ticket_type.traits is TYPE_TRAITS[ticket_type]
    assert traits(ticket_type.value) is ticket_type.traits
    assert Ticket(type=ticket_type.value).traits is ticket_type.traits


def test_an_unknown_type_has_no_traits():
    with pytest.raises(ValueError):
        traits("repair")


def test_a_row_of_traits_cannot_be_changed_in_place():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TicketType.EXCHANGE.traits.money_moves = True


@given(ticket_types)
def test_every_type_is_a_coherent_claim(ticket_type):
    row = ticket_type.traits
    # Something settles the claim: money, or new goods.
    assert row.money_moves or row.replacement_ships
    # A replacement goes out only for goods that came back and passed.
    assert row.goods_come_back or not row.replacement_ships
    # Before the order ships there are no goods to send back.
    assert not (row.claimable_before_shipment and row.goods_come_back)
    # Every type can be claimed somewhere.
    assert row.windows and row.windows <= set(ClaimWindow)


def test_the_three_types_mean_what_the_spec_says():
    """SPEC §3: refund only moves money and no goods; return and refund takes the goods back, then money;
    exchange takes the goods back and ships new ones, and always asks for photos (§4.3). §6: only refund only
    is claimed before delivery; the 7-day no-reason window is for goods that come back."""
    assert TicketType.REFUND_ONLY.traits == TypeTraits(
        goods_come_back=False, replacement_ships=False, money_moves=True, photos_required=False,
        windows=frozenset({ClaimWindow.BEFORE_SHIPMENT, ClaimWindow.IN_TRANSIT, ClaimWindow.FRESH_QUALITY,
                           ClaimWindow.QUALITY}))
    assert TicketType.RETURN_REFUND.traits == TypeTraits(
        goods_come_back=True, replacement_ships=False, money_moves=True, photos_required=False,
        windows=frozenset({ClaimWindow.FRESH_QUALITY, ClaimWindow.NO_REASON, ClaimWindow.QUALITY}))
    assert TicketType.EXCHANGE.traits == TypeTraits(
        goods_come_back=True, replacement_ships=True, money_moves=False, photos_required=True,
        windows=frozenset({ClaimWindow.FRESH_QUALITY, ClaimWindow.NO_REASON, ClaimWindow.QUALITY}))


def test_the_windows_admit_the_types_whose_traits_name_them():
    assert rules.types_in(ClaimWindow.BEFORE_SHIPMENT) == {TicketType.REFUND_ONLY}
    assert rules.types_in(ClaimWindow.IN_TRANSIT) == {TicketType.REFUND_ONLY}
    assert rules.types_in(ClaimWindow.NO_REASON) == {TicketType.RETURN_REFUND, TicketType.EXCHANGE}
    assert rules.types_in(ClaimWindow.QUALITY) == set(TicketType)
    assert rules.types_in(ClaimWindow.FRESH_QUALITY) == set(TicketType)


def test_types_where_keeps_the_order_of_the_types():
    assert types_where(lambda row: True) == list(TicketType)
    assert types_where(lambda row: row.goods_come_back) == [TicketType.RETURN_REFUND, TicketType.EXCHANGE]


# --- the one photo rule -----------------------------------------------------------------------------

statuses = st.sampled_from(list(Order.Status))
categories = st.sampled_from(list(OrderLine.Category))


@given(ticket_types, statuses, categories, st.booleans())
def test_photos_are_required_for_the_type_the_reason_or_fresh_produce_received(ticket_type, status, category,
                                                                                 reason_asks):
    order, reason = Order(status=status), Reason(requires_photos=reason_asks)

    required = rules.photos_required(order=order, categories={category}, ticket_type=ticket_type, reason=reason)

    fresh_received = category == OrderLine.Category.FRESH and status == Order.Status.DELIVERED
    assert required == (ticket_type == TicketType.EXCHANGE or reason_asks or fresh_received)


@given(ticket_types, statuses, categories, st.booleans())
def test_without_a_reason_the_rule_says_what_any_reason_needs(ticket_type, status, category, reason_asks):
    """The eligibility view (no reason picked yet) asks the same rule: required without a reason means
    required with every reason."""
    order = Order(status=status)
    without = rules.photos_required(order=order, categories={category}, ticket_type=ticket_type)
    with_reason = rules.photos_required(order=order, categories={category}, ticket_type=ticket_type,
                                        reason=Reason(requires_photos=reason_asks))

    assert with_reason >= without
    assert with_reason == (without or reason_asks)
