"""The timeline in words, as the review page shows it: who, when, from → to, why, what changed."""

from decimal import Decimal

import pytest

from demo import journeys
from tests.factories import make_order, submit
from tickets import presenters, services

pytestmark = pytest.mark.django_db


def test_an_approval_reads_as_who_did_what_from_where_to_where_and_the_amounts(staff, buyer):
    ticket = submit(make_order(buyer=buyer, lines=(("general", "120.00", 1, None),)), type="refund_only",
                    reason_code="missing_parts", photos=1)
    services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"], refund_amount=Decimal("100.00"),
                            fee_reason="Restocking fee agreed")

    rows = presenters.timeline(ticket.events.order_by("at", "pk"))

    submitted, approved = rows
    assert (submitted.who, submitted.what, submitted.moved) == ("alice (buyer)", "submitted", "")
    assert ("goods", f"{ticket.order.lines.get().line_id} × 1 = 120.00") in submitted.changes
    assert (approved.who, approved.what) == ("ops1 (ops)", "approved")
    assert approved.moved == "pending review → awaiting refund"
    assert approved.why == "Restocking fee agreed"
    assert ("refund", "120.00 → 100.00") in approved.changes
    assert ("service fee", "0.00 → 20.00") in approved.changes


def test_an_inspection_reads_as_accepted_or_rejected_per_line_and_is_internal_when_it_is(staff, buyer):
    ticket = journeys.advance(submit(make_order(buyer=buyer)), "awaiting_return", staff=staff)
    journeys.receive_damaged(ticket, staff)
    services.add_note(ticket_id=ticket.pk, actor=staff["ops"], text="Called the buyer.")

    received, note = presenters.timeline(ticket.events.filter(transition__in=["receive_goods", "note"]).order_by("pk"))

    assert received.what == "goods received and inspected"
    assert received.moved == "awaiting return → pending review"
    assert ("inspection", f"{ticket.order.lines.get().line_id} × 2 rejected (used: Scratched)") in received.changes
    assert ("refund", "20.00 → 0.00") in received.changes  # recomputed for what passed: nothing
    assert (note.what, note.internal, note.why) == ("note added", True, "Called the buyer.")
