"""Ticket services: one function per business action, each the one door for its change.

Every service runs in one transaction, locks the ticket's order and then the ticket (the house's lock
order on money: order, then ticket, then refund), checks its guard and who may act (`duties`: claimant,
reviewer and payer are three people), moves the state machine (`tickets.machine`, private to tickets)
and writes a timeline event.

- `intake`: a buyer's claim (`submit_ticket`);
- `review`: ops decisions and staff notes;
- `buyer`: what the buyer does after submitting;
- `system`: what deadlines do;
- `doors`: what refunds and warehouse tell a ticket (money moved, goods arrived or left);
- `amounts`: what a claim is worth (reads);
- `duties`: separation of duties, the one rule.

Parts downstream learn what happened to a ticket through `subscribe` (docs/design.md).
"""

from tickets.machine import subscribe
from tickets.services.amounts import compensation_cap, extras_available, line_amounts
from tickets.services.buyer import cancel_ticket, confirm_receipt, record_return_shipment
from tickets.services.doors import (
    Dispatch,
    GoodsLine,
    GoodsReceipt,
    check_finance_approval,
    hold_ticket,
    record_finance_approval,
    record_finance_send_back,
    record_goods_received,
    record_intercept_outcome,
    record_refund_failed,
    record_refund_succeeded,
    record_replacement_shipped,
)
from tickets.services.duties import Duty, check_duty
from tickets.services.intake import next_ticket_id, submit_ticket, ticket_number
from tickets.services.review import (
    ApprovalAsks,
    ApprovalTerms,
    Decision,
    add_note,
    approval_asks,
    approve_ticket,
    assign_ticket,
    compensate_ticket,
    open_decisions,
    preview_approval,
    preview_compensation,
    preview_reship,
    record_retention_attempt,
    reject_ticket,
    reship_ticket,
)
from tickets.services.system import close_ticket, escalate_ticket, recheck_deadline

__all__ = [
    "ApprovalAsks", "ApprovalTerms", "Decision", "approval_asks", "open_decisions", "Duty", "check_duty", "assign_ticket", "record_retention_attempt", "check_finance_approval", "preview_approval", "preview_compensation",
    "Dispatch", "GoodsLine", "GoodsReceipt", "add_note", "approve_ticket", "cancel_ticket", "close_ticket",
    "compensate_ticket", "compensation_cap", "confirm_receipt", "escalate_ticket", "extras_available",
    "hold_ticket",
    "line_amounts", "next_ticket_id", "record_finance_approval", "record_finance_send_back",
    "record_goods_received", "record_intercept_outcome", "record_refund_failed", "record_refund_succeeded",
    "record_replacement_shipped", "record_return_shipment", "recheck_deadline", "reject_ticket", "reship_ticket",
    "preview_reship", "submit_ticket", "subscribe", "ticket_number",
]
