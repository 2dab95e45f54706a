"""Who may claim what, until when (SPEC §3, §5, §6, §7), through tickets.services.submit_ticket.

Time is frozen: the order is delivered at T0 and the claim is made at T0 + some hours or days, so a
boundary test is exact to the second. Every refusal must name its field and create nothing: no
ticket, no ticket line, no timeline event, no photo attached."""

import datetime as dt

import pytest
import time_machine

from aftersales.errors import (
    FieldInvalid,
    FieldRequired,
    NotFound,
    OutsideWindow,
    QuantityAboveClaimable,
    ReasonNotAllowed,
    TypeNotAllowed,
)
from reasons.models import Reason
from tests.factories import BuyerFactory, make_order, make_upload, reason, submit
from tickets import services
from tickets.models import Ticket, TicketLine, TimelineEvent, Upload

T0 = dt.datetime(2025, 3, 3, 2, 0, tzinfo=dt.UTC)  # delivered: 10:00 in Shanghai
S = Ticket.Status


def delivered_order(*lines, buyer=None, status="delivered"):
    """An order delivered (or shipped, or placed) exactly at T0."""
    with time_machine.travel(T0, tick=False):
        return make_order(lines=lines or (("general", "10.00", 2, None),), status=status,
                          delivered_ago=dt.timedelta(0), buyer=buyer)


def claim_at(after: dt.timedelta, order, **kwargs) -> Ticket:
    with time_machine.travel(T0 + after, tick=False):
        return submit(order, **kwargs)


class Nothing:
    """Counts what a refused claim must not create."""

    def __init__(self):
        self.before = self.counts()

    @staticmethod
    def counts():
        return (Ticket.objects.count(), TicketLine.objects.count(), TimelineEvent.objects.count(),
                Upload.objects.filter(ticket__isnull=False).count())

    def still_nothing(self) -> bool:
        return self.counts() == self.before


def refused(error, field, call):
    """Run ``call``, expect ``error`` naming ``field``, and check it created nothing."""
    nothing = Nothing()
    with pytest.raises(error) as info:
        call()
    assert info.value.field == field
    assert nothing.still_nothing()
    return info.value


# ---------------------------------------------------------------------------------------------
# windows


@pytest.mark.django_db
@pytest.mark.parametrize("after", [dt.timedelta(hours=47), dt.timedelta(hours=48)], ids=["47h", "48h_exactly"])
def test_fresh_produce_can_be_claimed_within_48_hours_of_delivery(after, buyer):
    order = delivered_order(("fresh", "5.00", 10, None), buyer=buyer)

    ticket = claim_at(after, order, type="refund_only", reason_code="quality_issue", lines=[(0, 2)], photos=1)

    assert ticket.status == S.PENDING_REVIEW  # received fresh produce: ops reviews the photos
    assert ticket.created_at == T0 + after
    assert list(ticket.events.values_list("transition", flat=True)) == ["submit"]


@pytest.mark.django_db
@pytest.mark.parametrize("after", [dt.timedelta(hours=48, seconds=1), dt.timedelta(hours=49)],
                         ids=["one_second_late", "49h"])
def test_fresh_produce_claimed_after_48_hours_is_refused(after, buyer):
    order = delivered_order(("fresh", "5.00", 10, None), buyer=buyer)

    error = refused(OutsideWindow, "order_no", lambda: claim_at(
        after, order, type="refund_only", reason_code="quality_issue", lines=[(0, 2)], photos=1))

    assert "48 hours" in error.detail


@pytest.mark.django_db
@pytest.mark.parametrize("after", [dt.timedelta(days=6), dt.timedelta(days=7)], ids=["day_6", "day_7_exactly"])
def test_general_goods_no_reason_return_within_7_days_is_accepted(after, buyer):
    order = delivered_order(buyer=buyer)

    ticket = claim_at(after, order, type="return_refund", reason_code="no_reason_7d")

    assert ticket.status == S.PENDING_REVIEW
    assert ticket.reason.code == "no_reason_7d"


@pytest.mark.django_db
@pytest.mark.parametrize("after", [dt.timedelta(days=7, seconds=1), dt.timedelta(days=8)],
                         ids=["one_second_late", "day_8"])
