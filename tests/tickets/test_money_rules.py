"""Money (SPEC §5): refund amounts to the cent, what ops may change, the compensation cap, and the
invariants no sequence of claims may break (hypothesis)."""

from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from aftersales.errors import (
    AmountAboveMaximum,
    FieldInvalid,
    FieldRequired,
    InvalidTransition,
    QuantityAboveClaimable,
)
from demo import journeys
from refunds import services as refunds
from refunds.models import GatewayPayout, Refund
from tests.factories import UserFactory, make_order, make_upload, reason, submit
from tickets import services
from tickets.models import Note, Ticket, TicketLine, TimelineEvent

S = Ticket.Status

def untouched(ticket: Ticket) -> tuple:
    """The ticket row, its timeline and its notes: what a refused action must leave as they were."""
    fresh = Ticket.objects.get(pk=ticket.pk)
    return (model_to_dict(fresh), fresh.updated_at, list(fresh.events.values_list("pk", flat=True)),
            Note.objects.filter(ticket=fresh).count(), Refund.objects.filter(ticket=fresh).count())


def finance_pays(ticket: Ticket, staff: dict, capture) -> Refund:
    """Finance approves; the refund runs after commit (Celery is eager) and the ticket completes."""
    with capture(execute=True):
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    ticket.refresh_from_db()
    assert ticket.status == S.COMPLETED
    refund = ticket.refunds.get()
    assert refund.status == Refund.Status.SUCCEEDED
    assert GatewayPayout.objects.get(idempotency_key=refund.uuid).amount == refund.amount
    return refund


# ---------------------------------------------------------------------------------------------
# the seed's examples


@pytest.mark.django_db
def test_paid_50_for_10_fruits_2_bad_refunds_10(staff, buyer, django_capture_on_commit_callbacks):
    """[000]: "paid 50 for 10 fruits, 2 were bad, claim 10"."""
    order = make_order(lines=(("fresh", "5.00", 10, None),), buyer=buyer)

    ticket = submit(order, type="refund_only", reason_code="quality_issue", lines=[(0, 2)], photos=1)

    assert ticket.status == S.PENDING_REVIEW
    assert ticket.goods_amount == ticket.refund_amount == Decimal("10.00")
    assert ticket.lines.get().refund_amount == Decimal("10.00")
    assert ticket.events.get(transition="submit").changes["refund_amount"] == [None, "10.00"]

    journeys.approve(ticket, staff)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.refund_amount, ticket.service_fee) == (S.AWAITING_REFUND, Decimal("10.00"), 0)
    assert finance_pays(ticket, staff, django_capture_on_commit_callbacks).amount == Decimal("10.00")


@pytest.mark.django_db
def test_whole_unshipped_order_refunds_goods_and_shipping_but_not_the_coupon(
        buyer, django_capture_on_commit_callbacks):
    """[001]: goods 50, coupon 5, shipping 10, whole order refunded before shipment: 45 + 10 = 55."""
    order = make_order(lines=(("general", "30.00", 1, None), ("general", "10.00", 2, None)), status="unshipped",
                       shipping_fee="10.00", coupon="5.00", buyer=buyer)
    assert [line.paid_amount for line in order.lines.all()] == [Decimal("27.00"), Decimal("18.00")]

    with django_capture_on_commit_callbacks(execute=True):
        ticket = submit(order, type="refund_only", reason_code="changed_mind")

    ticket.refresh_from_db()
    assert ticket.goods_amount == Decimal("45.00")
    assert ticket.shipping_refund == Decimal("10.00")
    assert ticket.coupon_refund == Decimal("0.00")
    assert ticket.refund_amount == Decimal("55.00")
    # Approved and refunded by the system: no staff step.
    assert ticket.status == S.COMPLETED
    refund = ticket.refunds.get()
    assert (refund.amount, refund.status, refund.requested_by) == (Decimal("55.00"), "succeeded", None)
    assert GatewayPayout.objects.get().amount == Decimal("55.00")
    assert list(ticket.events.values_list("transition", flat=True)) == [
        "submit", "intercept_requested", "auto_approve", "refund_succeeded"]


