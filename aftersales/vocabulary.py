"""Words more than one part speaks. Reference data (reasons) and claims (tickets) both name ticket
types, and reference data may not import tickets: so the vocabulary lives here, in the kernel."""

from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketType(models.TextChoices):
    """The three kinds of claim (SPEC §3): money back only, goods back then money, goods for goods. What
    each one means (goods, money, photos, windows) is its row in ``TYPE_TRAITS`` below: code reads a
    trait (``ticket_type.traits.goods_come_back``), never which type it is."""

    REFUND_ONLY = "refund_only", _("refund only")
    RETURN_REFUND = "return_refund", _("return and refund")
    EXCHANGE = "exchange", _("exchange")

    @property
    def traits(self) -> "TypeTraits":
        return TYPE_TRAITS[self]


class ClaimWindow(StrEnum):
    """The periods in which claims are made (SPEC §6; tickets.rules builds each one's end for an order line)."""

    BEFORE_SHIPMENT = "before_shipment"  # the order is not shipped yet [001]
    IN_TRANSIT = "in_transit"  # shipped, not delivered: refuse the delivery
    FRESH_QUALITY = "fresh_quality"  # fresh produce: quality problems within 48 hours of receipt [000]
    NO_REASON = "no_reason"  # general goods: the 7-day no-reason return from receipt [004][002]
    QUALITY = "quality"  # general goods: problems on the shop's or the carrier's side [004]


@dataclass(frozen=True)
class TypeTraits:
    """What a ticket type means, as the parts ask it (SPEC §3, §4, §6).

    - ``goods_come_back``: the buyer sends the goods back and the warehouse receives and inspects them
      before anything else happens (a return deadline, the arrivals queue, an inbound);
    - ``replacement_ships``: once the goods passed, new goods go out (awaiting exchange, the dispatch
      queue, receipt confirmed by the buyer) and the inbound is an exchange inbound;
    - ``money_moves``: the claim is settled with a refund (an exchange refunds nothing: 0.00 is its amount);
    - ``photos_required``: photos are asked whatever the reason and the goods (SPEC §4.3);
    - ``windows``: the claim windows in which this type may be claimed; a type that may be claimed before
      the order ships is the one the warehouse is told to hold the shipment for, and that the system
      approves by itself on an unshipped order [001].
    """

    goods_come_back: bool
    replacement_ships: bool
    money_moves: bool
    photos_required: bool
    windows: frozenset[ClaimWindow]

    @property
    def claimable_before_shipment(self) -> bool:
        return ClaimWindow.BEFORE_SHIPMENT in self.windows


_AFTER_DELIVERY = frozenset({ClaimWindow.FRESH_QUALITY, ClaimWindow.NO_REASON, ClaimWindow.QUALITY})

# One row per ticket type: a new type is a member above and a row here (and the reasons that fit it).
TYPE_TRAITS: dict[TicketType, TypeTraits] = {
    TicketType.REFUND_ONLY: TypeTraits(
        goods_come_back=False, replacement_ships=False, money_moves=True, photos_required=False,
        windows=frozenset({ClaimWindow.BEFORE_SHIPMENT, ClaimWindow.IN_TRANSIT, ClaimWindow.FRESH_QUALITY,
                           ClaimWindow.QUALITY})),
    TicketType.RETURN_REFUND: TypeTraits(
        goods_come_back=True, replacement_ships=False, money_moves=True, photos_required=False,
        windows=_AFTER_DELIVERY),
    TicketType.EXCHANGE: TypeTraits(
        goods_come_back=True, replacement_ships=True, money_moves=False, photos_required=True,
        windows=_AFTER_DELIVERY),
}


def traits(ticket_type: str) -> TypeTraits:
    """The traits of a ticket type, given as the member or its stored value; KeyError for an unknown one."""
    return TYPE_TRAITS[TicketType(ticket_type)]


def types_where(predicate) -> list[TicketType]:
    """The ticket types whose traits satisfy ``predicate``, in the order of ``TicketType``."""
    return [t for t in TicketType if predicate(TYPE_TRAITS[t])]


class InspectionRejection(models.TextChoices):
    """Why the warehouse refused returned goods (SPEC §4.2 step 5): the warehouse records it on the inbound,
    the ticket's timeline carries it to ops."""

    DAMAGED_BY_BUYER = "damaged_by_buyer", _("damaged by the buyer")
    USED = "used", _("used")
    MISSING_PARTS = "missing_parts", _("missing parts")
    NOT_OUR_ITEM = "not_our_item", _("not our item")
    OTHER = "other", _("other")