def test_general_goods_no_reason_return_after_7_days_is_refused(after, buyer):
    order = delivered_order(buyer=buyer)

    refused(OutsideWindow, "order_no",
            lambda: claim_at(after, order, type="return_refund", reason_code="no_reason_7d"))


@pytest.mark.django_db
@pytest.mark.parametrize("ticket_type", ["return_refund", "exchange", "refund_only"])
@pytest.mark.parametrize("after", [dt.timedelta(days=8), dt.timedelta(days=15)], ids=["day_8", "day_15_exactly"])
def test_quality_problems_on_general_goods_can_be_claimed_for_15_days(after, ticket_type, buyer):
    order = delivered_order(buyer=buyer)

    ticket = claim_at(after, order, type=ticket_type, reason_code="quality_issue", photos=1)

    assert ticket.status == S.PENDING_REVIEW


@pytest.mark.django_db
@pytest.mark.parametrize("after", [dt.timedelta(days=15, seconds=1), dt.timedelta(days=16)],
                         ids=["one_second_late", "day_16"])
def test_quality_problems_on_general_goods_after_15_days_are_refused(after, buyer):
    order = delivered_order(buyer=buyer)

    refused(OutsideWindow, "order_no",
            lambda: claim_at(after, order, type="return_refund", reason_code="quality_issue", photos=1))


@pytest.mark.django_db
def test_an_edited_policy_moves_the_window(buyer):
    """Windows are policy rows an administrator edits (SPEC §6)."""
    from policies.models import Policy

    row = Policy.objects.get(key="fresh_claim_hours")
    row.value = 24
    row.save()
    order = delivered_order(("fresh", "5.00", 10, None), buyer=buyer)

    refused(OutsideWindow, "order_no", lambda: claim_at(
        dt.timedelta(hours=25), order, type="refund_only", reason_code="quality_issue", lines=[(0, 1)], photos=1))
    assert claim_at(dt.timedelta(hours=23), order, type="refund_only", reason_code="quality_issue",
                    lines=[(0, 1)], photos=1).status == S.PENDING_REVIEW


def set_policy(key: str, value) -> None:
    from policies.models import Policy

    row = Policy.objects.get(key=key)
    row.value = value
    row.save()


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "value", "line", "ticket_type", "reason_code", "after", "words"), [
    ("fresh_claim_hours", 24, ("fresh", "5.00", 10, None), "refund_only", "quality_issue",
     dt.timedelta(hours=25), "within 24 hours of delivery (until 2025-03-04 10:00)"),
    ("fresh_claim_hours", 1, ("fresh", "5.00", 10, None), "refund_only", "quality_issue",
     dt.timedelta(hours=2), "within 1 hour of delivery (until 2025-03-03 11:00)"),
    ("fresh_claim_hours", "36.5", ("fresh", "5.00", 10, None), "refund_only", "quality_issue",
     dt.timedelta(hours=37), "within 36.5 hours of delivery (until 2025-03-04 22:30)"),
    ("no_reason_days", 3, ("general", "10.00", 2, None), "return_refund", "no_reason_7d",
     dt.timedelta(days=4), "The 3-day no-reason return ended at 2025-03-06 10:00."),
    ("quality_days", 30, ("general", "10.00", 2, None), "return_refund", "quality_issue",
     dt.timedelta(days=31), "The 30-day after-sales window for these goods ended at 2025-04-02 10:00."),
])
def test_a_window_refusal_quotes_the_policy_as_it_now_stands(key, value, line, ticket_type, reason_code, after,
                                                             words, buyer):
    """An administrator changed the window: the refusal says the new length and when it ended, in local time
    to the minute (delivered at T0, 10:00 in Shanghai), not the defaults of SPEC §6."""
    set_policy(key, value)
    order = delivered_order(line, buyer=buyer)

    error = refused(OutsideWindow, "order_no", lambda: claim_at(
        after, order, type=ticket_type, reason_code=reason_code, lines=[(0, 1)], photos=1))

    assert words in error.detail
    assert "48 hours" not in error.detail and "7-day" not in error.detail


# ---------------------------------------------------------------------------------------------
# fresh produce: quality only, no refusal after shipment, photos


