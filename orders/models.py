"""The mirror of the forward orders we reverse (SPEC §2)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from aftersales.history import tracked


@tracked("ShopHistory")
class Shop(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    return_contact = models.CharField(max_length=100, blank=True)
    return_phone = models.CharField(max_length=40, blank=True)
    return_address = models.CharField(max_length=500, blank=True,
                                      help_text=_("where returned goods go unless ops sets another"))

    def __str__(self) -> str:
        return self.name


@tracked("BuyerHistory")
class Buyer(models.Model):
    account = models.CharField(max_length=150, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="buyer")
    level = models.PositiveSmallIntegerField(default=0)
    address = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.account


@tracked("OrderHistory")
class Order(models.Model):
    class Status(models.TextChoices):
        UNSHIPPED = "unshipped", _("unshipped")
        SHIPPED = "shipped", _("shipped")
        DELIVERED = "delivered", _("delivered")

    order_no = models.CharField(max_length=64, unique=True)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=16, choices=Status)
    placed_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    goods_amount = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_fee = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    coupon_discount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    virtual_currency = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["buyer", "-placed_at"]), models.Index(fields=["-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(goods_amount__gte=0, shipping_fee__gte=0, coupon_discount__gte=0,
                            virtual_currency__gte=0, amount_paid__gte=0),
                name="order_amounts_gte_0"),
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

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_id = models.CharField(max_length=64, unique=True)
    sku = models.CharField(max_length=64, db_index=True)
    product_name = models.CharField(max_length=200)
    product_code = models.CharField(max_length=64, blank=True)
    category = models.CharField(max_length=16, choices=Category)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    paid_amount = models.DecimalField(max_digits=12, decimal_places=2,
                                      help_text=_("the line's share of the amount paid"))

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0, paid_amount__gte=0),
                                   name="order_line_amounts_gte_0"),
            models.CheckConstraint(condition=Q(paid_amount__lte=F("unit_price") * F("quantity")),
                                   name="order_line_paid_not_above_price"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.product_name} ×{self.quantity}"