@pytest.mark.django_db
def test_unshipped_order_refunded_in_two_claims_gets_shipping_back_with_the_claim_that_completes_it(buyer):
    order = make_order(lines=(("general", "30.00", 1, None), ("general", "10.00", 2, None)), status="unshipped",
                       shipping_fee="10.00", coupon="5.00", buyer=buyer)

    first = submit(order, type="refund_only", reason_code="changed_mind", lines=[(0, 1)])
    second = submit(order, type="refund_only", reason_code="changed_mind", lines=[(1, 2)])

    assert (first.goods_amount, first.shipping_refund, first.refund_amount) == (
        Decimal("27.00"), Decimal("0.00"), Decimal("27.00"))
    assert (second.goods_amount, second.shipping_refund, second.refund_amount) == (
        Decimal("18.00"), Decimal("10.00"), Decimal("28.00"))
    assert sum(r.amount for r in Refund.objects.filter(ticket__order=order)) == order.amount_paid


@pytest.mark.django_db
def test_a_large_unshipped_refund_waits_for_ops(buyer):
    """Policy sends amounts above auto_approve_max_amount (500) to manual review [001]."""
    order = make_order(lines=(("general", "250.01", 2, None),), status="unshipped", buyer=buyer)

    ticket = submit(order, type="refund_only", reason_code="changed_mind")

    assert ticket.refund_amount == Decimal("500.02")
    assert ticket.status == S.PENDING_REVIEW
    assert not ticket.refunds.exists()
    assert not ticket.events.filter(transition="auto_approve").exists()


@pytest.mark.django_db
def test_three_units_paid_10_refunded_one_at_a_time_give_3_33_3_33_3_34(buyer):
    order = make_order(lines=(("general", "4.00", 3, "10.00"),), buyer=buyer)

    tickets = [submit(order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 1)]) for _ in range(3)]

    assert [t.refund_amount for t in tickets] == [Decimal("3.33"), Decimal("3.33"), Decimal("3.34")]
    assert [t.lines.get().refund_amount for t in tickets] == [Decimal("3.33"), Decimal("3.33"), Decimal("3.34")]


@pytest.mark.django_db
def test_a_cancelled_claim_gives_its_amount_back_to_the_line(buyer):
    order = make_order(lines=(("general", "4.00", 3, "10.00"),), buyer=buyer)
    first = submit(order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 2)])
    submit(order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 1)])
    services.cancel_ticket(ticket_id=first.pk, actor=buyer.user)

    again = submit(order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 2)])

    assert first.refund_amount == Decimal("6.66")
    assert again.refund_amount == Decimal("6.66")  # the last units: 10.00 − 3.34


# ---------------------------------------------------------------------------------------------
# what ops may change


@pytest.mark.django_db
def test_ops_lowering_the_amount_must_say_why(staff, buyer, django_capture_on_commit_callbacks):
    order = make_order(lines=(("general", "10.00", 2, None),), buyer=buyer)
    ticket = submit(order, type="return_refund", reason_code="no_reason_7d")
    before = untouched(ticket)

    with pytest.raises(FieldRequired) as error:
        services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"], refund_amount=Decimal("15.00"))
    assert error.value.field == "fee_reason"
    assert untouched(ticket) == before

    services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"], refund_amount=Decimal("15.00"),
                            fee_reason="Box opened: 5.00 service fee agreed with the buyer.")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.refund_amount, ticket.service_fee) == (
        S.AWAITING_RETURN, Decimal("15.00"), Decimal("5.00"))
    event = ticket.events.get(transition="approve")
    assert event.reason == "Box opened: 5.00 service fee agreed with the buyer."
    assert event.changes["refund_amount"] == ["20.00", "15.00"]
    assert event.changes["service_fee"] == ["0.00", "5.00"]

    journeys.ship_back(ticket, {})
    journeys.receive(ticket, staff)
    assert finance_pays(ticket, staff, django_capture_on_commit_callbacks).amount == Decimal("15.00")


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [Decimal("20.01"), "20.01", Decimal("1000")])
def test_ops_cannot_raise_the_amount_above_the_maximum(amount, staff, buyer):
    order = make_order(lines=(("general", "10.00", 2, None),), buyer=buyer)
    ticket = submit(order, type="return_refund", reason_code="no_reason_7d")
    before = untouched(ticket)

    with pytest.raises(AmountAboveMaximum) as error:
        services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"], refund_amount=amount,
                                fee_reason="A reason does not help.")

    assert error.value.field == "refund_amount"
    assert untouched(ticket) == before
    assert untouched(ticket)[0]["status"] == S.PENDING_REVIEW


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [15.0, "15.001", "-1.00", "NaN", "fifteen"])
def test_an_amount_that_is_not_exact_money_is_refused(amount, staff, buyer):
    order = make_order(lines=(("general", "10.00", 2, None),), buyer=buyer)
    ticket = submit(order, type="return_refund", reason_code="no_reason_7d")
    before = untouched(ticket)

    with pytest.raises(FieldInvalid) as error:
        services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"], refund_amount=amount, fee_reason="Fee.")

    assert error.value.field == "refund_amount"
    assert untouched(ticket) == before