@pytest.mark.django_db
@pytest.mark.parametrize(("ticket_type", "reason_code"), [
    ("return_refund", "subjective"),     # taste / looks: a reason that is not offered for fresh produce
    ("refund_only", "changed_mind"),     # a buyer's reason offered for fresh, but not after delivery
    ("refund_only", "out_of_stock"),     # not a quality problem
])
def test_fresh_produce_is_claimed_for_quality_problems_only(ticket_type, reason_code, buyer):
    order = delivered_order(("fresh", "5.00", 10, None), buyer=buyer)

    refused(ReasonNotAllowed, "reason_id", lambda: claim_at(
        dt.timedelta(hours=2), order, type=ticket_type, reason_code=reason_code, lines=[(0, 2)], photos=1))


@pytest.mark.django_db
def test_fresh_produce_received_damaged_needs_photos(buyer):
    order = delivered_order(("fresh", "5.00", 10, None), buyer=buyer)

    refused(FieldRequired, "photo_ids", lambda: claim_at(
        dt.timedelta(hours=2), order, type="refund_only", reason_code="damaged_in_transit", lines=[(0, 2)],
        photos=0))


@pytest.mark.django_db
@pytest.mark.parametrize("reason_code", ["changed_mind", "late_delivery", "quality_issue"])
def test_fresh_produce_cannot_be_refused_after_shipment(reason_code, buyer):
    """Shipped, not delivered: no refund-only "refusal" for fresh produce [000]."""
    order = delivered_order(("fresh", "5.00", 10, None), buyer=buyer, status="shipped")

    refused(TypeNotAllowed, "type", lambda: claim_at(
        dt.timedelta(hours=2), order, type="refund_only", reason_code=reason_code, photos=1))


@pytest.mark.django_db
def test_general_goods_in_transit_can_still_be_refused_by_a_refund_only_claim(buyer):
    order = delivered_order(buyer=buyer, status="shipped")

    ticket = claim_at(dt.timedelta(hours=2), order, type="refund_only", reason_code="late_delivery")

    assert ticket.status == S.PENDING_REVIEW
    assert ticket.intercept_requested is False


# ---------------------------------------------------------------------------------------------
# unshipped orders


@pytest.mark.django_db
@pytest.mark.parametrize("ticket_type", ["return_refund", "exchange"])
def test_an_unshipped_order_allows_refund_only(ticket_type, buyer):
    order = delivered_order(buyer=buyer, status="unshipped")

    refused(TypeNotAllowed, "type", lambda: claim_at(
        dt.timedelta(hours=1), order, type=ticket_type, reason_code="quality_issue", photos=1))


@pytest.mark.django_db
def test_a_refund_only_claim_on_an_unshipped_order_is_accepted_and_approved_by_the_system(buyer):
    order = delivered_order(buyer=buyer, status="unshipped")

    ticket = claim_at(dt.timedelta(hours=1), order, type="refund_only", reason_code="changed_mind")

    assert ticket.status == S.AWAITING_REFUND
    assert ticket.intercept_requested is True
    assert list(ticket.events.values_list("transition", "actor_role")) == [
        ("submit", "buyer"), ("intercept_requested", "system"), ("auto_approve", "system")]


# ---------------------------------------------------------------------------------------------
# quantities


@pytest.mark.django_db
def test_quantities_never_exceed_what_was_bought_minus_what_was_claimed(buyer):
    order = delivered_order(("general", "5.00", 10, None), buyer=buyer)
    claim_at(dt.timedelta(days=1), order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 7)])

    error = refused(QuantityAboveClaimable, "lines.0.quantity", lambda: claim_at(
        dt.timedelta(days=1), order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 4)]))
    assert "3" in error.detail

    ticket = claim_at(dt.timedelta(days=1), order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 3)])
    assert ticket.lines.get().quantity == 3
    refused(QuantityAboveClaimable, "lines.0.quantity", lambda: claim_at(
        dt.timedelta(days=1), order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 1)]))


