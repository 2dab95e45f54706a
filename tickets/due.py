"""What a ticket waits for, and until when: one due time per ticket, kept on the row by every transition
(tickets.machine.save_status), so the ops queue sorts by it and shows what is overdue (SPEC §6, §8), and
the deadline sweep (tickets.deadlines) finds what to act on by it alone.

Each due time is one of two sorts:
- the buyer's turn ends (RETURN: the ticket closes; CONFIRM: receipt is confirmed for the buyer);
- the shop's turn is late (REVIEW, REFUND, REPLACEMENT, and for a logistics problem FIRST_REPLY and
  RESOLUTION [001]): the ticket is escalated, once per stage. A stage is the (status, due time, kind) the
  ticket waits on: when any of them changes, `escalated_at` is cleared (tickets.machine.set_due), so a
  ticket escalated in review is escalated again when its refund is late, while an escalated ticket keeps its
  overdue due time for the queue's order."""

from datetime import datetime, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.service_hours import add_service_time
from policies.services import Policies


class DueKind(models.TextChoices):
    REVIEW = "review", _("ops review")
    RETURN = "return", _("buyer sends the goods back")
    REFUND = "refund", _("refund")
    REPLACEMENT = "replacement", _("replacement shipped")
    CONFIRM = "confirm", _("buyer confirms receipt")
    FIRST_REPLY = "first_reply", _("first reply to a logistics problem")
    RESOLUTION = "resolution", _("logistics problem resolved")


# Kinds that escalate when passed (the shop is late); the others act (close, confirm receipt).
ESCALATING = frozenset({DueKind.REVIEW, DueKind.REFUND, DueKind.REPLACEMENT, DueKind.FIRST_REPLY,
                        DueKind.RESOLUTION})

# Status values as stored (this module is imported by tickets.models, and by migrations that see
# historical models without their choices classes).
PENDING_REVIEW, AWAITING_RETURN = "pending_review", "awaiting_return"
AWAITING_REFUND, AWAITING_EXCHANGE = "awaiting_refund", "awaiting_exchange"


def staff_clock(start: datetime, sla: timedelta, policy: Policies) -> datetime:
    """When a staff SLA (review, first reply) started at ``start`` ends: in customer-service hours only if
    the policy says so (seed 000: 9:00–24:00), else around the clock."""
    if policy.switch("sla_service_hours_only"):
        return add_service_time(start, sla, policy.service_hours())
    return start + sla


def due_of(ticket, policy: Policies, *, shipped_back: bool, logistics: bool = False) -> tuple[datetime | None, str]:
    """(due time, kind) of what the ticket waits for; (None, "") when nothing is due of anyone (a final
    ticket, a refund already under way, goods on their way back to the warehouse). A logistics problem
    also has its first-reply and resolution clocks while the shop has the ticket; the earliest wins (on a
    tie the stage's own kind)."""
    due, kind = _stage_due(ticket, policy, shipped_back=shipped_back)
    if not logistics or kind not in (DueKind.REVIEW, DueKind.REFUND, DueKind.REPLACEMENT):
        return due, kind
    clocks = [(due, 0, kind),
              (ticket.created_at + policy.hours("logistics_resolution_hours"), 2, DueKind.RESOLUTION)]
    if ticket.status == PENDING_REVIEW and ticket.first_replied_at is None:
        clocks.append((staff_clock(ticket.created_at, policy.minutes("logistics_first_reply_minutes"), policy),
                       1, DueKind.FIRST_REPLY))
    due, _rank, kind = min(clocks)
    return due, kind


def _stage_due(ticket, policy: Policies, *, shipped_back: bool) -> tuple[datetime | None, str]:
    if ticket.status == PENDING_REVIEW:
        # The review SLA counts from when the ticket last entered review: a send-back restarts it [000].
        start = ticket.review_started_at or ticket.created_at
        return staff_clock(start, policy.hours("review_sla_hours"), policy), DueKind.REVIEW
    if ticket.status == AWAITING_RETURN and not shipped_back and ticket.return_deadline:
        return ticket.return_deadline, DueKind.RETURN
    # The shop's 48 h to act [003] count from when the ticket reached it: the goods' arrival, or the
    # (latest) ops approval when there are no goods or ops decided again after the inspection.
    since = max(filter(None, (ticket.goods_received_at, ticket.approved_at)), default=ticket.created_at)
    if ticket.status == AWAITING_REFUND and ticket.refund_requested_at is None:
        return since + policy.hours("refund_sla_hours"), DueKind.REFUND
    if ticket.status == AWAITING_EXCHANGE and ticket.replacement_shipped_at is None:
        return since + policy.hours("refund_sla_hours"), DueKind.REPLACEMENT
    if ticket.status == AWAITING_EXCHANGE and ticket.confirm_deadline:
        return ticket.confirm_deadline, DueKind.CONFIRM
    return None, ""
