"""The ticket state machine, pair by pair: every ticket type × every reachable state × every transition
service. Allowed pairs move the ticket and write their timeline event; every other pair raises
InvalidTransition and changes nothing (SPEC §4, §11).

The table of allowed moves below is written out by hand from SPEC §4 and the issue's transition
table; it is deliberately not derived from the model, so a change to the model's transitions that
the product did not ask for makes a test fail here."""

import contextlib
import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.forms.models import model_to_dict
from django.test import override_settings

from aftersales.errors import FieldRequired, InvalidTransition, NotAllowed, NotFound
from demo import journeys
from demo.journeys import advance
from refunds import services as refunds
from refunds.gateway import GatewayDeclined
from refunds.models import GatewayPayout, Refund
from tests.factories import BuyerFactory, make_order, submit
from tickets import services
from tickets.models import Note, ReturnShipment, Ticket, TimelineEvent
from warehouse import services as warehouse
from warehouse.models import Inbound, Intercept, Outbound, OutboundRequest

S = Ticket.Status
RO, RR, EX = Ticket.Type.REFUND_ONLY, Ticket.Type.RETURN_REFUND, Ticket.Type.EXCHANGE


class DecliningGateway:
    """A payment provider that refuses every refund (a closed card account)."""

    def refund(self, *, amount, idempotency_key, order_no):
        raise GatewayDeclined("The original payment account is closed.")


# ---------------------------------------------------------------------------------------------
# reaching states: journeys.advance to a status, then the extra journey steps that make the
# sub-states the guards care about (goods on their way back, a refund open, a replacement sent).


def _finance_requests_refund(ticket, staff):
    """Finance approves; the refund is recorded but has not run yet (its task runs after commit)."""
    refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])


def _finance_approves_refund_declined(ticket, staff):
    with override_settings(REFUND_GATEWAY=f"{__name__}.DecliningGateway"):
        journeys.finance_approve(ticket, staff)


def _finance_sends_back(ticket, staff):
    refunds.finance_reject_ticket(ticket_id=ticket.pk, actor=staff["finance"], reason="Amount looks wrong.")


# label: (status journeys.advance walks to, extra steps, the status the ticket is then in)
STATES = {
    "pending_review": (S.PENDING_REVIEW, [], S.PENDING_REVIEW),
    "pending_review_sent_back_by_finance": (S.AWAITING_REFUND, [_finance_sends_back], S.PENDING_REVIEW),
    "pending_review_goods_back_failed_inspection": (
        S.AWAITING_RETURN, [journeys.ship_back, journeys.receive_damaged], S.PENDING_REVIEW),
    # The parcel arrived although the buyer never entered a tracking number.
    "pending_review_goods_back_untracked": (S.AWAITING_RETURN, [journeys.receive_damaged], S.PENDING_REVIEW),
    "rejected": (S.REJECTED, [], S.REJECTED),
    "cancelled": (S.CANCELLED, [], S.CANCELLED),
    "awaiting_return": (S.AWAITING_RETURN, [], S.AWAITING_RETURN),
    "awaiting_return_goods_sent": (S.AWAITING_RETURN, [journeys.ship_back], S.AWAITING_RETURN),
    "awaiting_return_past_deadline": (S.AWAITING_RETURN, [], S.AWAITING_RETURN),
    "awaiting_return_goods_sent_past_deadline": (S.AWAITING_RETURN, [journeys.ship_back], S.AWAITING_RETURN),
    "closed": (S.CLOSED, [], S.CLOSED),
    "awaiting_refund": (S.AWAITING_REFUND, [], S.AWAITING_REFUND),
    "awaiting_refund_compensation": (S.PENDING_REVIEW, [journeys.compensate], S.AWAITING_REFUND),
    "awaiting_refund_refund_open": (S.AWAITING_REFUND, [_finance_requests_refund], S.AWAITING_REFUND),
    "awaiting_refund_refund_declined": (S.AWAITING_REFUND, [_finance_approves_refund_declined], S.AWAITING_REFUND),
    "awaiting_exchange": (S.AWAITING_EXCHANGE, [], S.AWAITING_EXCHANGE),
    "awaiting_exchange_replacement_sent": (S.AWAITING_EXCHANGE, [journeys.ship_replacement], S.AWAITING_EXCHANGE),
    "completed": (S.COMPLETED, [], S.COMPLETED),
    # Parts re-shipped instead of money, or beside compensation (the parts then go out on their own).
    "awaiting_exchange_reship": (S.PENDING_REVIEW, [journeys.reship], S.AWAITING_EXCHANGE),
    "awaiting_exchange_reship_sent": (S.PENDING_REVIEW, [journeys.reship, journeys.ship_replacement],
                                      S.AWAITING_EXCHANGE),
    "awaiting_refund_compensation_reship": (S.PENDING_REVIEW, [journeys.reship_with_compensation],
                                            S.AWAITING_REFUND),
    "awaiting_refund_compensation_reship_sent": (
        S.PENDING_REVIEW, [journeys.reship_with_compensation, journeys.ship_replacement], S.AWAITING_REFUND),
    # Refund only on an order not shipped yet, above the automatic approval: ops approved, the warehouse was
    # told to hold the shipment (warehouse.Intercept); then, perhaps, finance asked for the money.
    "awaiting_refund_before_shipment": (S.AWAITING_REFUND, [], S.AWAITING_REFUND),
    "awaiting_refund_before_shipment_refund_open": (S.AWAITING_REFUND, [_finance_requests_refund], S.AWAITING_REFUND),
}
BEFORE_SHIPMENT = {"awaiting_refund_before_shipment", "awaiting_refund_before_shipment_refund_open"}

