"""Couriers: the reference list the ship form offers (kept by administrators, or a warehouse lead given the
permission; clerks read it)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from warehouse.models import Courier


@admin.register(Courier)
class CourierAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "active", "position"]
    list_editable = ["active", "position"]
    list_filter = ["active"]
    search_fields = ["name", "code"]
    search_help_text = _("part of a name or code")
    ordering = ["position", "name"]

    def has_delete_permission(self, request, obj=None):
        return False  # outbounds name it: take it off the ship form instead ("offered on the ship form")
