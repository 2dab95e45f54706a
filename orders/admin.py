from django.contrib import admin

from aftersales.admin import ReadOnlyAdmin, ReadOnlyInline
from orders.models import Buyer, Order, OrderLine, Shop


class OrderLineInline(ReadOnlyInline):
    """The mirror is written by the import only."""

    model = OrderLine
    fields = ["line_id", "sku", "product_name", "product_code", "category", "unit_price", "quantity", "paid_amount"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["order_no", "shop", "buyer", "status", "placed_at", "delivered_at", "amount_paid"]
    list_filter = ["status", "shop"]
    search_fields = ["=order_no", "=buyer__account"]
    list_select_related = ["shop", "buyer"]
    show_full_result_count = False
    inlines = [OrderLineInline]


@admin.register(Buyer)
class BuyerAdmin(ReadOnlyAdmin):
    list_display = ["account", "level", "address"]
    search_fields = ["=account"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "return_contact", "return_phone", "return_address"]
    fields = ["code", "name", "return_contact", "return_phone", "return_address"]
    readonly_fields = ["code", "name"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
