"""Money leaving the shop: one refund record per execution attempt chain, paid exactly once."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.history import tracked
from tickets.models import Ticket

# A refund that has not failed: pending, in progress or paid. At most one per ticket (the database holds
# it); while one is live, nobody may ask for another.
LIVE = ~Q(status="failed")


class RefundQuerySet(models.QuerySet):
    def live(self):
        """Refunds under way or done: the money for their ticket is taken care of."""
        return self.filter(LIVE)


@tracked("RefundHistory")
class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        IN_PROGRESS = "in_progress", _("in progress")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    uuid = models.UUIDField(_("uuid"), default=uuid.uuid4, unique=True, editable=False,
                            help_text=_("the gateway's idempotency key: one key, one payment"))
    ticket = models.ForeignKey("tickets.Ticket", verbose_name=_("ticket"), on_delete=models.PROTECT,
                               related_name="refunds")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+",
                                     help_text=_("empty: the system"))
    created_at = models.DateTimeField(_("created at"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    gateway_reference = models.CharField(_("gateway reference"), max_length=100, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=500, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = RefundQuerySet.as_manager()

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_gte_0"),
            # At most one refund per ticket that is not a failure: the database refuses a second.
            models.UniqueConstraint(fields=["ticket"], condition=LIVE,
                                    name="one_live_refund_per_ticket"),
        ]

    def __str__(self) -> str:
        return f"refund {self.amount} for {self.ticket}"


class RefundQueueTicket(Ticket):
    """Finance's work queue (SPEC §8, seed 001): the tickets ops approved whose refund finance has not yet
    sent. The same rows as tickets, shown as finance reads them (refunds.admin.RefundQueueAdmin)."""

    class Meta:
        proxy = True
        verbose_name = _("refund to approve")
        verbose_name_plural = _("refunds to approve")


class GatewayPayout(models.Model):
    """The simulated payment provider's ledger: what it paid, once per idempotency key."""

    idempotency_key = models.UUIDField(_("idempotency key"), unique=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reference = models.CharField(_("reference"), max_length=100, unique=True)
    order_no = models.CharField(_("order no"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("gateway payout")
        verbose_name_plural = _("gateway payouts")
