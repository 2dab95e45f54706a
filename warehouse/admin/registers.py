"""The registers of incidents (wrong items shipped, lost parcels), with what they cost: by month, as CSV."""

import csv
from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from aftersales import clock
from tickets.presenters import short_time
from warehouse import forms as warehouse_forms
from warehouse import services
from warehouse.admin.common import ticket_link
from warehouse.models import LostParcel, WrongShipment


def csv_time(value) -> str:
    """A time in a CSV: local, to the minute, with its UTC offset, so a spreadsheet elsewhere reads the same
    instant ("2026-12-05 15:03+08:00")."""
    return timezone.localtime(value).isoformat(sep=" ", timespec="minutes")


class MonthFilter(admin.SimpleListFilter):
    """The month's accounts: entries by the month they happened in."""

    title = _("month")
    parameter_name = "month"

    def lookups(self, request, model_admin):
        months = (model_admin.get_queryset(request).annotate(month=TruncMonth("occurred_on"))
                  .order_by("-month").values_list("month", flat=True).distinct()[:24])
        return [(month.strftime("%Y-%m"), date_format(month, "YEAR_MONTH_FORMAT")) for month in months]

    def queryset(self, request, queryset):
        value = self.value() or ""
        try:
            year, month = (int(part) for part in value.split("-"))
        except ValueError:
            return queryset
        return queryset.filter(occurred_on__year=year, occurred_on__month=month)


class RegisterAdmin(admin.ModelAdmin):
    """A register of incidents of one kind, with what they cost: by month, exportable (CSV)."""

    kind = ""
    form = warehouse_forms.IncidentForm
    list_display = ["occurred_on", "order_no", "ticket_no", "sku", "courier", "tracking_no", "description", "cost",
                    "recorded"]
    list_display_links = None
    list_filter = [MonthFilter]
    search_fields = ["=order__order_no", "tracking_no", "sku"]
    search_help_text = _("an order no, part of a tracking no or SKU")
    date_hierarchy = "occurred_on"
    list_select_related = ["order", "ticket", "recorded_by"]
    show_full_result_count = False
    change_list_template = "admin/warehouse/register_change_list.html"
    fields = ["occurred_on", "order_no", "ticket_no", "sku", "courier", "tracking_no", "description", "cost"]
    CSV_COLUMNS = [("occurred_on", _("occurred on")), ("order", _("order no")), ("ticket", _("ticket no")),
                   ("sku", _("SKU")), ("courier", _("courier")), ("tracking_no", _("tracking no")),
                   ("description", _("what happened")), ("cost", _("cost to the shop")),
                   ("recorded_by", _("recorded by")), ("recorded_at", _("recorded at"))]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind=self.kind)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.kind = self.kind
        return form

    def has_change_permission(self, request, obj=None):
        return False  # a correction is a new entry

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}

    def save_model(self, request, obj, form, change):
        terms = form.terms
        created = services.record_incident(actor=request.user, kind=self.kind, **{**terms, "cost": str(terms["cost"])})
        # The admin's "added" message names this object: it must read as the entry recorded (issue #21: its
        # kind was left empty, so the label began with " · ").
        obj.pk, obj.kind, obj.order, obj.ticket = created.pk, created.kind, created.order, created.ticket
        obj.recorded_at, obj.recorded_by = created.recorded_at, created.recorded_by

    @admin.display(description=_("order no"), ordering="order__order_no")
    def order_no(self, incident):
        return incident.order.order_no

    @admin.display(description=_("ticket no"))
    def ticket_no(self, incident):
        return ticket_link(incident.ticket) if incident.ticket_id else "—"

    @admin.display(description=_("recorded"))
    def recorded(self, incident):
        return format_html("{} · {}", short_time(incident.recorded_at), incident.recorded_by.get_username())

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data["register_totals"] = changelist.queryset.order_by().aggregate(
                count=Count("pk"), total=Coalesce(Sum("cost"), Value(Decimal("0.00"))))
            response.context_data["export_url"] = (
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_export") + changelist.get_query_string())
        return response

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        return [path("export/", self.admin_site.admin_view(self.export_view), name=name), *super().get_urls()]

    def export_view(self, request):
        """The list as filtered on screen, as CSV (a spreadsheet opens it; UTF-8 with a byte-order mark)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = self.get_changelist_instance(request).queryset.order_by("occurred_on", "pk")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localdate(clock.now()).strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="{self.opts.model_name}-{stamp}.csv"'
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow([str(label) for _, label in self.CSV_COLUMNS])
        for incident in rows.iterator(chunk_size=500):
            writer.writerow([incident.occurred_on.isoformat(), incident.order.order_no,
                             incident.ticket.ticket_no if incident.ticket_id else "", incident.sku, incident.courier,
                             incident.tracking_no, incident.description, str(incident.cost),
                             incident.recorded_by.get_username(), csv_time(incident.recorded_at)])
        return response


@admin.register(WrongShipment)
class WrongShipmentAdmin(RegisterAdmin):
    kind = "wrong_item"


@admin.register(LostParcel)
class LostParcelAdmin(RegisterAdmin):
    kind = "lost_parcel"