@pytest.mark.django_db
def test_the_refused_line_is_named_by_its_position_in_the_claim(buyer):
    order = delivered_order(("general", "5.00", 2, None), ("general", "8.00", 3, None), buyer=buyer)

    refused(QuantityAboveClaimable, "lines.1.quantity", lambda: claim_at(
        dt.timedelta(days=1), order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 1), (1, 4)]))


@pytest.mark.django_db
def test_units_of_a_cancelled_or_rejected_claim_can_be_claimed_again(buyer, ops_user):
    order = delivered_order(("general", "5.00", 10, None), buyer=buyer)
    first = claim_at(dt.timedelta(days=1), order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 6)])
    second = claim_at(dt.timedelta(days=1), order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 4)])

    services.cancel_ticket(ticket_id=first.pk, actor=buyer.user)
    services.reject_ticket(ticket_id=second.pk, actor=ops_user, reason="Used goods.")

    again = claim_at(dt.timedelta(days=1), order, type="return_refund", reason_code="no_reason_7d",
                     lines=[(0, 10)])
    assert again.lines.get().quantity == 10
    assert again.goods_amount == order.lines.get().paid_amount


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", [0, -1, True, "2", 2.0])
def test_a_quantity_that_is_not_a_positive_whole_number_is_refused(quantity, buyer):
    order = delivered_order(buyer=buyer)
    line_id = order.lines.get().line_id

    refused(FieldInvalid, "lines.0.quantity", lambda: services.submit_ticket(
        actor=buyer.user, order_no=order.order_no, type="return_refund", reason_id=reason("no_reason_7d").pk,
        lines=[{"order_line_id": line_id, "quantity": quantity}]))


@pytest.mark.django_db
def test_a_line_of_another_order_is_refused(buyer):
    order = delivered_order(buyer=buyer)
    other = delivered_order(buyer=buyer)

    refused(FieldInvalid, "lines.0.order_line_id", lambda: services.submit_ticket(
        actor=buyer.user, order_no=order.order_no, type="return_refund", reason_id=reason("no_reason_7d").pk,
        lines=[{"order_line_id": other.lines.get().line_id, "quantity": 1}]))


@pytest.mark.django_db
def test_another_buyers_order_is_not_found(buyer):
    order = delivered_order(buyer=buyer)
    stranger = BuyerFactory(account="mallory")

    refused(NotFound, "order_no", lambda: services.submit_ticket(
        actor=stranger.user, order_no=order.order_no, type="return_refund", reason_id=reason("no_reason_7d").pk,
        lines=[{"order_line_id": order.lines.get().line_id, "quantity": 1}]))


# ---------------------------------------------------------------------------------------------
# photos


@pytest.mark.django_db
def test_six_photos_are_accepted(buyer):
    order = delivered_order(buyer=buyer)
    photos = [make_upload(buyer.user).pk for _ in range(6)]

    ticket = claim_at(dt.timedelta(days=1), order, type="return_refund", reason_code="quality_issue", photos=photos)

    assert sorted(ticket.photos.values_list("pk", flat=True)) == sorted(photos)


@pytest.mark.django_db
def test_seven_photos_are_refused(buyer):
    order = delivered_order(buyer=buyer)
    photos = [make_upload(buyer.user).pk for _ in range(7)]

    refused(FieldInvalid, "photo_ids", lambda: claim_at(
        dt.timedelta(days=1), order, type="return_refund", reason_code="quality_issue", photos=photos))


@pytest.fixture
def exchange_reason_without_photos(db):
    """A shop-side quality reason that allows exchange and does not itself ask for photos."""
    return Reason.objects.create(code="faulty_switch", name="Switch does not work", group="product",
                                 is_quality_issue=True, responsible="shop",
                                 ticket_types=["return_refund", "exchange"], requires_photos=False)


@pytest.mark.django_db
def test_an_exchange_needs_photos(buyer, exchange_reason_without_photos):
    order = delivered_order(buyer=buyer)

    refused(FieldRequired, "photo_ids", lambda: claim_at(
        dt.timedelta(days=1), order, type="exchange", reason_code="faulty_switch", photos=0))
    # The same reason without photos is fine for a return: the exchange is what asks for them.
    assert claim_at(dt.timedelta(days=1), order, type="return_refund", reason_code="faulty_switch",
                    photos=0).status == S.PENDING_REVIEW


