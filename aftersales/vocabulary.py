"""Words more than one part speaks. Reference data (reasons) and claims (tickets) both name ticket
types, and reference data may not import tickets: so the vocabulary lives here, in the kernel."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketType(models.TextChoices):
    """The three kinds of claim (SPEC §3): money back only, goods back then money, goods for goods."""

    REFUND_ONLY = "refund_only", _("refund only")
    RETURN_REFUND = "return_refund", _("return and refund")
    EXCHANGE = "exchange", _("exchange")


class InspectionRejection(models.TextChoices):
    """Why the warehouse refused returned goods (SPEC §4.2 step 5): the warehouse records it on the inbound,
    the ticket's timeline carries it to ops."""

    DAMAGED_BY_BUYER = "damaged_by_buyer", _("damaged by the buyer")
    USED = "used", _("used")
    MISSING_PARTS = "missing_parts", _("missing parts")
    NOT_OUR_ITEM = "not_our_item", _("not our item")
    OTHER = "other", _("other")