@pytest.mark.django_db
def test_by_default_the_refund_covers_goods_only(staff, buyer):
    order = make_order(lines=(("general", "25.00", 2, None),), shipping_fee="10.00", coupon="5.00",
                       virtual_currency="3.00", buyer=buyer)
    ticket = submit(order, type="return_refund", reason_code="no_reason_7d")

    services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"])

    ticket.refresh_from_db()
    assert ticket.goods_amount == ticket.refund_amount == Decimal("42.00")  # 50 − 5 − 3
    assert (ticket.shipping_refund, ticket.coupon_refund, ticket.virtual_currency_refund) == (0, 0, 0)


@pytest.mark.django_db
def test_ops_may_add_coupon_shipping_and_virtual_currency(staff, buyer):
    """Each extra is this ticket's share of it, and never more than earlier tickets left."""
    order = make_order(lines=(("general", "25.00", 2, None),), shipping_fee="10.00", coupon="5.00",
                       virtual_currency="3.00", buyer=buyer)
    first = submit(order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 1)])
    second = submit(order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 1)])
    assert (first.goods_amount, second.goods_amount) == (Decimal("21.00"), Decimal("21.00"))

    services.approve_ticket(ticket_id=first.pk, actor=staff["ops"], refund_coupon=True, refund_shipping=True)
    first.refresh_from_db()
    assert (first.shipping_refund, first.coupon_refund, first.virtual_currency_refund) == (
        Decimal("10.00"), Decimal("2.50"), Decimal("0.00"))
    assert first.refund_amount == Decimal("31.00")  # cash: 21.00 + 10.00; the coupon share goes back in kind
    assert first.events.get(transition="approve").changes["coupon_refund"] == [None, "2.50"]

    # The shipping fee went back with the first ticket: nothing of it is left for the second.
    services.approve_ticket(ticket_id=second.pk, actor=staff["ops"], refund_coupon=True, refund_shipping=True,
                            refund_virtual_currency=True)
    second.refresh_from_db()
    assert (second.shipping_refund, second.coupon_refund, second.virtual_currency_refund) == (
        Decimal("0.00"), Decimal("2.50"), Decimal("1.50"))
    assert second.refund_amount == Decimal("21.00")  # coupon 2.50 and points 1.50 go back in kind


@pytest.mark.django_db
def test_with_extras_on_the_maximum_grows_by_them_and_one_cent_more_is_refused(staff, buyer):
    order = make_order(lines=(("general", "25.00", 2, None),), shipping_fee="10.00", coupon="5.00", buyer=buyer)
    ticket = submit(order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 1)])
    before = untouched(ticket)

    with pytest.raises(AmountAboveMaximum):
        services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"], refund_shipping=True,
                                refund_amount=Decimal("32.51"))
    assert untouched(ticket) == before

    services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"], refund_shipping=True,
                            refund_amount=Decimal("32.50"))
    ticket.refresh_from_db()
    assert (ticket.refund_amount, ticket.service_fee) == (Decimal("32.50"), Decimal("0.00"))


@pytest.mark.django_db
def test_an_exchange_refunds_nothing(staff, buyer):
    order = make_order(lines=(("general", "25.00", 2, None),), shipping_fee="10.00", buyer=buyer)
    ticket = submit(order, type="exchange", reason_code="quality_issue", lines=[(0, 1)])
    assert ticket.refund_amount == Decimal("0.00")

    services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"], refund_shipping=True)

    ticket.refresh_from_db()
    assert (ticket.refund_amount, ticket.shipping_refund) == (Decimal("0.00"), Decimal("0.00"))


# ---------------------------------------------------------------------------------------------
# compensation [004]