# States whose transition is tried one second after the return deadline (the others: at once).
PAST_RETURN_DEADLINE = {"awaiting_return_past_deadline", "awaiting_return_goods_sent_past_deadline"}

TRANSITIONS = ["approve", "reject", "compensate", "cancel", "record_return_shipment", "record_inbound", "close",
               "finance_approve", "finance_reject", "record_outbound", "confirm_receipt", "reship", "intercept_too_late"]

# The expected machine, by hand. (type, state) -> {transition: status once it and its after-commit
# work (the refund) are done}. A pair not listed must be refused.
_PENDING = {"reject": S.REJECTED, "compensate": S.AWAITING_REFUND, "reship": S.AWAITING_EXCHANGE}
_FINANCE = {"finance_approve": S.COMPLETED, "finance_reject": S.PENDING_REVIEW}
EXPECTED = {
    # Ops decides a pending claim; the buyer may withdraw it while nothing was sent back.
    (RO, "pending_review"): {"approve": S.AWAITING_REFUND, "cancel": S.CANCELLED, **_PENDING},
    (RR, "pending_review"): {"approve": S.AWAITING_RETURN, "cancel": S.CANCELLED, **_PENDING},
    (EX, "pending_review"): {"approve": S.AWAITING_RETURN, "cancel": S.CANCELLED, **_PENDING},
    (RO, "pending_review_sent_back_by_finance"): {"approve": S.AWAITING_REFUND, "cancel": S.CANCELLED, **_PENDING},
    # Goods already in the warehouse: approval does not ask for them a second time; no withdrawal.
    (RR, "pending_review_sent_back_by_finance"): {"approve": S.AWAITING_REFUND, **_PENDING},
    (RR, "pending_review_goods_back_failed_inspection"): {"approve": S.AWAITING_REFUND, **_PENDING},
    (EX, "pending_review_goods_back_failed_inspection"): {"approve": S.AWAITING_EXCHANGE, **_PENDING},
    (RR, "pending_review_goods_back_untracked"): {"approve": S.AWAITING_REFUND, **_PENDING},
    (EX, "pending_review_goods_back_untracked"): {"approve": S.AWAITING_EXCHANGE, **_PENDING},
    # Final states accept nothing.
    **{(t, "rejected"): {} for t in (RO, RR, EX)},
    **{(t, "cancelled"): {} for t in (RO, RR, EX)},
    **{(t, "completed"): {} for t in (RO, RR, EX)},
    (RR, "closed"): {},
    (EX, "closed"): {},
    # Waiting for the goods: the buyer ships (or withdraws while nothing is on its way), the
    # warehouse receives; the system closes once the deadline passed with nothing sent, not before.
    (RR, "awaiting_return"): {"cancel": S.CANCELLED, "record_return_shipment": S.AWAITING_RETURN,
                              "record_inbound": S.AWAITING_REFUND},
    (EX, "awaiting_return"): {"cancel": S.CANCELLED, "record_return_shipment": S.AWAITING_RETURN,
                              "record_inbound": S.AWAITING_EXCHANGE},
    (RR, "awaiting_return_past_deadline"): {"cancel": S.CANCELLED, "record_return_shipment": S.AWAITING_RETURN,
                                            "record_inbound": S.AWAITING_REFUND, "close": S.CLOSED},
    (EX, "awaiting_return_past_deadline"): {"cancel": S.CANCELLED, "record_return_shipment": S.AWAITING_RETURN,
                                            "record_inbound": S.AWAITING_EXCHANGE, "close": S.CLOSED},
    (RR, "awaiting_return_goods_sent"): {"record_return_shipment": S.AWAITING_RETURN,
                                         "record_inbound": S.AWAITING_REFUND},
    (EX, "awaiting_return_goods_sent"): {"record_return_shipment": S.AWAITING_RETURN,
                                         "record_inbound": S.AWAITING_EXCHANGE},
    (RR, "awaiting_return_goods_sent_past_deadline"): {"record_return_shipment": S.AWAITING_RETURN,
                                                       "record_inbound": S.AWAITING_REFUND},
    (EX, "awaiting_return_goods_sent_past_deadline"): {"record_return_shipment": S.AWAITING_RETURN,
                                                       "record_inbound": S.AWAITING_EXCHANGE},
    # Finance approves (the refund runs, then the ticket completes) or sends back to ops, unless a
    # refund is already under way.
    (RO, "awaiting_refund"): _FINANCE,
    (RR, "awaiting_refund"): _FINANCE,
    (RO, "awaiting_refund_compensation"): _FINANCE,
    (RR, "awaiting_refund_compensation"): _FINANCE,
    (EX, "awaiting_refund_compensation"): _FINANCE,
    (RO, "awaiting_refund_refund_declined"): _FINANCE,
    (RR, "awaiting_refund_refund_declined"): _FINANCE,
    (RO, "awaiting_refund_refund_open"): {},
    (RR, "awaiting_refund_refund_open"): {},
    # Exchange: the warehouse sends the replacement once; the buyer then confirms receipt.
    (EX, "awaiting_exchange"): {"record_outbound": S.AWAITING_EXCHANGE},
    (EX, "awaiting_exchange_replacement_sent"): {"confirm_receipt": S.COMPLETED},
    # Re-shipped parts: the warehouse sends them once, the buyer confirms, as for an exchange. Beside
    # compensation, the parts go out (once) while finance pays.
    **{(t, "awaiting_exchange_reship"): {"record_outbound": S.AWAITING_EXCHANGE} for t in (RO, RR)},
    **{(t, "awaiting_exchange_reship_sent"): {"confirm_receipt": S.COMPLETED} for t in (RO, RR)},
    **{(t, "awaiting_refund_compensation_reship"): {"record_outbound": S.AWAITING_REFUND, **_FINANCE}
       for t in (RO, RR)},
    **{(t, "awaiting_refund_compensation_reship_sent"): _FINANCE for t in (RO, RR)},
    # The warehouse could not hold the shipment: unpaid, the ticket goes back to ops; with its refund on its
    # way, it stays (flagged for ops). Tickets nobody asked to hold refuse it.
    (RO, "awaiting_refund_before_shipment"): {**_FINANCE, "intercept_too_late": S.PENDING_REVIEW},
    (RO, "awaiting_refund_before_shipment_refund_open"): {"intercept_too_late": S.AWAITING_REFUND},
}

