"""Words more than one part speaks. Reference data (reasons) and claims (tickets) both name ticket
types, and reference data may not import tickets: so the vocabulary lives here, in the kernel."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketType(models.TextChoices):
    """The three kinds of claim (SPEC §3): money back only, goods back then money, goods for goods."""

    REFUND_ONLY = "refund_only", _("refund only")
    RETURN_REFUND = "return_refund", _("return and refund")
    EXCHANGE = "exchange", _("exchange")