@pytest.mark.django_db
def test_compensation_for_an_item_paid_218_is_capped_at_43_60(staff, buyer, django_capture_on_commit_callbacks):
    order = make_order(lines=(("general", "218.00", 1, None),), buyer=buyer)
    ticket = submit(order, type="return_refund", reason_code="not_as_described")
    before = untouched(ticket)

    with pytest.raises(AmountAboveMaximum) as error:
        services.compensate_ticket(ticket_id=ticket.pk, actor=staff["ops"], amount="43.61",
                                   note="Stain on the sleeve, offered compensation.")
    assert error.value.field == "amount"
    assert untouched(ticket) == before

    services.compensate_ticket(ticket_id=ticket.pk, actor=staff["ops"], amount="43.60",
                               note="Stain on the sleeve, offered compensation 43.60, buyer agreed.")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.refund_amount, ticket.is_compensation) == (
        S.AWAITING_REFUND, Decimal("43.60"), True)
    assert ticket.notes.get().text == "Stain on the sleeve, offered compensation 43.60, buyer agreed."
    assert ticket.events.get(transition="compensate").changes["refund_amount"] == ["218.00", "43.60"]
    assert finance_pays(ticket, staff, django_capture_on_commit_callbacks).amount == Decimal("43.60")


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["0.00", "0", "-5"])
def test_compensation_must_be_more_than_nothing(amount, staff, buyer):
    order = make_order(lines=(("general", "218.00", 1, None),), buyer=buyer)
    ticket = submit(order, type="return_refund", reason_code="not_as_described")
    before = untouched(ticket)

    with pytest.raises(FieldInvalid):
        services.compensate_ticket(ticket_id=ticket.pk, actor=staff["ops"], amount=amount, note="Stain.")

    assert untouched(ticket) == before


@pytest.mark.django_db
def test_compensation_needs_a_note(staff, buyer):
    order = make_order(lines=(("general", "218.00", 1, None),), buyer=buyer)
    ticket = submit(order, type="return_refund", reason_code="not_as_described")
    before = untouched(ticket)

    with pytest.raises(FieldRequired) as error:
        services.compensate_ticket(ticket_id=ticket.pk, actor=staff["ops"], amount="10.00", note=" ")

    assert error.value.field == "note"
    assert untouched(ticket) == before


# ---------------------------------------------------------------------------------------------
# invariants over any sequence of claims (hypothesis)

COUNTING_EXCLUDED = {"rejected", "cancelled", "closed"}  # SPEC §4: withdrawn or refused claims free their units


@st.composite
def order_lines(draw):
    """1–3 lines: (quantity, unit price in cents, amount paid in cents ≤ price × quantity)."""
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        quantity = draw(st.integers(1, 12))
        price = draw(st.integers(1, 99_999))
        paid = draw(st.one_of(st.just(price * quantity), st.integers(0, price * quantity)))
        lines.append((quantity, price, paid))
    return lines


CLAIM_KINDS = {  # type: reason that fits a delivered general order one day after delivery
    "return_refund": "no_reason_7d",
    "refund_only": "lost_parcel",
    "exchange": "quality_issue",
}

actions = st.lists(st.one_of(
    st.tuples(st.just("claim"), st.sampled_from(sorted(CLAIM_KINDS)),
              st.lists(st.tuples(st.integers(0, 2), st.integers(1, 13)), min_size=1, max_size=3,
                       unique_by=lambda item: item[0])),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("reject"), st.integers(0, 20)),
), min_size=1, max_size=10)


def cents(value: int) -> str:
    return f"{Decimal(value) / 100:.2f}"