# What the timeline calls each move (the refund's own success follows a finance approval).
EVENTS = {"approve": ["approve"], "reject": ["reject"], "compensate": ["compensate"], "cancel": ["cancel"],
          "record_return_shipment": ["record_return_shipment"], "record_inbound": ["receive_goods"],
          "close": ["close"], "finance_approve": ["finance_approve", "refund_succeeded"],
          "finance_reject": ["finance_reject"], "record_outbound": ["ship_replacement"],
          "confirm_receipt": ["confirm_receipt"], "reship": ["reship"], "intercept_too_late": ["intercept_failed"]}


def _lines(ticket, **extra):
    return [{"order_line_id": tl.order_line.line_id, "quantity": tl.quantity, **extra}
            for tl in ticket.lines.select_related("order_line")]


def do(transition: str, ticket: Ticket, staff: dict, *, actor="default"):
    """Call the service for ``transition`` with valid arguments, as the role that does it."""
    buyer_user = ticket.buyer.user
    who = {"approve": staff["ops"], "reject": staff["ops"], "compensate": staff["ops"], "cancel": buyer_user,
           "record_return_shipment": buyer_user, "record_inbound": staff["warehouse"], "close": None,
           "finance_approve": staff["finance"], "finance_reject": staff["finance"],
           "record_outbound": staff["warehouse"], "confirm_receipt": buyer_user, "reship": staff["ops"],
           "intercept_too_late": staff["warehouse"]}[transition]
    actor = who if actor == "default" else actor
    pk = ticket.pk
    calls = {
        "approve": lambda: services.approve_ticket(ticket_id=pk, actor=actor),
        "reject": lambda: services.reject_ticket(ticket_id=pk, actor=actor, reason="No defect on the photos."),
        "compensate": lambda: services.compensate_ticket(ticket_id=pk, actor=actor, amount=Decimal("1.00"),
                                                         note="Light stain: compensation agreed."),
        "cancel": lambda: services.cancel_ticket(ticket_id=pk, actor=actor),
        "record_return_shipment": lambda: services.record_return_shipment(
            ticket_id=pk, actor=actor, courier="SF Express", tracking_no="SF0000000001"),
        "record_inbound": lambda: warehouse.record_inbound(ticket_id=pk, actor=actor,
                                                           lines=_lines(ticket, accepted=True), note="As described."),
        "close": lambda: services.close_ticket(ticket_id=pk, reason="Return deadline passed."),
        "finance_approve": lambda: refunds.finance_approve_ticket(ticket_id=pk, actor=actor),
        "finance_reject": lambda: refunds.finance_reject_ticket(ticket_id=pk, actor=actor, reason="Check fee."),
        "record_outbound": lambda: warehouse.record_outbound(ticket_id=pk, actor=actor, lines=_lines(ticket),
                                                             courier="SF Express", tracking_no="SFR000000001"),
        "confirm_receipt": lambda: services.confirm_receipt(ticket_id=pk, actor=actor),
        "reship": lambda: services.reship_ticket(ticket_id=pk, actor=actor, lines=_lines(ticket)[:1],
                                                 note="Missing part: sending it again."),
        "intercept_too_late": lambda: _intercept_too_late(pk, actor),
    }
    return calls[transition]()


