"""Each mapping of events.catalogue.types_for, on the real flows: tickets driven through the services (and,
for money and goods, the refunds and warehouse services), and the events the outbox wrote, in order, with
what each says. No event carries a staff member's name or an internal note."""

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from aftersales import clock
from demo import journeys
from events.models import Event
from events.outbox import record_deadline_warnings
from policies import services as policies
from refunds import services as refunds
from refunds.models import Refund
from tests.factories import make_order, submit
from tests.refunds.conftest import ScriptedGateway
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
S = Ticket.Status
STAFF_NAMES = ("ops1", "finance1", "warehouse1")
INTERNAL = "INTERNAL-ONLY"  # every internal note and staff-only reason below carries it


def events_of(ticket: Ticket) -> list[Event]:
    return list(Event.objects.filter(ticket=ticket).order_by("id"))


def types_of(ticket: Ticket) -> list[str]:
    return [e.type for e in events_of(ticket)]


def assert_nothing_internal(ticket: Ticket) -> None:
    written = json.dumps([e.data for e in events_of(ticket)], ensure_ascii=False)
    for name in STAFF_NAMES:
        assert f'"{name}"' not in written and f" {name}" not in written, name
    assert INTERNAL not in written


def lines_of(ticket: Ticket, **extra) -> list[dict]:
    return [{"order_line_id": tl.order_line.line_id, "quantity": tl.quantity, **extra}
            for tl in ticket.lines.select_related("order_line")]


def note(ticket: Ticket, staff) -> None:
    services.add_note(ticket_id=ticket.pk, actor=staff["ops"], text=f"{INTERNAL}: the buyer called twice")


def pay(ticket: Ticket, staff) -> None:
    refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])
    execute(ticket)


def execute(ticket: Ticket) -> None:
    from refunds.execution import execute_refund

    execute_refund(refund_id=Refund.objects.live().get(ticket=ticket).pk)


def receive(ticket: Ticket, staff, *, accepted=True) -> None:
    from warehouse import services as warehouse

    extra = {"accepted": True} if accepted else {"accepted": False, "reject_reason": "used",
                                                 "note": f"{INTERNAL}: scratched"}
    warehouse.record_inbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=lines_of(ticket, **extra),
                             note=f"{INTERNAL}: box opened at the desk")


def ship_out(ticket: Ticket, staff, *, lines=None) -> None:
    from warehouse import services as warehouse

    warehouse.record_outbound(ticket_id=ticket.pk, actor=staff["warehouse"], lines=lines or lines_of(ticket),
                              courier="SF Express", tracking_no="SFR000000001")


def sweep(at: dt.datetime) -> None:
    call_command("run_deadlines", "--now", at.isoformat(), stdout=StringIO())


def test_a_return_from_claim_to_refund_paid(buyer, staff):
    ticket = submit(make_order(buyer=buyer, lines=(("general", "59.90", 1, None),)), type="return_refund")
    note(ticket, staff)
    journeys.approve(ticket, staff)
    services.record_return_shipment(ticket_id=ticket.pk, actor=buyer.user, courier="SF Express",
                                    tracking_no="SF1234567890")
    receive(ticket, staff)
    pay(ticket, staff)

    assert types_of(ticket) == ["ticket.submitted", "ticket.approved", "shipment.return_sent", "shipment.inbound",
                                "ticket.awaiting_refund", "refund.approved", "refund.succeeded", "ticket.completed"]
    submitted, approved, sent, inbound, awaiting, refund_approved, paid, completed = events_of(ticket)
    assert submitted.data["ticket"]["status"] == "pending_review"
    assert approved.data["settlement"] == "return"
    assert approved.data["return_address"] == {"address": "Returns desk, 1 Depot Road", "contact": "Returns team",
                                               "phone": "400-000-0000"}
    assert approved.data["return_deadline"] is not None and approved.data["refund_amount"] == "59.90"
    assert approved.data["ticket"]["status"] == "awaiting_return"
    assert (sent.data["courier"], sent.data["tracking_no"]) == ("SF Express", "SF1234567890")
    [line] = inbound.data["lines"]
    assert (line["units"], line["accepted"], line["reject_reason"]) == (1, True, "")
    assert awaiting.data["ticket"]["status"] == "awaiting_refund"
    assert refund_approved.data["amount"] == "59.90"
    assert paid.data["amount"] == "59.90"
    paid_at = dt.datetime.fromisoformat(paid.data["paid_at"])
    days = policies.current().count("refund_arrival_business_days")
    assert dt.datetime.fromisoformat(paid.data["expected_by"]) == clock.add_business_days(paid_at, days)
    assert completed.data["ticket"]["status"] == "completed"
    assert_nothing_internal(ticket)


