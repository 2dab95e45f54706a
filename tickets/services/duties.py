"""Separation of duties, one rule every door goes through: the claimant, the reviewer and the payer of a
ticket are never the same person (issue #19).

- Whoever filed a claim (its buyer's login) does nothing to it as staff: no review decision, no goods
  received or shipped, no finance decision, no payment by hand.
- Whoever decided the claim (approved, settled with compensation, re-shipped parts) does not pay it, and
  whoever paid it does not decide it: four eyes on money. A one-person shop raises the policy
  ``self_approval_max_amount`` (0: never) to let the same person do both up to that amount; the claimant
  rule knows no exception.

The ticket services and doors call ``check_duty`` on the locked ticket with the acting user (None is the
system, which holds no duty); the refunds part calls it through the doors and before a payment by hand.
The facts are the ticket's own: its buyer, its reviewer and its timeline (who decided, who paid)."""

from enum import Enum

from django.utils.translation import gettext as _

from aftersales.errors import OwnClaim, OwnReview
from policies import services as policies
from tickets.models import EventKind, Ticket, TimelineEvent


class Duty(Enum):
    REVIEW = "review"  # ops decides the claim: approve, reject, compensate, re-ship parts
    GOODS = "goods"  # the warehouse receives (inspects) or ships the goods of the claim
    SEND_BACK = "send_back"  # finance sends the ticket back to ops
    PAY = "pay"  # finance approves the refund, or records it as paid by hand
    RESEND = "resend"  # finance sends a refund stuck on its way to the gateway again


DECIDED = (EventKind.APPROVE, EventKind.COMPENSATE, EventKind.RESHIP)
PAID = (EventKind.FINANCE_APPROVE, EventKind.REFUND_SUCCEEDED)


def check_duty(ticket: Ticket, actor, duty: Duty) -> None:
    """Refuse ``actor`` doing ``duty`` on ``ticket`` when it would make one person two of claimant,
    reviewer and payer (raises OwnClaim or OwnReview, 403). Call it on the locked ticket."""
    if actor is None:
        return
    if ticket.buyer.user_id == actor.pk:
        raise OwnClaim(_("You filed this claim yourself, so other staff handle it (claimant, reviewer and payer "
                         "are never the same person)."))
    if duty is Duty.PAY and _did(ticket, actor, DECIDED, reviewer=True) and not _one_person_shop(ticket):
        raise OwnReview(_("You reviewed this ticket, so another finance user approves its refund (four eyes on "
                          "money)."))
    if duty is Duty.REVIEW and _did(ticket, actor, PAID) and not _one_person_shop(ticket):
        raise OwnReview(_("You approved this ticket's refund, so another ops user decides the claim (four eyes "
                          "on money)."))


def _did(ticket: Ticket, actor, kinds, *, reviewer: bool = False) -> bool:
    if reviewer and ticket.reviewer_id == actor.pk:
        return True
    return TimelineEvent.objects.filter(ticket=ticket, actor=actor, transition__in=kinds).exists()


def _one_person_shop(ticket: Ticket) -> bool:
    allowed = policies.current()["self_approval_max_amount"]
    return allowed > 0 and ticket.refund_amount <= allowed
