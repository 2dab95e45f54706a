from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from aftersales.admin import ReadOnlyAdmin, ReadOnlyInline
from orders import pages
from orders.models import Buyer, Order, OrderLine, Shop, ShopAccount


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
    readonly_fields = ["after_sales"]

    @admin.display(description=_("after-sales tickets"))
    def after_sales(self, order):
        """Links to what other parts keep about the order (orders.pages: tickets registers its own)."""
        links = pages.links_for(order)
        if not links:
            return "—"
        return format_html('<ul class="order-links">{}</ul>',
                           format_html_join("", '<li><a href="{}">{}</a></li>', ((url, text) for text, url in links)))


@admin.register(Buyer)
class BuyerAdmin(ReadOnlyAdmin):
    list_display = ["account", "level", "address"]
    search_fields = ["=account"]


class ShopAccountInline(admin.TabularInline):
    """The service accounts that speak for this shop (the events feed shows them its events only)."""

    model = ShopAccount
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    inlines = [ShopAccountInline]
    list_display = ["code", "name", "return_contact", "return_phone", "return_address"]
    fields = ["code", "name", "return_contact", "return_phone", "return_address"]
    readonly_fields = ["code", "name"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
