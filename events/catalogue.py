"""The event catalogue: every type a receiver may get, what each means, and which timeline rows write which.

One timeline row writes zero, one or two events: the fact itself (a decision, money, goods) and, where the
ticket entered a state the fact does not already name, that state (goods received and inspected, then
``ticket.awaiting_refund``; a refund paid, then ``ticket.completed``). Internal rows write nothing: notes,
assignments, escalations, retention attempts, the warehouse's hold on an outgoing parcel.

Final states (a ticket in one never changes again): rejected, cancelled, closed, completed. Their events
are ``ticket.rejected``, ``ticket.cancelled``, ``ticket.closed`` and ``ticket.completed``; a receiver may
forget a claim after one of them (docs/webhooks.md).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from tickets.models import EventKind, Ticket


@dataclass(frozen=True)
class EventType:
    code: str
    summary: object  # a lazy string: the admin shows it in the reader's language
    final: bool = False  # the ticket is in a final state after it


TYPES = {t.code: t for t in [
    EventType("ticket.submitted", _("the buyer submitted a claim")),
    EventType("ticket.approved", _("the shop accepted the claim: how it is settled, and where to send the goods back")),
    EventType("ticket.rejected", _("the shop rejected the claim, and why"), final=True),
    EventType("ticket.cancelled", _("the buyer withdrew the claim"), final=True),
    EventType("ticket.closed", _("the claim was closed (the goods were not sent back in time)"), final=True),
    EventType("ticket.in_review", _("the claim is back with the shop's reviewers")),
    EventType("ticket.awaiting_refund", _("the goods came back and passed: the refund is next")),
    EventType("ticket.completed", _("the claim is settled: refund paid or replacement received"), final=True),
    EventType("refund.approved", _("finance approved the refund: it is being paid")),
    EventType("refund.succeeded", _("the refund was paid: the amount and when it arrives at the latest")),
    EventType("refund.failed", _("the payment did not go through: the shop pays it again")),
    EventType("shipment.return_sent", _("the buyer sent the goods back: courier and tracking number")),
    EventType("shipment.inbound", _("the warehouse received the goods back and inspected them")),
    EventType("shipment.outbound", _("the warehouse shipped the replacement or the missing parts: courier and tracking")),
    EventType("deadline.warning", _("a deadline of the buyer's is less than a day away")),
]}
# Sent by the admin's "send a test event" button to one endpoint only; never in the outbox or the feed.
TEST_TYPE = "webhook.test"

# The fact a timeline row records, by kind.
FACTS = {
    EventKind.SUBMIT: "ticket.submitted",
    EventKind.APPROVE: "ticket.approved",
    EventKind.AUTO_APPROVE: "ticket.approved",
    EventKind.COMPENSATE: "ticket.approved",
    EventKind.RESHIP: "ticket.approved",
    EventKind.REJECT: "ticket.rejected",
    EventKind.CANCEL: "ticket.cancelled",
    EventKind.CLOSE: "ticket.closed",
    EventKind.FINANCE_APPROVE: "refund.approved",
    EventKind.REFUND_SUCCEEDED: "refund.succeeded",
    EventKind.REFUND_FAILED: "refund.failed",
    EventKind.RECORD_RETURN_SHIPMENT: "shipment.return_sent",
    EventKind.RECEIVE_GOODS: "shipment.inbound",
    EventKind.SHIP_REPLACEMENT: "shipment.outbound",
    EventKind.CONFIRM_RECEIPT: "ticket.completed",
    EventKind.AUTO_CONFIRM_RECEIPT: "ticket.completed",
}
# The state a row moved the ticket into, where no fact already says it. Approval lands in the state that
# waits for what comes next (the goods, the refund, the replacement): ``ticket.approved`` says which.
ENTERED = {
    Ticket.Status.PENDING_REVIEW: "ticket.in_review",
    Ticket.Status.AWAITING_REFUND: "ticket.awaiting_refund",
    Ticket.Status.COMPLETED: "ticket.completed",
    Ticket.Status.REJECTED: "ticket.rejected",
    Ticket.Status.CANCELLED: "ticket.cancelled",
    Ticket.Status.CLOSED: "ticket.closed",
}
DECISIONS = frozenset({EventKind.SUBMIT, EventKind.APPROVE, EventKind.AUTO_APPROVE, EventKind.COMPENSATE,
                       EventKind.RESHIP})


def types_for(kind: str, from_status: str, to_status: str) -> list[str]:
    """The event types a timeline row of ``kind`` writes, in order: its fact, then the state it entered."""
    types = [FACTS[kind]] if kind in FACTS else []
    if to_status != from_status and kind not in DECISIONS:
        entered = ENTERED.get(to_status)
        if entered and entered not in types:
            types.append(entered)
    return types


# Timeline kinds that write events but are no transition of the machine, with the moves they record: the
# claim itself (it starts the ticket: from nothing), the system's confirmation of receipt (the
# confirm_receipt move, made when the deadline passed) and a refund the gateway refused (no move: the ticket
# waits for finance again). The state graph lists them beside the machine's own.
OTHER_MOVES = {
    EventKind.SUBMIT: [(None, Ticket.Status.PENDING_REVIEW)],
    EventKind.AUTO_CONFIRM_RECEIPT: [(Ticket.Status.AWAITING_EXCHANGE, Ticket.Status.COMPLETED)],
    EventKind.REFUND_FAILED: [(Ticket.Status.AWAITING_REFUND, Ticket.Status.AWAITING_REFUND)],
}


def final_states() -> list[str]:
    return [str(status) for status in Ticket.FINAL]


def state_graph() -> dict:
    """The ticket's states and every move between them, read off the state machine itself (django-fsm), and
    the moves timeline rows record without a transition of their own (OTHER_MOVES), with the final states
    and which event types each move writes."""
    field = Ticket._meta.get_field("status")
    moves = []
    for transition in field.get_all_transitions(Ticket):
        targets = _targets(transition)
        for target in targets:
            moves.append({"transition": transition.name, "from": str(transition.source), "to": str(target),
                          "events": types_for(transition.name, transition.source, target)})
    for kind, pairs in OTHER_MOVES.items():
        for source, target in pairs:
            moves.append({"transition": str(kind), "from": str(source) if source else None, "to": str(target),
                          "events": types_for(kind, source or "", target)})
    moves.sort(key=lambda move: (move["from"] or "", move["transition"], move["to"]))
    return {
        "states": [{"code": code, "final": code in final_states()} for code, _label in Ticket.Status.choices],
        "initial": Ticket.Status.PENDING_REVIEW.value,
        "final": final_states(),
        "transitions": moves,
    }


def _targets(transition) -> list[str]:
    """The states a transition may end in: its target, or (a target the method returns) those it names."""
    target = transition.target
    if isinstance(target, str):
        return [target]
    allowed = getattr(target, "allowed_states", None) or []
    return list(allowed)
