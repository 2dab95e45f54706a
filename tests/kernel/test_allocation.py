"""aftersales.money: a discount split over lines adds up to the cent (SPEC §5); claiming every unit of a
line, in any number of claims, gives back exactly what was paid for it."""

from decimal import Decimal, localcontext

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from aftersales.money import CENT, ZERO, allocate, amount_for_units, unit_amount

amounts = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("9999999999.99"), places=2,
                      allow_nan=False, allow_infinity=False)
small_amounts = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("100000.00"), places=2,
                            allow_nan=False, allow_infinity=False)
weights = st.lists(st.one_of(small_amounts, st.just(Decimal("0.00"))), min_size=1, max_size=25)


def exact_share(total: Decimal, weight: Decimal, weight_sum: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 80
        return total * weight / weight_sum


@given(total=amounts, weights=weights)
@example(total=Decimal("20.00"), weights=[Decimal(10)] * 3)
@example(total=Decimal("0.01"), weights=[Decimal("0.00"), Decimal("5.00"), Decimal("5.00")])
@example(total=Decimal("9999999999.99"), weights=[Decimal("0.01"), Decimal("100000.00"), Decimal("33333.33")])
def test_parts_add_up_exactly_are_never_negative_and_stay_within_a_cent_of_their_share(total, weights):
    parts = allocate(total, weights)

    assert len(parts) == len(weights)
    assert sum(parts, ZERO) == total
    assert all(p >= 0 for p in parts)
    assert all(p == p.quantize(CENT) for p in parts)
    weight_sum = sum(weights, Decimal(0))
    for part, weight in zip(parts, weights, strict=True):
        if weight_sum == 0:
            continue  # an even split: checked in its own test
        assert abs(part - exact_share(total, weight, weight_sum)) < CENT
        if weight == 0:
            assert part == ZERO


@given(total=amounts, size=st.integers(min_value=1, max_value=25))
def test_all_zero_weights_split_evenly_to_the_cent(total, size):
    parts = allocate(total, [Decimal(0)] * size)

    assert sum(parts, ZERO) == total
    assert max(parts) - min(parts) <= CENT
    assert all(p >= 0 for p in parts)


@given(total=amounts, weights=weights)
def test_the_split_is_deterministic(total, weights):
    assert allocate(total, list(weights)) == allocate(total, list(weights))


@given(total=small_amounts, weights=weights, scale=st.integers(min_value=2, max_value=1000))
def test_scaling_every_weight_does_not_change_the_split(total, weights, scale):
    """Only the proportions matter: the same order in cents or in whole units splits the same way."""
    assert allocate(total, [w * scale for w in weights]) == allocate(total, weights)


def test_ties_give_the_spare_cent_to_the_earlier_part():
    assert allocate(Decimal("0.02"), [Decimal(1)] * 3) == [Decimal("0.01"), Decimal("0.01"), Decimal("0.00")]


def test_no_weights_no_parts_and_negative_weights_are_refused():
    assert allocate(Decimal("5.00"), []) == []
    with pytest.raises(ValueError, match="never negative"):
        allocate(Decimal("5.00"), [Decimal(1), Decimal(-1)])


def test_floats_are_refused():
    with pytest.raises(TypeError):
        allocate(0.1, [Decimal(1)])


@st.composite
def claims(draw):
    """A line (paid, quantity) and a split of all its units into successive claims."""
    quantity = draw(st.integers(min_value=1, max_value=60))
    paid = draw(st.decimals(min_value=Decimal("0.00"), max_value=Decimal("50000.00"), places=2,
                            allow_nan=False, allow_infinity=False))
    splits, left = [], quantity
    while left:
        units = draw(st.integers(min_value=1, max_value=left))
        splits.append(units)
        left -= units
    return paid, quantity, splits


def claim_in_turn(paid: Decimal, quantity: int, splits: list[int]) -> list[Decimal]:
    refunded, claimed, results = ZERO, 0, []
    for units in splits:
        amount = amount_for_units(paid=paid, quantity=quantity, units=units, already_refunded=refunded,
                                  units_already_claimed=claimed)
        results.append(amount)
        refunded += amount
        claimed += units
    return results


@given(claims())
@example((Decimal("10.00"), 3, [1, 1, 1]))
@example((Decimal("0.01"), 7, [1, 2, 4]))
@example((Decimal("45.00"), 10, [4, 6]))
def test_claiming_every_unit_in_any_split_returns_exactly_what_was_paid(claim):
    paid, quantity, splits = claim

    results = claim_in_turn(paid, quantity, splits)

    assert sum(results, ZERO) == paid
    assert all(r >= 0 for r in results)
    assert all(r == r.quantize(CENT) for r in results)
    # Every claim but the last is valued at the (rounded-down) unit amount: nobody is overpaid early.
    for units, amount in zip(splits[:-1], results[:-1], strict=True):
        assert amount == unit_amount(paid, quantity) * units


@given(claims(), st.data())
def test_a_partial_claim_never_exceeds_what_is_left_and_is_never_negative(claim, data):
    paid, quantity, splits = claim
    taken = splits[: data.draw(st.integers(min_value=0, max_value=len(splits)))]

    results = claim_in_turn(paid, quantity, taken)

    assert sum(results, ZERO) <= paid
    assert all(r >= 0 for r in results)
    if sum(taken) < quantity:
        assert sum(results, ZERO) <= unit_amount(paid, quantity) * sum(taken)


def test_the_seed_example_two_bad_fruits_of_ten_paid_fifty_is_ten():
    """[000]: "paid 50 for 10 fruits, 2 were bad, claim 10"."""
    assert amount_for_units(paid=Decimal("50.00"), quantity=10, units=2, already_refunded=ZERO,
                            units_already_claimed=0) == Decimal("10.00")


def test_a_claim_after_more_was_refunded_than_the_units_are_worth_gets_nothing_not_a_negative():
    assert amount_for_units(paid=Decimal("10.00"), quantity=4, units=1, already_refunded=Decimal("10.00"),
                            units_already_claimed=1) == ZERO
    assert amount_for_units(paid=Decimal("10.00"), quantity=4, units=3, already_refunded=Decimal("12.00"),
                            units_already_claimed=1) == ZERO
