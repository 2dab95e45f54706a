"""Money leaving the shop: one refund record per execution attempt chain, paid exactly once."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aftersales.history import append_only, tracked
from orders.models import order_line_field
from tickets.models import Ticket

# A refund that has not failed: pending, in progress or paid. At most one per ticket (the database holds
# it); while one is live, nobody may ask for another.
LIVE = ~Q(status="failed")


class RefundQuerySet(models.QuerySet):
    def live(self):
        """Refunds under way or done: the money for their ticket is taken care of."""
        return self.filter(LIVE)

    def refused_unsettled(self):
        """Refunds the gateway refused whose ticket nobody has paid another way yet: finance's to act on."""
        return self.filter(status="failed", superseded_by__isnull=True)


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
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2,
                                 help_text=_("cash to the original payment method: the goods (lines) plus shipping"))
    # The parts beside the lines (refunds.breakdown): shipping is in the cash amount, the coupon and the
    # points go back in kind and are not.
    shipping = models.DecimalField(_("shipping"), max_digits=12, decimal_places=2, default=0)
    coupon = models.DecimalField(_("coupon"), max_digits=12, decimal_places=2, default=0,
                                 help_text=_("given back in kind, not in the cash amount"))
    virtual_currency = models.DecimalField(_("virtual currency"), max_digits=12, decimal_places=2, default=0,
                                           help_text=_("given back in kind, not in the cash amount"))
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+",
                                     help_text=_("empty: the system"))
    created_at = models.DateTimeField(_("created at"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    gateway_reference = models.CharField(_("gateway reference"), max_length=100, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=500, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True,
                                         help_text=_("last handed to the queue; empty: not yet (the dispatcher "
                                                     "sends it)"))
    paid_manually_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("paid by hand by"), null=True,
                                         blank=True, on_delete=models.PROTECT, related_name="+")
    manual_reason = models.CharField(_("why paid by hand"), max_length=500, blank=True)
    # A refused refund stays refused (its record is history); once the ticket is paid another way (finance
    # approved again and the gateway paid, or paid by hand) it is settled: this points at the payment.
    superseded_by = models.ForeignKey("self", verbose_name=_("settled by"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+",
                                      help_text=_("refused, then the ticket was paid by this refund"))
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True,
                                            help_text=_("a worker is calling the gateway until then; after it, "
                                                        "reconciliation asks the gateway what happened"))

    objects = RefundQuerySet.as_manager()

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The dispatcher and the reconciliation read only refunds not finished: small partial indexes.
            models.Index(fields=["created_at"], name="refund_undispatched",
                         condition=Q(status="pending", dispatched_at__isnull=True)),
            models.Index(fields=["status", "lease_expires_at"], name="refund_unfinished",
                         condition=Q(status__in=["pending", "in_progress"])),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_gte_0"),
            models.CheckConstraint(condition=Q(shipping__gte=0, shipping__lte=F("amount"), coupon__gte=0,
                                               virtual_currency__gte=0), name="refund_parts_within_amount"),
            # At most one refund per ticket that is not a failure: the database refuses a second.
            models.UniqueConstraint(fields=["ticket"], condition=LIVE,
                                    name="one_live_refund_per_ticket"),
            # Only a refused refund is settled by another, and never by itself.
            models.CheckConstraint(condition=Q(superseded_by__isnull=True)
                                   | (Q(status="failed") & ~Q(superseded_by=F("pk"))),
                                   name="only_a_failed_refund_is_superseded"),
        ]

    def __str__(self) -> str:
        return f"refund {self.amount} for {self.ticket}"


def gateway_words(text: str) -> str:
    """A gateway's refusal or error as people read it: the sandbox's own texts are translatable (marked
    where it raises them, stored in English), any other provider's words are shown as they came."""
    return gettext(text) if text else text


def reference_in_words(reference: str) -> str:
    """A gateway reference as people read it: a payment by hand ("manual" or "manual: <transfer>", stored
    in English) in the reader's language; a gateway's own reference as it is."""
    prefix, sep, rest = reference.partition(": ")
    if prefix == "manual" and (sep or not rest):
        return f"{_('manual')}: {rest}" if sep else str(_("manual"))
    return reference


class RefundQueueTicket(Ticket):
    """Finance's work queue (SPEC §8, seed 001): the tickets ops approved whose refund finance has not yet
    sent. The same rows as tickets, shown as finance reads them (refunds.admin.RefundQueueAdmin)."""

    class Meta:
        proxy = True
        verbose_name = _("refund to approve")
        verbose_name_plural = _("refunds to approve")


class RefundLine(models.Model):
    """The goods part of a refund, per order line: what goes against the line's cap
    (``OrderLine.refunded_amount``) when the refund succeeds. Written with the refund, never changed: the app
    refuses edits and deletes, and so do PostgreSQL triggers (append-only; no history table: a row that never
    changes is its own history). Refunds are never deleted, so neither are their lines by cascade."""

    refund = models.ForeignKey(Refund, verbose_name=_("refund"), on_delete=models.CASCADE, related_name="lines")
    order_line = order_line_field(related_name="refund_lines")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("refund line")
        verbose_name_plural = _("refund lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_line_amount_gte_0"),
            models.UniqueConstraint(fields=["refund", "order_line"], name="one_refund_line_per_order_line"),
        ]
        triggers = append_only("refund_line_append_only")

    def __str__(self) -> str:
        return f"{self.amount} for line {self.order_line_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("Refund lines are written with their refund and cannot be edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Refund lines are written with their refund and cannot be deleted.")


class RefundAttempt(models.Model):
    """One call to the gateway and how it ended: history, never edited (the app refuses, and so does a
    PostgreSQL trigger). Finance and support read it to see what the provider was asked and said."""

    class Call(models.TextChoices):
        REFUND = "refund", _("refund")
        STATUS = "status", _("status check")

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", _("paid")
        DECLINED = "declined", _("declined")
        TRANSIENT_ERROR = "transient_error", _("transient error")
        TIMEOUT = "timeout", _("no answer (money may have moved)")
        NOT_FOUND = "not_found", _("not paid (status check)")

    refund = models.ForeignKey(Refund, verbose_name=_("refund"), on_delete=models.PROTECT, related_name="gateway_attempts")
    at = models.DateTimeField(_("at"))
    call = models.CharField(_("call"), max_length=8, choices=Call)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"))
    error = models.CharField(_("error"), max_length=500, blank=True)
    gateway_reference = models.CharField(_("gateway reference"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("gateway attempt")
        verbose_name_plural = _("gateway attempts")
        ordering = ["at", "pk"]
        triggers = append_only("refund_attempt_append_only")

    def __str__(self) -> str:
        return f"{self.get_call_display()} · {self.get_outcome_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("Gateway attempts are history and cannot be edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Gateway attempts are history and cannot be deleted.")


class GatewayPayout(models.Model):
    """The sandbox payment provider's ledger (refunds.sandbox): what it paid, once per idempotency key.
    A real provider keeps its own; one row here is one movement of money."""

    idempotency_key = models.UUIDField(_("idempotency key"), unique=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reference = models.CharField(_("reference"), max_length=100, unique=True)
    order_no = models.CharField(_("order no"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("gateway payout")
        verbose_name_plural = _("gateway payouts")