def _intercept_too_late(ticket_id, actor):
    """The warehouse's "too late: already shipped"; a ticket nobody asked to hold has nothing to mark (the
    ticket's own door says so)."""
    intercept = Intercept.objects.filter(ticket_id=ticket_id).first()
    if intercept is None:
        return services.record_intercept_outcome(ticket_id=ticket_id, actor=actor, held=False, note="Shipped")
    return warehouse.record_intercept_result(intercept_id=intercept.pk, actor=actor, held=False, note="Shipped")


def reach(ticket_type: str, state: str, staff: dict, buyer) -> Ticket:
    status, steps, expected_status = STATES[state]
    order = (make_order(buyer=buyer, status="unshipped", lines=(("general", "900.00", 1, None),))
             if state in BEFORE_SHIPMENT else make_order(buyer=buyer))
    ticket = advance(submit(order, type=ticket_type, reason_code="changed_mind" if state in BEFORE_SHIPMENT
                            else "quality_issue"), status, staff=staff)
    for step in steps:
        step(ticket, staff)
        ticket.refresh_from_db()
    assert ticket.status == expected_status, f"could not reach {state}"
    return ticket


def at_the_moment_of(state: str, ticket: Ticket):
    """Where the state is "past the deadline", act one second after the ticket's return deadline."""
    if state in PAST_RETURN_DEADLINE:
        return time_machine.travel(ticket.return_deadline + dt.timedelta(seconds=1), tick=False)
    return contextlib.nullcontext()


