from django.contrib import admin

from warehouse.models import Inbound, InboundLine, Outbound, OutboundLine


class LinesInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class InboundLineInline(LinesInline):
    model = InboundLine
    fields = readonly_fields = ["order_line", "quantity", "accepted"]


class OutboundLineInline(LinesInline):
    model = OutboundLine
    fields = readonly_fields = ["order_line", "quantity"]


class RecordsAdmin(admin.ModelAdmin):
    list_select_related = ["ticket", "operator"]
    search_fields = ["=ticket__ticket_no"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
