from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from aftersales.history import tracked
from aftersales.vocabulary import TicketType


def default_ticket_types() -> list[str]:
    """What a new reason fits unless told otherwise: claims that refund money (as the columns it replaced
    defaulted)."""
    return [TicketType.REFUND_ONLY.value, TicketType.RETURN_REFUND.value]


def validate_ticket_types(value) -> None:
    if not isinstance(value, list) or not all(isinstance(t, str) and t in TicketType.values for t in value):
        # Each one of them (the words the claim's own type check uses: tickets.services.intake).
        raise ValidationError(_("One of %(choices)s.") % {"choices": ", ".join(TicketType.values)}, code="invalid")


def ticket_types_in_order(values) -> list[str]:
    """The ticket types given, once each, in the order of ``TicketType`` (how they are stored and shown)."""
    wanted = set(values)
    return [t for t in TicketType.values if t in wanted]


class ReasonQuerySet(models.QuerySet):
    def offered(self):
        """What buyers may pick: visible, not retired, in display order."""
        return self.filter(is_visible=True, retired_at__isnull=True).order_by("display_order", "pk")


@tracked("ReasonHistory")
class Reason(models.Model):
    """Why a buyer claims. Managed centrally (SPEC §7); a reason in use is retired, never deleted."""

    class Group(models.TextChoices):
        PRODUCT = "product", _("product")
        SERVICE = "service", _("service")
        LOGISTICS = "logistics", _("logistics")
        BUYER = "buyer", _("buyer")

    class Responsible(models.TextChoices):
        SHOP = "shop", _("shop")
        BUYER = "buyer", _("buyer")
        CARRIER = "carrier", _("carrier")

    code = models.SlugField(_("code"), max_length=64, unique=True, help_text=_("stable, machine-readable"))
    name = models.CharField(_("name"), max_length=100)
    name_zh = models.CharField(_("Chinese name"), max_length=100, blank=True)
    group = models.CharField(_("group"), max_length=16, choices=Group)
    is_quality_issue = models.BooleanField(_("is quality issue"), default=False)
    responsible = models.CharField(_("responsible"), max_length=16, choices=Responsible,
                                   help_text=_("decides who pays return shipping"))
    # One field for every ticket type (a list of TicketType values), not a column per type: a new type
    # needs no migration here. Filtered in Python (reasons.selectors): they are few and cached, and JSON
    # containment is not portable to SQLite (the demo's database).
    ticket_types = models.JSONField(_("ticket types"), default=default_ticket_types, blank=True,
                                    validators=[validate_ticket_types])
    for_fresh = models.BooleanField(_("fresh produce"), default=True)
    for_general = models.BooleanField(_("general goods"), default=True)
    requires_photos = models.BooleanField(_("requires photos"), default=False)
    is_visible = models.BooleanField(_("is visible"), default=True)
    display_order = models.PositiveIntegerField(_("display order"), default=100)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    objects = ReasonQuerySet.as_manager()

    class Meta:
        verbose_name = _("reason")
        verbose_name_plural = _("reasons")
        ordering = ["display_order", "pk"]

    def __str__(self) -> str:
        # In the reader's language wherever the admin shows a reason (the ticket's basics, the filters).
        return self.localized_name(get_language())

    def save(self, *args, **kwargs):
        # The database cannot check a JSON list portably: an unknown type is refused here, and the list is
        # kept in one order, once each, however it was given.
        validate_ticket_types(self.ticket_types)
        self.ticket_types = ticket_types_in_order(self.ticket_types)
        super().save(*args, **kwargs)

    @property
    def categories(self) -> list[str]:
        return [c for c, on in {"fresh": self.for_fresh, "general": self.for_general}.items() if on]

    def applies_to(self, *, ticket_type: str, categories: set[str]) -> bool:
        return ticket_type in self.ticket_types and categories <= set(self.categories)

    def localized_name(self, language: str | None) -> str:
        if language and language.lower().startswith("zh") and self.name_zh:
            return self.name_zh
        return self.name