def snapshot(ticket: Ticket) -> dict:
    """Everything a refused action must leave alone."""
    ticket = Ticket.objects.get(pk=ticket.pk)
    return {
        "ticket": model_to_dict(ticket),
        "updated_at": ticket.updated_at,
        "events": list(TimelineEvent.objects.filter(ticket=ticket).values_list("pk", flat=True)),
        "return_shipments": ReturnShipment.objects.filter(ticket=ticket).count(),
        "inbounds": Inbound.objects.filter(ticket=ticket).count(),
        "outbounds": Outbound.objects.filter(ticket=ticket).count(),
        "outbound_requests": list(OutboundRequest.objects.filter(ticket=ticket).values_list("pk", "status")),
        "intercepts": list(Intercept.objects.filter(ticket=ticket).values_list("pk", "status")),
        "refunds": list(Refund.objects.filter(ticket=ticket).values_list("pk", "status", "amount")),
        "notes": Note.objects.filter(ticket=ticket).count(),
        "payouts": GatewayPayout.objects.count(),
    }


CASES = [(t, state, transition) for (t, state) in EXPECTED for transition in TRANSITIONS]
ALLOWED = [c for c in CASES if c[2] in EXPECTED[c[:2]]]
REFUSED = [c for c in CASES if c[2] not in EXPECTED[c[:2]]]


def test_the_expected_table_covers_every_type_and_every_state_it_can_reach():
    """Every type appears with each of its states; the allowed list is not empty for any live state."""
    states_by_type = {t: {s for (tt, s) in EXPECTED if tt == t} for t in (RO, RR, EX)}
    assert states_by_type[RO] >= {"pending_review", "rejected", "cancelled", "awaiting_refund", "completed"}
    assert states_by_type[RR] >= {"pending_review", "rejected", "cancelled", "awaiting_return", "closed",
                                  "awaiting_refund", "completed"}
    assert states_by_type[EX] >= {"pending_review", "rejected", "cancelled", "awaiting_return", "closed",
                                  "awaiting_exchange", "completed"}


@pytest.mark.django_db
@pytest.mark.parametrize(("ticket_type", "state", "transition"), ALLOWED)
def test_allowed_transition_moves_the_ticket_and_writes_its_event(
        ticket_type, state, transition, staff, buyer, django_capture_on_commit_callbacks):
    ticket = reach(ticket_type, state, staff, buyer)
    before_status = ticket.status
    events_before = set(ticket.events.values_list("pk", flat=True))

    with at_the_moment_of(state, ticket), django_capture_on_commit_callbacks(execute=True):
        do(transition, ticket, staff)

    ticket.refresh_from_db()
    assert ticket.status == EXPECTED[(ticket_type, state)][transition]
    new_events = list(ticket.events.exclude(pk__in=events_before).order_by("at", "pk"))
    assert [e.transition for e in new_events] == EVENTS[transition]
    assert new_events[0].from_status == before_status
    assert new_events[-1].to_status == ticket.status
    if transition == "finance_approve":
        refund = ticket.refunds.get(status=Refund.Status.SUCCEEDED)
        assert refund.amount == ticket.refund_amount
        assert GatewayPayout.objects.get(idempotency_key=refund.uuid).amount == ticket.refund_amount


@pytest.mark.django_db
@pytest.mark.parametrize(("ticket_type", "state", "transition"), REFUSED)
def test_refused_transition_raises_and_changes_nothing(
        ticket_type, state, transition, staff, buyer, django_capture_on_commit_callbacks):
    ticket = reach(ticket_type, state, staff, buyer)
    before = snapshot(ticket)

    with at_the_moment_of(state, ticket), django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(InvalidTransition):
            do(transition, ticket, staff)

    assert snapshot(ticket) == before
    assert callbacks == []


# ---------------------------------------------------------------------------------------------
# roles and ownership: the right state, the wrong person


