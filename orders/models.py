"""The mirror of the forward orders we reverse (SPEC §2)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from aftersales.history import tracked


@tracked("ShopHistory")
class Shop(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    return_contact = models.CharField(_("return contact"), max_length=100, blank=True)
    return_phone = models.CharField(_("return phone"), max_length=40, blank=True)
    return_address = models.CharField(_("return address"), max_length=500, blank=True,
                                      help_text=_("where returned goods go unless ops sets another"))

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")

    def __str__(self) -> str:
        return self.name


class ShopAccount(models.Model):
    """A service account that speaks for one shop: the events feed shows it that shop's events only. A
    service account tied to no shop is the platform's own integration and sees every shop."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("service account"),
                                on_delete=models.CASCADE, related_name="shop_account")
    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.CASCADE, related_name="accounts")

    class Meta:
        verbose_name = _("shop's service account")
        verbose_name_plural = _("shop's service accounts")

    def __str__(self):
        return f"{self.user} → {self.shop}"


@tracked("BuyerHistory")
class Buyer(models.Model):
    account = models.CharField(_("account"), max_length=150, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT,
                                related_name="buyer")
    level = models.PositiveSmallIntegerField(_("level"), default=0)
    address = models.CharField(_("address"), max_length=500, blank=True)
    # Who the parcel is for, as the shop's order says (the warehouse's ship form shows them).
    name = models.CharField(_("name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("buyer")
        verbose_name_plural = _("buyers")

    def __str__(self) -> str:
        return self.account


@tracked("OrderHistory")
class Order(models.Model):
    class Status(models.TextChoices):
        UNSHIPPED = "unshipped", _("unshipped")
        SHIPPED = "shipped", _("shipped")
        DELIVERED = "delivered", _("delivered")

    order_no = models.CharField(_("order no"), max_length=64, unique=True)
    shop = models.ForeignKey(Shop, verbose_name=_("shop"), on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(Buyer, verbose_name=_("buyer"), on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(_("status"), max_length=16, choices=Status)
    placed_at = models.DateTimeField(_("placed at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    goods_amount = models.DecimalField(_("goods amount"), max_digits=12, decimal_places=2)
    shipping_fee = models.DecimalField(_("shipping fee"), max_digits=12, decimal_places=2, default=0)
    coupon_discount = models.DecimalField(_("coupon discount"), max_digits=12, decimal_places=2, default=0)
    virtual_currency = models.DecimalField(_("virtual currency"), max_digits=12, decimal_places=2, default=0)
    amount_paid = models.DecimalField(_("amount paid"), max_digits=12, decimal_places=2)
    # What succeeded refunds gave back, per order (written only by refunds, in the transaction that records
    # a refund as paid). The parts that belong to the order rather than a line (shipping, the coupon, the
    # points) are held here as OrderLine.refunded_amount holds a line's goods: the CHECKs below are the last
    # word, whatever code runs (docs/design.md "Money per order"). db_default: bulk loaders leave them at 0.
    refunded_amount = models.DecimalField(_("refunded amount"), max_digits=12, decimal_places=2, default=0,
                                          db_default=0,
                                          help_text=_("cash paid back by refunds that succeeded (goods and "
                                                      "shipping)"))
    refunded_shipping = models.DecimalField(_("refunded shipping"), max_digits=12, decimal_places=2, default=0,
                                            db_default=0)
    refunded_coupon = models.DecimalField(_("refunded coupon"), max_digits=12, decimal_places=2, default=0,
                                          db_default=0, help_text=_("given back in kind"))
    refunded_virtual_currency = models.DecimalField(_("refunded virtual currency"), max_digits=12,
                                                    decimal_places=2, default=0, db_default=0,
                                                    help_text=_("given back in kind"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["buyer", "-placed_at"]), models.Index(fields=["-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(goods_amount__gte=0, shipping_fee__gte=0, coupon_discount__gte=0,
                            virtual_currency__gte=0, amount_paid__gte=0),
                name="order_amounts_gte_0"),
            # No code path gives back more than the order paid, nor any order-level part twice.
            models.CheckConstraint(condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("amount_paid")),
                                   name="order_refunded_within_paid"),
            models.CheckConstraint(condition=Q(refunded_shipping__gte=0, refunded_shipping__lte=F("shipping_fee")),
                                   name="order_refunded_shipping_within_fee"),
            models.CheckConstraint(condition=Q(refunded_coupon__gte=0, refunded_coupon__lte=F("coupon_discount")),
                                   name="order_refunded_coupon_within_discount"),
            models.CheckConstraint(condition=Q(refunded_virtual_currency__gte=0,
                                               refunded_virtual_currency__lte=F("virtual_currency")),
                                   name="order_refunded_points_within_used"),
        ]

    def __str__(self) -> str:
        return self.order_no

    @property
    def categories(self) -> set[str]:
        return {line.category for line in self.lines.all()}


@tracked("OrderLineHistory")
class OrderLine(models.Model):
    class Category(models.TextChoices):
        FRESH = "fresh", _("fresh produce")
        GENERAL = "general", _("general goods")

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    line_id = models.CharField(_("line id"), max_length=64, unique=True)
    sku = models.CharField(_("sku"), max_length=64, db_index=True)
    product_name = models.CharField(_("product name"), max_length=200)
    product_code = models.CharField(_("product code"), max_length=64, blank=True)
    category = models.CharField(_("category"), max_length=16, choices=Category)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"))
    paid_amount = models.DecimalField(_("paid amount"), max_digits=12, decimal_places=2,
                                      help_text=_("the line's share of the amount paid"))
    # Written only by refunds (in the transaction that records a refund as paid); orders never reads it to
    # decide anything. The CHECK below is the last word: no code path can refund a line beyond its price.
    # db_default too: bulk loaders writing SQL (demo seed_bulk, benches) leave it to the database.
    refunded_amount = models.DecimalField(_("refunded amount"), max_digits=12, decimal_places=2, default=0,
                                          db_default=0,
                                          help_text=_("cash paid back for this line's goods by refunds that "
                                                      "succeeded (shipping, coupons and points not included)"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0, paid_amount__gte=0),
                                   name="order_line_amounts_gte_0"),
            models.CheckConstraint(condition=Q(paid_amount__lte=F("unit_price") * F("quantity")),
                                   name="order_line_paid_not_above_price"),
            models.CheckConstraint(condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("paid_amount")),
                                   name="order_line_refunded_within_paid"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.product_name} ×{self.quantity}"


# --- lines of the after-sales records that name an order line -----------------------------------------------


def order_line_field(*, related_name: str = "+") -> models.ForeignKey:
    """The reference from a line of an after-sales record (a ticket, a refund, a parcel in or out) to the
    order line it is about: protected, since the order line is what every one of them is counted against."""
    return models.ForeignKey("orders.OrderLine", verbose_name=_("order line"), on_delete=models.PROTECT,
                             related_name=related_name)


class GoodsLine(models.Model):
    """Some units of one order line: what a ticket claims (tickets.TicketLine), what the warehouse received
    and inspected (warehouse.InboundLine), sent (OutboundLine) or was asked to send (OutboundRequestLine).
    Abstract: each keeps its own table, name, options and constraint names; the quantity's check is built
    by ``quantity_gt_0`` (the database's last word: no line of no units). A refund's line is money per
    order line, not units: it uses ``order_line_field`` alone."""

    order_line = order_line_field()
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.product_name}"

    @staticmethod
    def quantity_gt_0(name: str) -> models.CheckConstraint:
        return models.CheckConstraint(condition=Q(quantity__gt=0), name=name)
