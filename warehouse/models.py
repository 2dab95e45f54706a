"""After-sales goods movements (SPEC §8 warehouse records): returns in, replacements out."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.history import append_only, tracked
from aftersales.vocabulary import InspectionRejection
from orders.models import GoodsLine
from tickets.models import Ticket


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

    def __str__(self) -> str:
        return f"{self.number} {self.ticket.ticket_no}"

    @property
    def number(self) -> str:
        """The record's number as staff say it: "IN000007"."""
        return f"IN{self.pk:06d}" if self.pk else ""


@tracked("InboundLineHistory")
class InboundLine(GoodsLine):
    inbound = models.ForeignKey(Inbound, verbose_name=_("inbound"), on_delete=models.PROTECT, related_name="lines")
    accepted = models.BooleanField(_("accepted"))
    reject_reason = models.CharField(_("why refused"), max_length=20, blank=True, choices=InspectionRejection)
    note = models.CharField(_("inspection note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("inbound line")
        verbose_name_plural = _("inbound lines")
        constraints = [
            GoodsLine.quantity_gt_0("inbound_quantity_gt_0"),
            # Refused goods say why; accepted goods have nothing to explain.
            models.CheckConstraint(condition=Q(accepted=True, reject_reason="") | Q(accepted=False) & ~Q(reject_reason=""),
                                   name="inbound_rejection_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line.product_name} × {self.quantity}"


class Courier(models.Model):
    """A courier the warehouse ships with: reference data an administrator (or a warehouse lead given the
    permission) keeps; the ship form offers the ones in use, and "other" with the name typed. An outbound
    keeps the courier's name as text, so renaming or retiring one rewrites no history."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.CharField(_("code"), max_length=16, unique=True, help_text=_("short code, e.g. SF"))
    active = models.BooleanField(_("offered on the ship form"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100, help_text=_("lower comes first"))

    class Meta:
        verbose_name = _("courier")
        verbose_name_plural = _("couriers")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


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

    def __str__(self) -> str:
        return f"{self.number} {self.ticket.ticket_no}"

    @property
    def number(self) -> str:
        """The record's number as staff say it: "OUT000007"."""
        return f"OUT{self.pk:06d}" if self.pk else ""


@tracked("OutboundLineHistory")
class OutboundLine(GoodsLine):
    outbound = models.ForeignKey(Outbound, verbose_name=_("outbound"), on_delete=models.PROTECT,
                                 related_name="lines")

    class Meta:
        verbose_name = _("outbound line")
        verbose_name_plural = _("outbound lines")
        constraints = [GoodsLine.quantity_gt_0("outbound_quantity_gt_0")]

    def __str__(self) -> str:
        return f"{self.order_line.product_name} × {self.quantity}"


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
        verbose_name_plural = _("dispatch queue: goods to send")
        ordering = ["requested_at", "pk"]
        constraints = [
            # One open request per ticket: the warehouse never sees two to-dos for the same parcel.
            models.UniqueConstraint(fields=["ticket"], condition=Q(status="open"),
                                    name="one_open_outbound_request_per_ticket"),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="outbound_request_queue")]

    def __str__(self) -> str:
        return f"{self.ticket.ticket_no} {self.get_purpose_display()}"


class OutboundRequestLine(GoodsLine):
    request = models.ForeignKey(OutboundRequest, verbose_name=_("outbound request"), on_delete=models.CASCADE,
                                related_name="lines")

    class Meta:
        verbose_name = _("requested line")
        verbose_name_plural = _("requested lines")
        constraints = [GoodsLine.quantity_gt_0("outbound_request_quantity_gt_0")]


class InboundPhoto(models.Model):
    """A photo the clerk took at inspection: an upload checked as the buyer's are (tickets.uploads)."""

    inbound = models.ForeignKey(Inbound, verbose_name=_("inbound"), on_delete=models.PROTECT, related_name="photos")
    upload = models.OneToOneField("tickets.Upload", verbose_name=_("photo"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("inspection photo")
        verbose_name_plural = _("inspection photos")
        ordering = ["pk"]

    def __str__(self) -> str:
        return str(_("photo %(no)s") % {"no": self.upload_id})


@tracked("InterceptHistory")
class Intercept(models.Model):
    """An instruction to hold or cancel the shipment of an order a refund-only claim was approved on before
    it shipped (SPEC §4.1, seed 001): the warehouse's to-do until a clerk says how it ended."""

    class Status(models.TextChoices):
        OPEN = "open", _("to hold")
        HELD = "held", _("held")
        TOO_LATE = "too_late", _("too late: already shipped")

    ticket = models.OneToOneField("tickets.Ticket", verbose_name=_("ticket"), on_delete=models.PROTECT,
                                  related_name="intercept")
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.OPEN)
    requested_at = models.DateTimeField(_("requested at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("done by"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("shipment to hold")
        verbose_name_plural = _("shipments to hold")
        ordering = ["requested_at", "pk"]
        indexes = [models.Index(fields=["status", "requested_at"], name="intercept_queue")]
        constraints = [
            models.CheckConstraint(condition=Q(status="open", done_at__isnull=True)
                                   | ~Q(status="open") & Q(done_at__isnull=False, done_by__isnull=False),
                                   name="intercept_done_when_not_open"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket}"


class Location(models.TextChoices):
    SELLABLE = "sellable", _("sellable stock")
    DAMAGED = "damaged", _("damaged goods")


class StockMovement(models.Model):
    """One line of the after-sales stock ledger, written in the transaction of the inbound or outbound that
    caused it, never edited: goods that passed inspection back to sellable stock (+), goods refused to the
    damaged location (+), replacements and re-shipped parts out of sellable stock (−)."""

    class Kind(models.TextChoices):
        RETURN_ACCEPTED = "return_accepted", _("returned, passed inspection")
        RETURN_REJECTED = "return_rejected", _("returned, refused at inspection")
        OUTBOUND = "outbound", _("shipped out")

    sku = models.CharField(_("SKU"), max_length=64)
    location = models.CharField(_("location"), max_length=12, choices=Location)
    quantity = models.IntegerField(_("quantity"), help_text=_("units in (+) or out (−)"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    ticket = models.ForeignKey("tickets.Ticket", verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="+")
    inbound = models.ForeignKey(Inbound, verbose_name=_("inbound"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="movements")
    outbound = models.ForeignKey(Outbound, verbose_name=_("outbound"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="movements")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("operator"), on_delete=models.PROTECT,
                                 related_name="+")
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["sku", "location"], name="stock_movement_sku")]
        constraints = [
            # Each kind moves one way, to or from its own location, and names the record that caused it.
            models.CheckConstraint(name="stock_movement_kind_shape", condition=(
                Q(kind="return_accepted", location="sellable", quantity__gt=0, inbound__isnull=False,
                  outbound__isnull=True)
                | Q(kind="return_rejected", location="damaged", quantity__gt=0, inbound__isnull=False,
                    outbound__isnull=True)
                | Q(kind="outbound", location="sellable", quantity__lt=0, outbound__isnull=False,
                    inbound__isnull=True))),
        ]
        triggers = append_only("stock_movements_append_only")

    def __str__(self) -> str:
        return f"{self.sku} {self.location} {self.quantity:+d}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise RuntimeError("Stock movements are history and cannot be edited.")
        super().save(*args, **kwargs)


class StockBalance(models.Model):
    """What the after-sales movements add up to, per SKU and location: kept in the movement's own
    transaction by one atomic upsert (warehouse.services), and checked against the ledger
    (warehouse.selectors.stock_mismatches). Sellable stock counts after-sales flows only: a negative number
    means more went out as replacements than came back."""

    sku = models.CharField(_("SKU"), max_length=64)
    location = models.CharField(_("location"), max_length=12, choices=Location)
    quantity = models.IntegerField(_("quantity"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("stock balance")
        verbose_name_plural = _("stock balances")
        ordering = ["sku", "location"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], name="one_stock_balance_per_sku_location"),
            # Nothing leaves the damaged location through after-sales: it can only grow.
            models.CheckConstraint(condition=~Q(location="damaged") | Q(quantity__gte=0),
                                   name="damaged_stock_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.get_location_display()}: {self.quantity}"


@tracked("IncidentHistory")
class Incident(models.Model):
    """The shop's registers (SPEC §10, seed 001): goods shipped wrong, parcels the courier lost, with
    what each cost the shop, for the month's accounts."""

    class Kind(models.TextChoices):
        WRONG_ITEM = "wrong_item", _("wrong item shipped")
        LOST_PARCEL = "lost_parcel", _("parcel lost")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    order = models.ForeignKey("orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", verbose_name=_("ticket"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(_("SKU"), max_length=64, blank=True, help_text=_("the goods concerned"))
    courier = models.CharField(_("courier"), max_length=100, blank=True)
    tracking_no = models.CharField(_("tracking no"), max_length=100, blank=True)
    description = models.CharField(_("what happened"), max_length=1000)
    cost = models.DecimalField(_("cost to the shop"), max_digits=12, decimal_places=2)
    occurred_on = models.DateField(_("occurred on"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-occurred_on", "-pk"]
        indexes = [models.Index(fields=["kind", "occurred_on"], name="incident_register")]
        constraints = [models.CheckConstraint(condition=Q(cost__gte=0), name="incident_cost_gte_0",
                                              violation_error_message=_("The cost cannot be negative."))]

    def __str__(self) -> str:
        return " ".join(str(part) for part in (self.order.order_no, self.get_kind_display()) if part)


class WrongShipment(Incident):
    class Meta:
        proxy = True
        verbose_name = _("wrong-item shipment")
        verbose_name_plural = _("wrong-item shipments")


class LostParcel(Incident):
    class Meta:
        proxy = True
        verbose_name = _("lost parcel")
        verbose_name_plural = _("lost parcels")


class ArrivalTicket(Ticket):
    """The warehouse's arrivals queue: tickets whose goods are on their way back (warehouse.admin)."""

    class Meta:
        proxy = True
        verbose_name = _("arrival to receive")
        verbose_name_plural = _("arrivals to receive")