ROLE_CASES = [
    # (transition, state, who calls, error)
    ("approve", "pending_review", "buyer", NotAllowed),
    ("approve", "pending_review", "finance", NotAllowed),
    ("approve", "pending_review", "warehouse", NotAllowed),
    ("reject", "pending_review", "finance", NotAllowed),
    ("reject", "pending_review", "buyer", NotAllowed),
    ("compensate", "pending_review", "warehouse", NotAllowed),
    ("compensate", "pending_review", "buyer", NotAllowed),
    ("reship", "pending_review", "warehouse", NotAllowed),
    ("reship", "pending_review", "finance", NotAllowed),
    ("finance_approve", "awaiting_refund", "ops", NotAllowed),
    ("finance_approve", "awaiting_refund", "buyer", NotAllowed),
    ("finance_reject", "awaiting_refund", "ops", NotAllowed),
    ("record_inbound", "awaiting_return_goods_sent", "ops", NotAllowed),
    ("record_inbound", "awaiting_return_goods_sent", "buyer", NotAllowed),
    ("record_outbound", "awaiting_exchange", "finance", NotAllowed),
    ("record_outbound", "awaiting_exchange", "buyer", NotAllowed),
    ("intercept_too_late", "awaiting_refund_before_shipment", "ops", NotAllowed),
    ("intercept_too_late", "awaiting_refund_before_shipment", "finance", NotAllowed),
    ("cancel", "pending_review", "other_buyer", NotFound),
    ("cancel", "pending_review", "ops", NotFound),
    ("record_return_shipment", "awaiting_return", "other_buyer", NotFound),
    ("confirm_receipt", "awaiting_exchange_replacement_sent", "other_buyer", NotFound),
]


def _type_for(state: str) -> str:
    return EX if "exchange" in state else (RR if "return" in state else RO)


@pytest.mark.django_db
@pytest.mark.parametrize(("transition", "state", "who", "error"), ROLE_CASES)
def test_the_wrong_person_is_refused_and_nothing_changes(transition, state, who, error, staff, buyer):
    ticket = reach(_type_for(state), state, staff, buyer)
    assert transition in EXPECTED[(ticket.type, state)]  # the move itself is legal here
    actors = {"buyer": ticket.buyer.user, "other_buyer": BuyerFactory(account="mallory").user, **staff}
    before = snapshot(ticket)

    with pytest.raises(error):
        do(transition, ticket, staff, actor=actors[who])

    assert snapshot(ticket) == before


@pytest.mark.django_db
def test_another_buyers_ticket_is_not_found_even_in_a_final_state(staff, buyer):
    """Ownership is checked before the state: a stranger learns nothing about the ticket."""
    ticket = reach(RO, "rejected", staff, buyer)
    stranger = BuyerFactory(account="mallory").user

    with pytest.raises(NotFound):
        services.cancel_ticket(ticket_id=ticket.pk, actor=stranger)


@pytest.mark.django_db
def test_reject_and_finance_reject_need_a_reason_and_change_nothing_without_one(staff, buyer):
    pending = reach(RR, "pending_review", staff, buyer)
    awaiting_refund = reach(RR, "awaiting_refund", staff, buyer)
    before = (snapshot(pending), snapshot(awaiting_refund))

    with pytest.raises(FieldRequired) as ops_error:
        services.reject_ticket(ticket_id=pending.pk, actor=staff["ops"], reason="   ")
    with pytest.raises(FieldRequired) as finance_error:
        refunds.finance_reject_ticket(ticket_id=awaiting_refund.pk, actor=staff["finance"], reason="")

    assert ops_error.value.field == finance_error.value.field == "reason"
    assert (snapshot(pending), snapshot(awaiting_refund)) == before


@pytest.mark.django_db
def test_rejection_reason_is_stored_and_shown_to_the_buyer_in_the_timeline(staff, buyer):
    ticket = reach(RR, "pending_review", staff, buyer)

    services.reject_ticket(ticket_id=ticket.pk, actor=staff["ops"], reason="Photos show normal wear.")

    ticket.refresh_from_db()
    assert ticket.rejection_reason == "Photos show normal wear."
    assert ticket.reviewer == staff["ops"]
    event = ticket.events.get(transition="reject")
    assert (event.from_status, event.to_status, event.actor, event.actor_role) == (
        S.PENDING_REVIEW, S.REJECTED, staff["ops"], "ops")
    assert event.reason == "Photos show normal wear."
    assert event.buyer_visible is True


