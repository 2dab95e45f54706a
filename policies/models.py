from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.history import tracked


@tracked("PolicyHistory")
class Policy(models.Model):
    """One editable rule: a window, a cap or an SLA. Defaults come from SPEC §6 (see DEFAULTS)."""

    class Unit(models.TextChoices):
        MINUTES = "minutes", _("minutes")
        HOURS = "hours", _("hours")
        DAYS = "days", _("days")
        PERCENT = "percent", _("percent")
        AMOUNT = "amount", _("amount")
        COUNT = "count", _("count")
        SWITCH = "switch", _("1 = yes, 0 = no")
        MEGABYTES = "megabytes", _("megabytes")

    key = models.SlugField(_("key"), max_length=64, unique=True)
    # The validator gives the admin form a field error; the constraint holds whatever code runs.
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2,
                                validators=[MinValueValidator(0)])
    unit = models.CharField(_("unit"), max_length=16, choices=Unit)
    description = models.CharField(_("description"), max_length=300)
    source = models.CharField(_("source"), max_length=100, blank=True,
                              help_text=_("where the default comes from"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        constraints = [models.CheckConstraint(condition=models.Q(value__gte=0), name="policy_value_gte_0")]

    def __str__(self) -> str:
        return f"{self.key} = {self.value} {self.unit}"

    def clean(self):
        if self.unit == self.Unit.SWITCH and self.value not in (0, 1):
            raise ValidationError({"value": _("1 (yes) or 0 (no).")})
        if self.unit == self.Unit.HOURS and self.key.startswith("service_hours_") and not 0 <= self.value <= 24:
            raise ValidationError({"value": _("An hour of the day, from 0 to 24.")})


# key: (value, unit, description, source). The data migration installs these; policies.current()
# falls back to them for a row an administrator deleted.
DEFAULTS: dict[str, tuple[Decimal, str, str, str]] = {
    "fresh_claim_hours": (Decimal(48), "hours", "Fresh produce: claim within this many hours of delivery", "[000]"),
    "no_reason_days": (Decimal(7), "days", "General goods: no-reason return within this many days of delivery", "[004][002]"),
    "quality_days": (Decimal(15), "days", "General goods: quality return or exchange within this many days of delivery", "issue #3"),
    "max_photos": (Decimal(6), "count", "Photos per claim, at most", "[000]"),
    "return_ship_days": (Decimal(7), "days", "After approval the buyer sends the goods back within this many days, or the ticket closes", "[001]"),
    "review_sla_hours": (Decimal(48), "hours", "Ops reviews a claim within this many hours", "[000]"),
    "refund_sla_hours": (Decimal(48), "hours", "After the warehouse receives the goods the refund is processed within this many hours", "[003]"),
    "exchange_autoconfirm_days": (Decimal(10), "days", "The replacement's receipt is confirmed automatically this many days after it ships", "issue #3"),
    "compensation_cap_percent": (Decimal(20), "percent", "Compensation without return: at most this share of the amount paid", "[004]"),
    "compensation_cap_below": (Decimal(500), "amount", "The compensation cap applies to items paid under this amount", "[004]"),
    "auto_approve_max_amount": (Decimal(500), "amount", "Refund-only claims on unshipped orders up to this amount are approved automatically", "[001]"),
    "logistics_first_reply_minutes": (Decimal(5), "minutes", "Logistics problems: first reply within this many minutes", "[001]"),
    "self_approval_max_amount": (Decimal(0), "amount", "The ops reviewer of a claim may also approve its refund up to this amount (0: never; a small shop with one person raises it)", "issue #11"),
    "refund_arrival_business_days": (Decimal(3), "count", "A refund reaches the buyer at most this many business days after it is paid", "[000]"),
    "refund_retry_minutes": (Decimal(15), "minutes", "A refund still not executed after this long is queued again", "ops"),
    "logistics_resolution_hours": (Decimal(48), "hours", "Logistics problems: resolved within this many hours", "[001]"),
    # Deadlines (issue #13): customer-service hours, and what a late refund does.
    "service_hours_start": (Decimal(9), "hours", "Customer service opens at this hour of the day (the shop's time zone; 9.5 = 9:30)", "[000]"),
    "service_hours_end": (Decimal(24), "hours", "Customer service closes at this hour of the day (24 = midnight)", "[000]"),
    "service_hours_weekends": (Decimal(1), "switch", "Customer service works on Saturdays and Sundays", "[000]"),
    "sla_service_hours_only": (Decimal(0), "switch", "The review SLA and the logistics first-reply SLA count only customer-service hours (0: every hour counts)", "[000]"),
    "auto_refund_after_sla": (Decimal(0), "switch", "A refund not processed within refund_sla_hours of the goods' arrival is paid automatically (0: escalated to finance)", "[003]"),
    # Storage (issue #19): what a buyer's photos may take. A rolling day refills by itself; staff are not counted.
    "upload_quota_mb_per_day": (Decimal(100), "megabytes", "Photos: a buyer may store at most this many MB (as stored, after re-encoding) in any 24 hours", "issue #19"),
}