@pytest.mark.django_db
def test_a_photo_owned_by_another_user_is_refused(buyer):
    order = delivered_order(buyer=buyer)
    someone_elses = make_upload(BuyerFactory(account="mallory").user)

    refused(FieldInvalid, "photo_ids", lambda: claim_at(
        dt.timedelta(days=1), order, type="return_refund", reason_code="quality_issue", photos=[someone_elses.pk]))
    someone_elses.refresh_from_db()
    assert someone_elses.ticket_id is None


@pytest.mark.django_db
def test_a_photo_already_attached_to_a_claim_is_refused(buyer):
    order = delivered_order(buyer=buyer)
    photo = make_upload(buyer.user)
    first = claim_at(dt.timedelta(days=1), order, type="return_refund", reason_code="quality_issue",
                     lines=[(0, 1)], photos=[photo.pk])

    refused(FieldInvalid, "photo_ids", lambda: claim_at(
        dt.timedelta(days=1), order, type="return_refund", reason_code="quality_issue", lines=[(0, 1)],
        photos=[photo.pk]))
    photo.refresh_from_db()
    assert photo.ticket_id == first.pk


@pytest.mark.django_db
def test_the_same_photo_twice_in_one_claim_is_refused(buyer):
    order = delivered_order(buyer=buyer)
    photo = make_upload(buyer.user)

    refused(FieldInvalid, "photo_ids", lambda: claim_at(
        dt.timedelta(days=1), order, type="return_refund", reason_code="quality_issue", photos=[photo.pk, photo.pk]))


# ---------------------------------------------------------------------------------------------
# reasons


@pytest.mark.django_db
@pytest.mark.parametrize("change", [{"is_visible": False}, {"retired_at": T0}], ids=["hidden", "retired"])
def test_a_hidden_or_retired_reason_is_refused(change, buyer):
    order = delivered_order(buyer=buyer)
    assert claim_at(dt.timedelta(days=1), order, type="return_refund", reason_code="no_reason_7d",
                    lines=[(0, 1)]).status == S.PENDING_REVIEW
    row = Reason.objects.get(code="no_reason_7d")  # as the admin's change form saves it
    for field, value in change.items():
        setattr(row, field, value)
    row.save()

    refused(FieldInvalid, "reason_id", lambda: claim_at(
        dt.timedelta(days=1), order, type="return_refund", reason_code="no_reason_7d", lines=[(0, 1)]))


@pytest.mark.django_db
def test_a_reason_that_does_not_fit_the_ticket_type_is_refused(buyer):
    order = delivered_order(buyer=buyer)

    refused(ReasonNotAllowed, "reason_id", lambda: claim_at(
        dt.timedelta(days=1), order, type="refund_only", reason_code="no_reason_7d"))


@pytest.mark.django_db
def test_a_buyer_side_reason_cannot_get_a_refund_without_return_for_received_goods(buyer):
    order = delivered_order(buyer=buyer)

    refused(ReasonNotAllowed, "reason_id", lambda: claim_at(
        dt.timedelta(days=1), order, type="refund_only", reason_code="changed_mind"))


@pytest.mark.django_db
def test_an_exchange_for_size_is_possible_within_the_seven_day_window_only(buyer):
    fits = make_order(buyer=buyer, delivered_ago=dt.timedelta(days=6))
    ticket = submit(fits, type="exchange", reason_code="size_issue", photos=1)
    assert ticket.status == Ticket.Status.PENDING_REVIEW

    late = make_order(buyer=buyer, delivered_ago=dt.timedelta(days=8))
    with pytest.raises(OutsideWindow):
        submit(late, type="exchange", reason_code="size_issue", photos=1)


@pytest.mark.django_db
def test_a_boolean_is_not_a_reason_id(buyer):
    order = make_order(buyer=buyer)
    with pytest.raises(FieldInvalid) as error:
        services.submit_ticket(actor=buyer.user, order_no=order.order_no, type="return_refund", reason_id=True,
                               lines=[{"order_line_id": order.lines.get().line_id, "quantity": 1}])
    assert error.value.field == "reason_id"
    assert not Ticket.objects.exists()
