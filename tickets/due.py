"""What a ticket waits for, and until when: one due time per ticket, kept on the row by every transition
(tickets.machine.save_status), so the ops queue sorts by it and shows what is overdue (SPEC §6, §8)."""

from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from policies.services import Policies


class DueKind(models.TextChoices):
    REVIEW = "review", _("ops review")
    RETURN = "return", _("buyer sends the goods back")
    REFUND = "refund", _("refund")
    REPLACEMENT = "replacement", _("replacement shipped")
    CONFIRM = "confirm", _("buyer confirms receipt")


# Status values as stored (this module is imported by tickets.models, and by migrations that see
# historical models without their choices classes).
PENDING_REVIEW, AWAITING_RETURN = "pending_review", "awaiting_return"
AWAITING_REFUND, AWAITING_EXCHANGE = "awaiting_refund", "awaiting_exchange"


def due_of(ticket, policy: Policies, *, shipped_back: bool) -> tuple[datetime | None, str]:
    """(due time, kind) of the step the ticket waits for; (None, "") when nothing is due of anyone (a
    final ticket, a refund already under way, goods on their way back to the warehouse)."""
    if ticket.status == PENDING_REVIEW:
        # The review SLA counts from when the ticket last entered review: a send-back restarts it [000].
        return (ticket.review_started_at or ticket.created_at) + policy.hours("review_sla_hours"), DueKind.REVIEW
    if ticket.status == AWAITING_RETURN and not shipped_back and ticket.return_deadline:
        return ticket.return_deadline, DueKind.RETURN
    if ticket.status == AWAITING_REFUND and ticket.refund_requested_at is None:
        since = ticket.goods_received_at or ticket.approved_at or ticket.created_at
        return since + policy.hours("refund_sla_hours"), DueKind.REFUND
    if ticket.status == AWAITING_EXCHANGE and ticket.replacement_shipped_at is None:
        since = ticket.goods_received_at or ticket.approved_at or ticket.created_at
        return since + policy.hours("refund_sla_hours"), DueKind.REPLACEMENT  # the same 48 h to act [003]
    if ticket.status == AWAITING_EXCHANGE and ticket.confirm_deadline:
        return ticket.confirm_deadline, DueKind.CONFIRM
    return None, ""
