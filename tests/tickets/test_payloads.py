"""What a timeline row records, read typed (tickets.payloads; issue #20): what the services write reads back
through the event's accessors (amounts as Decimal), an event of another kind answers None or empty, and rows
written in the older shapes still read."""

from decimal import Decimal

import pytest

from demo import journeys
from tests.api_helpers import pending
from tests.factories import make_order, submit
from tickets import payloads, services
from tickets.due import DueKind
from tickets.models import EventKind, Ticket, TimelineEvent

S = Ticket.Status


def event_with(changes) -> TimelineEvent:
    return TimelineEvent(transition=EventKind.NOTE, changes=changes)


def test_each_writer_reads_back_as_it_was_written():
    parts = (payloads.ReshipPart("L-1", 2), payloads.ReshipPart("L-2", 1))
    lines = (payloads.LineInspection("L-1", 2, True), payloads.LineInspection("L-2", 1, False, "used", "Scratched"))
    event = event_with({**payloads.reship(parts), **payloads.inspection(lines), **payloads.photos([7, 9]),
                        **payloads.refund_amount(Decimal("102.00"), Decimal("60.00")),
                        **payloads.due_for(DueKind.REFUND)})

    assert event.reship_parts == parts
    assert event.inspection == lines
    assert event.inspection_photo_ids == (7, 9)
    assert event.refund_amount_change == payloads.AmountChange(old=Decimal("102.00"), new=Decimal("60.00"))
    assert event.due_for is DueKind.REFUND


def test_the_stored_shape_stays_field_old_new():
    """The API shows `changes` as it is, and rows already stored have this shape: the writers keep it."""
    assert payloads.refund_amount(None, Decimal("10.00")) == {"refund_amount": [None, "10.00"]}
    assert payloads.reship([payloads.ReshipPart("L-1", 2)]) == {"reship": [None, [["L-1", 2]]]}
    assert payloads.inspection([payloads.LineInspection("L-1", 1, False, "used", "")]) == {
        "inspection": [None, [["L-1", 1, False, "used", ""]]]}
    assert payloads.due_for(DueKind.REVIEW) == {"due_for": [None, "review"]}


def test_an_event_without_the_field_answers_none_or_empty():
    event = event_with({"courier": [None, "SF Express"]})

    assert (event.reship_parts, event.inspection, event.inspection_photo_ids) == ((), (), ())
    assert (event.refund_amount_change, event.due_for) == (None, None)
    assert event_with({}).due_for is None and event_with(None).reship_parts == ()


def test_rows_in_older_shapes_still_read():
    # An inspection row of three columns (no reason, no note), a bare amount, "None" for no old amount,
    # a due time of a kind no longer known.
    event = event_with({"inspection": [None, [["L-1", 2, True]]], "refund_amount": "15.00", "due_for": [None, "gone"]})
    assert event.inspection == (payloads.LineInspection("L-1", 2, True, "", ""),)
    assert event.refund_amount_change == payloads.AmountChange(old=None, new=Decimal("15.00"))
    assert event.due_for is None
    assert event_with({"refund_amount": ["None", "1.50"]}).refund_amount_change.old is None


@pytest.mark.django_db
def test_a_stored_row_of_the_old_shape_reads_from_the_database(buyer):
    ticket = pending(buyer)
    TimelineEvent.objects.create(ticket=ticket, actor_role="system", at=ticket.created_at, transition=EventKind.RESHIP,
                                 from_status=S.PENDING_REVIEW, to_status=S.AWAITING_EXCHANGE,
                                 changes={"reship": [None, [["L-9", 3]]], "refund_amount": ["20.00", "0.00"]})

    event = TimelineEvent.objects.get(ticket=ticket, transition=EventKind.RESHIP)

    assert event.reship_parts == (payloads.ReshipPart("L-9", 3),)
    assert event.refund_amount_change.new == Decimal("0.00")


@pytest.mark.django_db
def test_what_the_services_record_reads_typed(buyer, staff):
    ticket = pending(buyer, lines=(("general", "218.00", 1, None), ("general", "20.00", 3, None)))
    line = ticket.lines.select_related("order_line").order_by("pk")[1].order_line
    services.reship_ticket(ticket_id=ticket.pk, actor=staff["ops"], lines=[{"order_line_id": line.line_id,
                                                                           "quantity": 2}])
    submitted, reshipped = ticket.events.get(transition="submit"), ticket.events.get(transition="reship")

    assert reshipped.reship_parts == (payloads.ReshipPart(line.line_id, 2),)
    assert reshipped.refund_amount_change == payloads.AmountChange(old=Decimal("278.00"), new=Decimal("0.00"))
    assert submitted.refund_amount_change == payloads.AmountChange(old=None, new=Decimal("278.00"))
    assert (submitted.reship_parts, submitted.inspection, submitted.due_for) == ((), (), None)


@pytest.mark.django_db
def test_an_inspection_and_an_escalation_read_typed(buyer, staff):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), S.AWAITING_RETURN, staff=staff)
    journeys.receive_damaged(ticket, staff)
    services.escalate_ticket(ticket_id=ticket.pk, due_for=DueKind.REVIEW)
    received = ticket.events.get(transition="receive_goods")
    escalated = ticket.events.get(transition="escalate")

    line_id = ticket.order.lines.get().line_id
    assert received.inspection == (payloads.LineInspection(line_id, 2, False, "used", "Scratched"),)
    assert received.refund_amount_change == payloads.AmountChange(old=Decimal("20.00"), new=Decimal("0.00"))
    assert received.due_for is None
    assert escalated.due_for is DueKind.REVIEW
    assert (escalated.inspection, escalated.refund_amount_change) == ((), None)
