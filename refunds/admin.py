from django.contrib import admin

from aftersales.admin import ReadOnlyAdmin
from refunds.models import Refund


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "amount", "status", "attempts", "gateway_reference", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["=ticket__ticket_no", "=gateway_reference"]
    list_select_related = ["ticket"]
    show_full_result_count = False