class ClaimArithmeticProperties(HypothesisTestCase):
    """For any claims, cancellations and rejections on one order, per line: counting claims never take
    more units than were bought nor more money than was paid; every unit claimed returns exactly
    what was paid."""

    def setUp(self):
        # Not setUpTestData: that runs before conftest's _reference_data has put the role groups back after
        # a transactional test flushed them (seen under xdist as "Group matching query does not exist").
        self.ops = UserFactory(username="ops-properties", groups=["ops"], is_staff=True)

    def counted(self, order_line) -> tuple[int, Decimal]:
        rows = TicketLine.objects.filter(order_line=order_line).exclude(ticket__status__in=COUNTING_EXCLUDED)
        return (sum(r.quantity for r in rows), sum((r.refund_amount for r in rows), Decimal("0.00")))

    def check_lines(self, order_lines):
        for line in order_lines:
            units, amount = self.counted(line)
            self.assertLessEqual(units, line.quantity)
            self.assertLessEqual(amount, line.paid_amount)
            if units == line.quantity:
                self.assertEqual(amount, line.paid_amount)

    def claim(self, order, kind, wanted):
        return services.submit_ticket(
            actor=order.buyer.user, order_no=order.order_no, type=kind, reason_id=reason(CLAIM_KINDS[kind]).pk,
            photo_ids=[make_upload(order.buyer.user).pk] if kind == "exchange" else [],
            lines=[{"order_line_id": line.line_id, "quantity": units} for line, units in wanted])

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(lines=order_lines(), steps=actions)
    def test_claims_never_exceed_what_was_bought_or_paid_and_all_units_return_exactly_the_paid_amount(
            self, lines, steps):
        order = make_order(lines=[("general", cents(price), quantity, cents(paid)) for quantity, price, paid in lines])
        order_lines = list(order.lines.all())
        claimed = {line.pk: 0 for line in order_lines}  # our own count of units held by counting claims
        tickets: list[Ticket] = []

        for step in steps:
            if step[0] == "claim":
                _, kind, picks = step
                wanted = [(order_lines[i % len(order_lines)], units) for i, units in picks]
                wanted = list({line.pk: (line, units) for line, units in wanted}.values())
                fits = all(units <= line.quantity - claimed[line.pk] for line, units in wanted)
                tickets_before = Ticket.objects.count()
                if fits:
                    ticket = self.claim(order, kind, wanted)
                    tickets.append(ticket)
                    for line, units in wanted:
                        claimed[line.pk] += units
                        amount = ticket.lines.get(order_line=line).refund_amount
                        # A claim that does not take a line's last unit gets at most its exact share.
                        if claimed[line.pk] < line.quantity:
                            self.assertLessEqual(amount * line.quantity, line.paid_amount * units)
                        self.assertGreaterEqual(amount, 0)
                    goods = sum((tl.refund_amount for tl in ticket.lines.all()), Decimal("0.00"))
                    self.assertEqual(ticket.goods_amount, goods)
                    self.assertEqual(ticket.refund_amount, Decimal("0.00") if kind == "exchange" else goods)
                else:
                    with self.assertRaises(QuantityAboveClaimable):
                        self.claim(order, kind, wanted)
                    self.assertEqual(Ticket.objects.count(), tickets_before)
            elif tickets:
                ticket = tickets[step[1] % len(tickets)]
                ticket.refresh_from_db()
                events = TimelineEvent.objects.filter(ticket=ticket).count()
                act = (lambda t=ticket: services.cancel_ticket(ticket_id=t.pk, actor=order.buyer.user)) \
                    if step[0] == "cancel" else \
                    (lambda t=ticket: services.reject_ticket(ticket_id=t.pk, actor=self.ops, reason="No."))
                if ticket.status == S.PENDING_REVIEW:
                    act()
                    for tl in ticket.lines.all():
                        claimed[tl.order_line_id] -= tl.quantity
                else:
                    with self.assertRaises(InvalidTransition):
                        act()
                    self.assertEqual(TimelineEvent.objects.filter(ticket=ticket).count(), events)
            self.check_lines(order_lines)

        # Claim whatever is left of every line: each line then returns exactly what was paid for it.
        rest = [(line, line.quantity - claimed[line.pk]) for line in order_lines if claimed[line.pk] < line.quantity]
        if rest:
            self.claim(order, "return_refund", rest)
        for line in order_lines:
            self.assertEqual(self.counted(line), (line.quantity, line.paid_amount))
        self.check_lines(order_lines)


@pytest.mark.django_db
def test_the_compensation_cap_is_per_item_even_on_a_line_of_several(staff, buyer):
    """[004] "items paid under 500": three coats at 218 on one line (654) are still capped per coat."""
    order = make_order(lines=(("general", "218.00", 3, None),), buyer=buyer)
    ticket = submit(order, type="return_refund", reason_code="not_as_described", lines=[(0, 1)], photos=1)

    with pytest.raises(AmountAboveMaximum):
        services.compensate_ticket(ticket_id=ticket.pk, actor=staff["ops"], amount=Decimal("43.61"), note="Stain.")
    services.compensate_ticket(ticket_id=ticket.pk, actor=staff["ops"], amount=Decimal("43.60"), note="Stain.")

    ticket.refresh_from_db()
    assert (ticket.status, ticket.refund_amount) == (Ticket.Status.AWAITING_REFUND, Decimal("43.60"))


@pytest.mark.django_db
def test_coupon_and_points_never_raise_the_cash_above_what_was_paid(staff, buyer):
    """Paid 55 (goods 50 − coupon 5 + shipping 10): with every extra allowed, cash back is at most 55."""
    order = make_order(lines=(("general", "50.00", 1, None),), shipping_fee="10.00", coupon="5.00", buyer=buyer)
    ticket = submit(order, type="return_refund", reason_code="quality_issue", photos=1)

    services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"], refund_shipping=True, refund_coupon=True)

    ticket.refresh_from_db()
    assert ticket.refund_amount == Decimal("55.00") == order.amount_paid
    assert ticket.coupon_refund == Decimal("5.00")  # the coupon itself goes back to the buyer
