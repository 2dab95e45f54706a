"""The stock ledger: balances per SKU and location, and every movement behind them."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from aftersales.admin import ReadOnlyAdmin
from tickets.presenters import short_time
from warehouse import selectors
from warehouse.admin.common import ticket_link
from warehouse.models import StockBalance, StockMovement


@admin.register(StockBalance)
class StockBalanceAdmin(ReadOnlyAdmin):
    """Current quantities per SKU and location, as the after-sales movements add up (checked against the
    ledger on every view: a mismatch is shown, never silently corrected)."""

    list_display = ["sku", "location", "quantity", "updated_at"]
    list_filter = ["location"]
    search_fields = ["sku"]
    search_help_text = _("part of a SKU")
    list_display_links = None
    show_full_result_count = False

    def changelist_view(self, request, extra_context=None):
        mismatches = selectors.stock_mismatches()
        for sku, location, balance, ledger in mismatches[:10]:
            self.message_user(request, _("%(sku)s %(location)s: balance %(balance)s, movements add up to "
                                         "%(ledger)s.") % {"sku": sku, "location": location, "balance": balance,
                                                          "ledger": ledger}, messages.ERROR)
        return super().changelist_view(request, {"title": _("Stock after returns and replacements"),
                                                  **(extra_context or {})})


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["at_short", "sku", "location", "signed_quantity", "kind", "ticket_no", "operator"]
    list_filter = ["kind", "location"]
    search_fields = ["sku", "=ticket__ticket_no"]
    search_help_text = _("part of a SKU, or a ticket no")
    list_select_related = ["ticket", "operator"]
    date_hierarchy = "at"
    list_display_links = None
    show_full_result_count = False

    @admin.display(description=_("at"), ordering="at")
    def at_short(self, movement):
        return short_time(movement.at)

    @admin.display(description=_("quantity"), ordering="quantity")
    def signed_quantity(self, movement):
        return f"{movement.quantity:+d}"

    @admin.display(description=_("ticket no"))
    def ticket_no(self, movement):
        return ticket_link(movement.ticket)
