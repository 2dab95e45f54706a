"""The inbound and outbound records, each with its lines (and the inspection's photos)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from aftersales.admin import ReadOnlyAdmin, ReadOnlyInline
from warehouse import selectors
from warehouse.models import Inbound, InboundLine, InboundPhoto, Outbound, OutboundLine


class InboundLineInline(ReadOnlyInline):
    model = InboundLine
    fields = readonly_fields = ["order_line", "quantity", "accepted", "reject_reason", "note"]


class InboundPhotoInline(ReadOnlyInline):
    model = InboundPhoto
    fields = readonly_fields = ["thumbnail"]

    class Media:
        css = {"all": ["warehouse/records.css"]}

    @admin.display(description=_("photo"))
    def thumbnail(self, photo):
        url = reverse("upload-file", args=[photo.upload_id])
        return format_html('<a href="{0}" target="_blank" rel="noopener"><img src="{0}" class="thumbnail"></a>',
                           url)


class OutboundLineInline(ReadOnlyInline):
    model = OutboundLine
    fields = readonly_fields = ["order_line", "quantity"]


class RecordsAdmin(ReadOnlyAdmin):
    list_select_related = ["ticket", "operator"]
    show_full_result_count = False
    date_hierarchy = "created_at"


@admin.register(Inbound)
class InboundAdmin(RecordsAdmin):
    list_display = ["type", "ticket", "created_at", "operator", "result", "note"]
    list_filter = ["type"]
    search_fields = ["=ticket__ticket_no"]
    search_help_text = _("a ticket no or the buyer's tracking no")
    inlines = [InboundLineInline, InboundPhotoInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(ticket_id__in=[row["pk"] for row in selectors.search_arrivals(term, queue=False)[:200]]), False

    @admin.display(description=_("inspection"))
    def result(self, inbound):
        lines = list(inbound.lines.all())
        refused = sum(line.quantity for line in lines if not line.accepted)
        if not refused:
            return _("all accepted")
        return ngettext("%(n)d unit refused", "%(n)d units refused", refused) % {"n": refused}


@admin.register(Outbound)
class OutboundAdmin(RecordsAdmin):
    list_display = ["type", "purpose", "ticket", "created_at", "operator", "courier", "tracking_no"]
    list_filter = ["purpose"]
    search_fields = ["=ticket__ticket_no", "tracking_no"]  # tracking no: partial, trigram index (0003)
    search_help_text = _("a ticket no, or part of a tracking no")
    inlines = [OutboundLineInline]
