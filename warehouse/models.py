"""After-sales goods movements (SPEC §8 warehouse records): returns in, replacements out."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.history import tracked


@tracked("InboundHistory")
class Inbound(models.Model):
    class Type(models.TextChoices):
        RETURN = "return_inbound", _("return inbound")
        EXCHANGE = "exchange_inbound", _("exchange inbound")

    ticket = models.ForeignKey("tickets.Ticket", verbose_name=_("ticket"), on_delete=models.PROTECT,
                               related_name="inbounds")
    type = models.CharField(_("type"), max_length=20, choices=Type)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("operator"), on_delete=models.PROTECT,
                                 related_name="+")
    note = models.CharField(_("note"), max_length=1000, blank=True, help_text=_("inspection result"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("after-sales inbound")
        verbose_name_plural = _("after-sales inbounds")
        ordering = ["-created_at", "-pk"]


class InboundLine(models.Model):
    inbound = models.ForeignKey(Inbound, verbose_name=_("inbound"), on_delete=models.PROTECT, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", verbose_name=_("order line"), on_delete=models.PROTECT,
                                   related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    accepted = models.BooleanField(_("accepted"))

    class Meta:
        verbose_name = _("inbound line")
        verbose_name_plural = _("inbound lines")
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="inbound_quantity_gt_0")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.product_name}"


@tracked("OutboundHistory")
class Outbound(models.Model):
    class Type(models.TextChoices):
        AFTER_SALES = "after_sales_outbound", _("after-sales outbound")

    class Purpose(models.TextChoices):
        REPLACEMENT = "replacement", _("replacement")
        RESHIP = "reship", _("re-ship missing or broken parts")

    ticket = models.ForeignKey("tickets.Ticket", verbose_name=_("ticket"), on_delete=models.PROTECT,
                               related_name="outbounds")
    type = models.CharField(_("type"), max_length=24, choices=Type, default=Type.AFTER_SALES)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose, default=Purpose.REPLACEMENT)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("operator"), on_delete=models.PROTECT,
                                 related_name="+")
    courier = models.CharField(_("courier"), max_length=100)
    tracking_no = models.CharField(_("tracking no"), max_length=100)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("after-sales outbound")
        verbose_name_plural = _("after-sales outbounds")
        ordering = ["-created_at", "-pk"]


class OutboundLine(models.Model):
    outbound = models.ForeignKey(Outbound, verbose_name=_("outbound"), on_delete=models.PROTECT,
                                 related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", verbose_name=_("order line"), on_delete=models.PROTECT,
                                   related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("outbound line")
        verbose_name_plural = _("outbound lines")
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="outbound_quantity_gt_0")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.product_name}"


@tracked("OutboundRequestHistory")
class OutboundRequest(models.Model):
    """Goods ops asked the warehouse to send (re-shipped parts): the warehouse's to-do, done when an
    outbound records them. A later request for the same ticket supersedes an open one."""

    class Status(models.TextChoices):
        OPEN = "open", _("to ship")
        SHIPPED = "shipped", _("shipped")
        SUPERSEDED = "superseded", _("superseded")

    ticket = models.ForeignKey("tickets.Ticket", verbose_name=_("ticket"), on_delete=models.PROTECT,
                               related_name="outbound_requests")
    purpose = models.CharField(_("purpose"), max_length=16, choices=Outbound.Purpose)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.OPEN)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"),
                                     on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"))
    note = models.CharField(_("note"), max_length=2000, blank=True)
    outbound = models.OneToOneField(Outbound, verbose_name=_("outbound"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="request")

    class Meta:
        verbose_name = _("outbound request")
        verbose_name_plural = _("outbound requests")
        ordering = ["requested_at", "pk"]
        constraints = [
            # One open request per ticket: the warehouse never sees two to-dos for the same parcel.
            models.UniqueConstraint(fields=["ticket"], condition=Q(status="open"),
                                    name="one_open_outbound_request_per_ticket"),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="outbound_request_queue")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.ticket}"


class OutboundRequestLine(models.Model):
    request = models.ForeignKey(OutboundRequest, verbose_name=_("outbound request"), on_delete=models.CASCADE,
                                related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", verbose_name=_("order line"), on_delete=models.PROTECT,
                                   related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("requested line")
        verbose_name_plural = _("requested lines")
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="outbound_request_quantity_gt_0")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.product_name}"
