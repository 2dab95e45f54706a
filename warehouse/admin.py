from django.contrib import admin

from aftersales.admin import ReadOnlyAdmin, ReadOnlyInline
from warehouse.models import Inbound, InboundLine, Outbound, OutboundLine


class InboundLineInline(ReadOnlyInline):
    model = InboundLine
    fields = readonly_fields = ["order_line", "quantity", "accepted"]


class OutboundLineInline(ReadOnlyInline):
    model = OutboundLine
    fields = readonly_fields = ["order_line", "quantity"]


class RecordsAdmin(ReadOnlyAdmin):
    list_select_related = ["ticket", "operator"]
    search_fields = ["=ticket__ticket_no"]
    show_full_result_count = False


@admin.register(Inbound)
class InboundAdmin(RecordsAdmin):
    list_display = ["type", "ticket", "created_at", "operator", "note"]
    list_filter = ["type"]
    inlines = [InboundLineInline]


@admin.register(Outbound)
class OutboundAdmin(RecordsAdmin):
    list_display = ["type", "purpose", "ticket", "created_at", "operator", "courier", "tracking_no"]
    list_filter = ["purpose"]
    inlines = [OutboundLineInline]
