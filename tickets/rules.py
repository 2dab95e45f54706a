"""Who may claim what, until when (SPEC §3, §6). Used by submission and by the eligibility view,
so a shop app's "apply for after-sales" screen and the submission can never disagree."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.errors import OutsideWindow, ReasonNotAllowed, TypeNotAllowed
from aftersales.vocabulary import ClaimWindow, TicketType, traits, types_where
from orders.models import Order, OrderLine
from policies.services import Policies
from reasons.models import Reason

FRESH = OrderLine.Category.FRESH


@dataclass(frozen=True)
class Window:
    """A period in which some ticket types may be claimed; ``ends_at`` None: open until the order moves on."""

    name: str
    types: frozenset[str]
    ends_at: datetime | None
    quality_only: bool = False
    buyer_reasons: bool = True
    shop_reasons: bool = True
    notes: list[str] = field(default_factory=list, compare=False)

    def is_open(self, now: datetime) -> bool:
        return self.ends_at is None or now <= self.ends_at

    def admits(self, reason: Reason) -> bool:
        if self.quality_only and not reason.is_quality_issue:
            return False
        buyer_side = reason.responsible == Reason.Responsible.BUYER
        return self.buyer_reasons if buyer_side else self.shop_reasons


def types_in(window: ClaimWindow) -> frozenset[str]:
    """The ticket types that may be claimed in ``window`` (their traits say so: aftersales.vocabulary)."""
    return frozenset(types_where(lambda t: window in t.windows))


def windows_for(order: Order, category: str, policies: Policies) -> list[Window]:
    """The windows a line of ``category`` on ``order`` has, open or not."""
    if order.status == Order.Status.UNSHIPPED:
        # Not shipped yet: refund only, for any reason that fits; approved automatically [001].
        return [Window(ClaimWindow.BEFORE_SHIPMENT, types_in(ClaimWindow.BEFORE_SHIPMENT), None)]
    if order.status == Order.Status.SHIPPED:
        if category == FRESH:
            return []  # fresh produce: no refusal or change after shipment [000]
        return [Window(ClaimWindow.IN_TRANSIT, types_in(ClaimWindow.IN_TRANSIT), None)]
    delivered = order.delivered_at
    if category == FRESH:
        # Quality problems only, within 48 hours of receipt, with photos [000].
        return [Window(ClaimWindow.FRESH_QUALITY, types_in(ClaimWindow.FRESH_QUALITY),
                       delivered + policies.hours("fresh_claim_hours"), quality_only=True, buyer_reasons=False)]
    return [
        # 7-day no-reason return (or exchange, e.g. for size) from receipt [004][002]; buyer's reasons
        # send the goods back, at the buyer's cost.
        Window(ClaimWindow.NO_REASON, types_in(ClaimWindow.NO_REASON), delivered + policies.days("no_reason_days"),
               shop_reasons=False),
        # Problems on the shop's or the carrier's side; refund only where the goods are not worth
        # sending back, which the reason's own flags decide.
        Window(ClaimWindow.QUALITY, types_in(ClaimWindow.QUALITY),
               delivered + policies.days("quality_days"), buyer_reasons=False),
    ]


def check_claim(*, order: Order, categories: set[str], ticket_type: str, reason: Reason,
                now: datetime, policies: Policies) -> None:
    """Raise the domain error that says why this claim may not be made now; return if it may."""
    if not reason.applies_to(ticket_type=ticket_type, categories=categories):
        raise ReasonNotAllowed(_("This reason does not apply to this ticket type or these goods."),
                               field="reason_id")
    for category in sorted(categories):
        windows = windows_for(order, category, policies)
        by_type = [w for w in windows if ticket_type in w.types]
        if not by_type:
            raise TypeNotAllowed(_type_refusal(order, category, ticket_type), field="type")
        fitting = [w for w in by_type if w.admits(reason)]
        if not fitting:
            if category == FRESH:
                raise ReasonNotAllowed(_("Fresh produce is claimed for quality problems only, not for "
                                         "appearance, taste or other subjective reasons."), field="reason_id")
            raise ReasonNotAllowed(_("This reason does not allow this ticket type for received goods."),
                                   field="reason_id")
        if not any(w.is_open(now) for w in fitting):
            raise OutsideWindow(_window_refusal(fitting[0], policies), field="order_no")


def _type_refusal(order: Order, category: str, ticket_type: str) -> str:
    if order.status == Order.Status.UNSHIPPED:
        return _("The order has not shipped: only a refund without return is possible.")
    if order.status == Order.Status.SHIPPED:
        if category == FRESH:
            return _("Fresh produce cannot be refused or changed after shipment.")
        return _("The goods are on their way: refund only (refuse the delivery) until they arrive.")
    return _("%(type)s is not possible for these goods.") % {"type": ticket_type}


# Each window's length, as the policy row an administrator edits says it (admin: Policies).
WINDOW_POLICY = {ClaimWindow.FRESH_QUALITY: "fresh_claim_hours", ClaimWindow.NO_REASON: "no_reason_days",
                 ClaimWindow.QUALITY: "quality_days"}


def _length(policies: Policies, key: str) -> tuple[str, int]:
    """The policy's number as written ("48", "1.5") and the count its plural form is chosen by."""
    value = policies[key].normalize()
    shown = f"{value:f}"
    return shown, int(value) if value == value.to_integral_value() else 2


def _window_refusal(window: Window, policies: Policies) -> str:
    """Why the window is shut, quoting the policy's own length and the local time it ended, to the minute."""
    ends = timezone.localtime(window.ends_at).strftime("%Y-%m-%d %H:%M") if window.ends_at else ""
    key = WINDOW_POLICY.get(window.name)
    if key is None:
        return _("The after-sales window for these goods ended at %(ends)s.") % {"ends": ends}
    shown, n = _length(policies, key)
    values = {"count": shown, "ends": ends}
    if window.name == ClaimWindow.FRESH_QUALITY:
        return ngettext("Fresh produce must be claimed within %(count)s hour of delivery (until %(ends)s).",
                        "Fresh produce must be claimed within %(count)s hours of delivery (until %(ends)s).",
                        n) % values
    if window.name == ClaimWindow.NO_REASON:
        return ngettext("The %(count)s-day no-reason return ended at %(ends)s.",
                        "The %(count)s-day no-reason return ended at %(ends)s.", n) % values
    return ngettext("The %(count)s-day after-sales window for these goods ended at %(ends)s.",
                    "The %(count)s-day after-sales window for these goods ended at %(ends)s.", n) % values


def allowed_types(order: Order, category: str, policies: Policies, now: datetime) -> list[str]:
    types: set[str] = set()
    for window in windows_for(order, category, policies):
        if window.is_open(now):
            types |= window.types
    return [t for t in TicketType if t in types]


def photos_required(*, order: Order, categories: set[str], ticket_type: str, reason: Reason | None = None) -> bool:
    """The one photo rule, for submission and for the eligibility view: a type that always asks for them
    (exchange, SPEC §4.3), a reason that asks for them, and fresh produce received damaged [000]. Without
    a reason (the eligibility view, before the buyer picked one): whether photos are required whatever
    the reason."""
    return (traits(ticket_type).photos_required or (reason is not None and reason.requires_photos)
            or (FRESH in categories and order.status == Order.Status.DELIVERED))
