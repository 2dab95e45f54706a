"""Events for the shop's systems: the outbox, the shops' webhook endpoints, and every delivery attempt.

The outbox (`Event`) is written beside the timeline, in the same transaction as the change (events.outbox
subscribes to every timeline kind through tickets' `subscribe`): an event exists if and only if its change
committed. Its `position`, the feed's cursor, is given after commit by one sequencer at a time
(events.sequencer), so positions become visible in increasing order and a reader never skips one.
"""

import uuid

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.history import RefuseTruncate, append_only


class Event(models.Model):
    """One thing that happened to a claim, as the buyer may see it (never internal notes or staff names)."""

    uuid = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False,
                            help_text=_("the event's id, sent as webhook-id: receivers deduplicate by it"))
    position = models.BigIntegerField(_("position"), null=True, blank=True, unique=True, editable=False,
                                      help_text=_("the feed's cursor, in commit order; empty until sequenced"))
    type = models.CharField(_("type"), max_length=64, editable=False)
    shop = models.ForeignKey("orders.Shop", verbose_name=_("shop"), on_delete=models.PROTECT,
                             related_name="+", editable=False)
    ticket = models.ForeignKey("tickets.Ticket", verbose_name=_("ticket"), on_delete=models.PROTECT,
                               related_name="+", null=True, blank=True, editable=False)
    ticket_no = models.CharField(_("ticket no"), max_length=32, editable=False)
    occurred_at = models.DateTimeField(_("occurred at"), editable=False)
    data = models.JSONField(_("data"), default=dict, editable=False)
    # One event per (ticket, deadline, due time) for deadline warnings; empty for the others.
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True, editable=False)  # noqa: DJ001
    sequenced_at = models.DateTimeField(_("sequenced at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["id"], condition=Q(position__isnull=True), name="event_unsequenced"),
            models.Index(fields=["shop", "position"], name="event_shop_position"),
        ]
        triggers = [
            # Written once: only the sequencer's step (position and its time, from empty) may follow.
            pgtrigger.Protect(name="event_written_once", operation=pgtrigger.Update, condition=pgtrigger.Condition(
                "OLD.position IS NOT NULL OR NEW.position IS NULL OR "
                "(NEW.id, NEW.uuid, NEW.type, NEW.shop_id, NEW.ticket_id, NEW.ticket_no, NEW.occurred_at, NEW.data, "
                "NEW.dedupe_key) IS DISTINCT FROM (OLD.id, OLD.uuid, OLD.type, OLD.shop_id, OLD.ticket_id, "
                "OLD.ticket_no, OLD.occurred_at, OLD.data, OLD.dedupe_key)")),
            pgtrigger.Protect(name="event_kept", operation=pgtrigger.Delete),
            RefuseTruncate(),
        ]

    def __str__(self):
        return f"{self.type} {self.ticket_no} #{self.position or '…'}"


class Endpoint(models.Model):
    """Where a shop wants its events POSTed (Standard Webhooks), and the secret they are signed with."""

    shop = models.ForeignKey("orders.Shop", verbose_name=_("shop"), on_delete=models.PROTECT,
                             related_name="webhook_endpoints")
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list, blank=True,
                                   help_text=_("the types sent to this endpoint; none ticked: every type"))
    active = models.BooleanField(_("active"), default=True)
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), editable=False)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False,
                                         help_text=_("the first failed attempt since the last success"))
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True, editable=False)
    disabled_reason = models.CharField(_("why disabled"), max_length=500, blank=True, editable=False)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        permissions = [("send_webhook_test", _("Can send a test event to a webhook endpoint")),
                       ("resend_webhook", _("Can resend webhook events"))]

    def __str__(self):
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class Delivery(models.Model):
    """One event to one endpoint: pending until a 2xx answer, or failed once the retry window is spent."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", pgettext_lazy("webhook", "delivered")
        FAILED = "failed", _("failed")

    endpoint = models.ForeignKey(Endpoint, verbose_name=_("endpoint"), on_delete=models.PROTECT,
                                 related_name="deliveries")
    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.PROTECT, related_name="deliveries")
    # Copied from the event for the delivery loop's index: per endpoint, one ticket's events in order.
    position = models.BigIntegerField(_("position"))
    ticket_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    first_attempt_at = models.DateTimeField(_("first attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(pgettext_lazy("webhook", "delivered at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_endpoint")]
        indexes = [
            models.Index(fields=["endpoint", "position"], condition=Q(status="pending"), name="delivery_pending"),
            models.Index(fields=["endpoint", "ticket_id", "position"], condition=Q(status="pending"),
                         name="delivery_pending_ticket"),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint}"


class Attempt(models.Model):
    """One POST and what came of it, kept as it happened (append-only)."""

    endpoint = models.ForeignKey(Endpoint, verbose_name=_("endpoint"), on_delete=models.PROTECT,
                                 related_name="attempts")
    delivery = models.ForeignKey(Delivery, verbose_name=_("delivery"), on_delete=models.PROTECT,
                                 related_name="attempt_log", null=True, blank=True,
                                 help_text=_("empty: a test event"))
    event_type = models.CharField(_("type"), max_length=64)
    webhook_id = models.CharField(_("webhook id"), max_length=64)
    at = models.DateTimeField(_("at"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    ok = models.BooleanField(pgettext_lazy("webhook", "delivered"), default=False)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.CharField(_("response"), max_length=1000, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("sent by"), on_delete=models.PROTECT,
                           related_name="+", null=True, blank=True, help_text=_("empty: the delivery worker"))

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        indexes = [models.Index(fields=["endpoint", "-at"], name="attempt_endpoint_at")]
        triggers = append_only("attempt_append_only")

    def __str__(self):
        return f"{self.event_type} {self.status_code or self.error}"