@pytest.mark.django_db
def test_finance_sending_back_returns_the_ticket_to_ops_who_can_approve_again(staff, buyer):
    ticket = reach(RO, "awaiting_refund", staff, buyer)

    refunds.finance_reject_ticket(ticket_id=ticket.pk, actor=staff["finance"], reason="Fee not explained.")
    ticket.refresh_from_db()
    assert ticket.status == S.PENDING_REVIEW
    assert ticket.finance_rejection_reason == "Fee not explained."
    assert ticket.events.get(transition="finance_reject").buyer_visible is False

    services.approve_ticket(ticket_id=ticket.pk, actor=staff["ops"])
    ticket.refresh_from_db()
    assert ticket.status == S.AWAITING_REFUND
    assert ticket.finance_rejection_reason == ""
    assert list(ticket.events.values_list("transition", flat=True)) == [
        "submit", "approve", "finance_reject", "approve"]


@pytest.mark.django_db
def test_a_declined_refund_keeps_the_ticket_awaiting_refund_and_finance_can_approve_again(
        staff, buyer, django_capture_on_commit_callbacks):
    ticket = reach(RO, "awaiting_refund_refund_declined", staff, buyer)
    assert ticket.refunds.get().status == Refund.Status.FAILED
    assert ticket.events.filter(transition="refund_failed").count() == 1
    assert GatewayPayout.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        refunds.finance_approve_ticket(ticket_id=ticket.pk, actor=staff["finance"])

    ticket.refresh_from_db()
    assert ticket.status == S.COMPLETED
    assert sorted(ticket.refunds.values_list("status", flat=True)) == ["failed", "succeeded"]
    assert GatewayPayout.objects.get().amount == ticket.refund_amount == Decimal("20.00")


@pytest.mark.django_db
def test_the_system_closes_as_the_system_and_the_buyer_acts_as_the_buyer(staff, buyer):
    closed = reach(RR, "closed", staff, buyer)
    cancelled = reach(EX, "cancelled", staff, buyer)

    close_event = closed.events.get(transition="close")
    cancel_event = cancelled.events.get(transition="cancel")
    assert (close_event.actor, close_event.actor_role) == (None, "system")
    assert (cancel_event.actor, cancel_event.actor_role) == (buyer.user, "buyer")
    assert closed.finished_at is not None and cancelled.finished_at is not None


@pytest.mark.django_db
def test_the_system_confirms_receipt_of_a_replacement_only_after_the_confirmation_deadline(staff, buyer):
    ticket = reach(EX, "awaiting_exchange_replacement_sent", staff, buyer)
    before = snapshot(ticket)

    with time_machine.travel(ticket.confirm_deadline, tick=False), pytest.raises(InvalidTransition):
        services.confirm_receipt(ticket_id=ticket.pk)
    assert snapshot(ticket) == before

    with time_machine.travel(ticket.confirm_deadline + dt.timedelta(seconds=1), tick=False):
        services.confirm_receipt(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    assert ticket.status == S.COMPLETED
    event = ticket.events.get(transition="auto_confirm_receipt")
    assert (event.actor, event.actor_role, event.from_status) == (None, "system", S.AWAITING_EXCHANGE)


@pytest.mark.django_db
def test_the_system_closes_only_after_the_return_deadline(staff, buyer):
    ticket = reach(RR, "awaiting_return", staff, buyer)
    before = snapshot(ticket)

    with time_machine.travel(ticket.return_deadline, tick=False), pytest.raises(InvalidTransition):
        services.close_ticket(ticket_id=ticket.pk, reason="Return deadline passed.")
    assert snapshot(ticket) == before

    with time_machine.travel(ticket.return_deadline + dt.timedelta(seconds=1), tick=False):
        services.close_ticket(ticket_id=ticket.pk, reason="Return deadline passed.")
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED
    assert ticket.finished_at == ticket.return_deadline + dt.timedelta(seconds=1)