def test_refund_only_on_an_unshipped_order_is_approved_by_the_system_and_paid(buyer, staff):
    ticket = submit(make_order(buyer=buyer, status="unshipped", lines=(("general", "20.00", 1, None),)),
                    type="refund_only", reason_code="changed_mind")
    execute(ticket)  # on commit in production; run here, as the demo does

    assert types_of(ticket) == ["ticket.submitted", "ticket.approved", "refund.succeeded", "ticket.completed"]
    approved = events_of(ticket)[1]
    assert approved.data["settlement"] == "refund"
    assert approved.data["return_address"] is None and approved.data["return_deadline"] is None
    assert approved.data["refund_amount"] == "20.00"
    assert_nothing_internal(ticket)


def test_an_exchange_through_the_replacement_to_the_buyers_confirmation(buyer, staff):
    ticket = submit(make_order(buyer=buyer), type="exchange")
    journeys.approve(ticket, staff)
    journeys.ship_back(ticket, staff)
    receive(ticket, staff)
    ship_out(ticket, staff)
    services.confirm_receipt(ticket_id=ticket.pk, actor=buyer.user)

    assert types_of(ticket) == ["ticket.submitted", "ticket.approved", "shipment.return_sent", "shipment.inbound",
                                "shipment.outbound", "ticket.completed"]
    events = events_of(ticket)
    assert events[1].data["settlement"] == "exchange" and events[1].data["return_address"] is not None
    assert events[3].data["ticket"]["status"] == "awaiting_exchange"
    outbound = events[4].data
    assert (outbound["courier"], outbound["tracking_no"], outbound["parts_only"]) == ("SF Express", "SFR000000001", False)
    assert_nothing_internal(ticket)


def test_the_system_confirms_receipt_after_the_deadline_and_that_completes_the_exchange(buyer, staff):
    ticket = submit(make_order(buyer=buyer), type="exchange")
    for step in (journeys.approve, journeys.ship_back, journeys.receive, journeys.ship_replacement):
        step(ticket, staff)
    ticket.refresh_from_db()

    sweep(ticket.confirm_deadline + dt.timedelta(seconds=1))

    assert types_of(ticket)[-2:] == ["shipment.outbound", "ticket.completed"]
    assert Ticket.objects.get(pk=ticket.pk).status == S.COMPLETED


def test_a_rejection_says_why_and_is_final(buyer, staff):
    ticket = submit(make_order(buyer=buyer))
    note(ticket, staff)
    services.reject_ticket(ticket_id=ticket.pk, actor=staff["ops"], reason="Photos show no defect.")

    assert types_of(ticket) == ["ticket.submitted", "ticket.rejected"]
    assert events_of(ticket)[1].data["rejection_reason"] == "Photos show no defect."
    assert_nothing_internal(ticket)


def test_the_buyer_withdraws_before_and_after_approval(buyer, staff):
    order = make_order(buyer=buyer, lines=(("general", "10.00", 1, None), ("general", "10.00", 1, None)))
    pending, approved = submit(order, lines=[(0, 1)]), submit(order, lines=[(1, 1)])
    journeys.approve(approved, staff)

    services.cancel_ticket(ticket_id=pending.pk, actor=buyer.user)
    services.cancel_ticket(ticket_id=approved.pk, actor=buyer.user)

    assert types_of(pending) == ["ticket.submitted", "ticket.cancelled"]
    assert types_of(approved) == ["ticket.submitted", "ticket.approved", "ticket.cancelled"]
    assert events_of(approved)[-1].data["ticket"]["status"] == "cancelled"


def test_the_deadline_sweep_closes_a_return_never_sent_back(buyer, staff):
    ticket = submit(make_order(buyer=buyer), type="return_refund")
    journeys.approve(ticket, staff)
    ticket.refresh_from_db()

    sweep(ticket.return_deadline + dt.timedelta(seconds=1))

    assert types_of(ticket) == ["ticket.submitted", "ticket.approved", "ticket.closed"]
    closed = events_of(ticket)[-1]
    assert closed.data["ticket"]["status"] == "closed" and isinstance(closed.data["reason"], str)
    assert_nothing_internal(ticket)


