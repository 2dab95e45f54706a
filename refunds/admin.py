from django.contrib import admin

from refunds.models import Refund


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["ticket", "amount", "status", "attempts", "gateway_reference", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["=ticket__ticket_no", "=gateway_reference"]
    list_select_related = ["ticket"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