def test_goods_that_fail_inspection_go_back_to_review(buyer, staff):
    ticket = submit(make_order(buyer=buyer), type="return_refund")
    for step in (journeys.approve, journeys.ship_back):
        step(ticket, staff)
    receive(ticket, staff, accepted=False)

    assert types_of(ticket)[-2:] == ["shipment.inbound", "ticket.in_review"]
    [line] = events_of(ticket)[-2].data["lines"]
    assert (line["accepted"], line["reject_reason"]) == (False, "used")
    assert "note" not in line
    assert_nothing_internal(ticket)


def test_finance_sends_back_and_a_refused_payment_writes_refund_failed(buyer, staff, settings):
    settings.REFUND_GATEWAY = "tests.refunds.conftest.ScriptedGateway"
    ScriptedGateway.script, ScriptedGateway.calls, ScriptedGateway.status_errors = ["decline"], [], 0
    order = make_order(buyer=buyer, lines=(("general", "30.00", 1, None), ("general", "12.00", 1, None)))
    sent_back = journeys.advance(submit(order, type="refund_only", lines=[(0, 1)]), S.AWAITING_REFUND, staff=staff)
    declined = journeys.advance(submit(order, type="refund_only", lines=[(1, 1)]), S.AWAITING_REFUND, staff=staff)

    refunds.finance_reject_ticket(ticket_id=sent_back.pk, actor=staff["finance"], reason=f"{INTERNAL}: check the fee")
    try:
        pay(declined, staff)
    finally:
        ScriptedGateway.script = []

    assert types_of(sent_back) == ["ticket.submitted", "ticket.approved", "ticket.in_review"]
    assert types_of(declined) == ["ticket.submitted", "ticket.approved", "refund.approved", "refund.failed"]
    assert events_of(declined)[-1].data["amount"] == "12.00"
    assert Ticket.objects.get(pk=declined.pk).status == S.AWAITING_REFUND  # the shop pays it again
    assert_nothing_internal(sent_back)
    assert_nothing_internal(declined)


def test_compensation_and_reshipped_parts_are_approvals_that_say_how_they_settle(buyer, staff):
    order = make_order(buyer=buyer, lines=(("general", "40.00", 2, None), ("general", "25.00", 1, None)))
    compensated = submit(order, lines=[(0, 1)])
    reshipped = submit(order, lines=[(1, 1)])

    services.compensate_ticket(ticket_id=compensated.pk, actor=staff["ops"], amount=Decimal("5.00"),
                               note="Small stain: compensation agreed with the buyer.")
    journeys.reship(reshipped, staff)
    ship_out(reshipped, staff, lines=[{**lines_of(reshipped)[0], "quantity": 1}])

    assert types_of(compensated) == ["ticket.submitted", "ticket.approved"]
    approved = events_of(compensated)[1].data
    assert (approved["settlement"], approved["refund_amount"], approved["return_address"]) == ("compensation", "5.00", None)
    assert types_of(reshipped) == ["ticket.submitted", "ticket.approved", "shipment.outbound"]
    assert events_of(reshipped)[1].data["settlement"] == "reship"
    assert events_of(reshipped)[2].data["parts_only"] is True
    assert_nothing_internal(reshipped)


def test_a_deadline_warning_once_per_deadline_however_often_the_sweep_runs(buyer, staff):
    ticket = submit(make_order(buyer=buyer), type="return_refund")
    journeys.approve(ticket, staff)
    ticket.refresh_from_db()
    now = ticket.return_deadline - dt.timedelta(hours=3)

    assert record_deadline_warnings(now=now - dt.timedelta(days=2), within=dt.timedelta(hours=24)) == 0
    assert record_deadline_warnings(now=now, within=dt.timedelta(hours=24)) == 1
    assert record_deadline_warnings(now=now + dt.timedelta(hours=1), within=dt.timedelta(hours=24)) == 0

    warning = events_of(ticket)[-1]
    assert warning.type == "deadline.warning"
    assert warning.data["deadline"] == "return"
    assert dt.datetime.fromisoformat(warning.data["due_at"]) == ticket.return_deadline
