"""The warehouse in the admin (SPEC §8, issue #12): the arrivals queue with its scan box and receive form,
the dispatch queue with its ship form, the shipments to hold, the stock ledger, the registers, and the
inbound and outbound records. Every button calls the same service as the API."""

import csv
from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from aftersales import clock
from aftersales.admin import ReadOnlyAdmin, ReadOnlyInline
from aftersales.errors import DomainError
from aftersales.roles import WAREHOUSE, in_group
from tickets.admin import short_time
from tickets.models import Ticket, TicketLine
from tickets.selectors import search_ticket_ids
from tickets.uploads import store_upload
from warehouse import forms as warehouse_forms
from warehouse import selectors, services
from warehouse.models import (
    ArrivalTicket,
    Inbound,
    InboundLine,
    InboundPhoto,
    Intercept,
    LostParcel,
    Outbound,
    OutboundLine,
    OutboundRequest,
    StockBalance,
    StockMovement,
    WrongShipment,
)


def ticket_link(ticket: Ticket):
    return format_html('<a href="{}">{}</a>', reverse("admin:tickets_ticket_change", args=[ticket.pk]), ticket.ticket_no)


def goods_of(lines) -> str:
    return format_html_join(mark_safe("<br>"), "{} <small>{}</small> × {}",
                            ((line.order_line.product_name, line.order_line.sku, line.quantity) for line in lines))


def _refuse_unless_clerk(request) -> None:
    if not in_group(request.user, WAREHOUSE):
        raise PermissionDenied


# ------------------------------------------------------------------------------------------- arrivals


class ParcelFilter(admin.SimpleListFilter):
    title = _("parcel")
    parameter_name = "parcel"

    def lookups(self, request, model_admin):
        return [("sent", _("sent back by the buyer")), ("not_sent", _("not sent yet"))]

    def queryset(self, request, queryset):
        if self.value() in ("sent", "not_sent"):
            return queryset.filter(return_shipments__isnull=self.value() == "not_sent").distinct()
        return queryset


class GoodsBackTypeFilter(admin.SimpleListFilter):
    title = _("type")
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [(t, t.label) for t in Ticket.Type if t.traits.goods_come_back]

    def queryset(self, request, queryset):
        return queryset.filter(type=self.value()) if self.value() else queryset


@admin.register(ArrivalTicket)
class ArrivalsAdmin(ReadOnlyAdmin):
    """Returns and exchanges whose goods are on their way back, oldest approval first. The scan box takes
    a tracking number or a ticket number (part of one, any case): one match opens its receive form."""

    list_display = ["ticket", "type", "parcel", "goods", "buyer_account", "waiting_since", "return_by", "receive"]
    list_display_links = None
    list_filter = [ParcelFilter, GoodsBackTypeFilter]
    search_fields = ["ticket_no"]  # the search itself: get_search_results (indexed, partial)
    search_help_text = _("scan or type a tracking no or ticket no")
    ordering = ["approved_at", "id"]
    list_per_page = 50
    show_full_result_count = False
    change_list_template = "admin/warehouse/arrivalticket/change_list.html"

    def get_queryset(self, request):
        return (super().get_queryset(request)
                .filter(status=Ticket.Status.AWAITING_RETURN,
                        type__in=[t for t in Ticket.Type if t.traits.goods_come_back])
                .select_related("buyer")
                .prefetch_related("return_shipments",
                                  Prefetch("lines", queryset=TicketLine.objects.select_related("order_line"))))

    def get_actions(self, request):
        return {}

    @admin.display(description=_("ticket no"), ordering="ticket_no")
    def ticket(self, ticket):
        return ticket_link(ticket)

    @admin.display(description=_("buyer's parcel"))
    def parcel(self, ticket):
        shipments = list(ticket.return_shipments.all())
        if not shipments:
            return format_html('<span class="quiet">{}</span>', _("not sent yet"))
        return format_html_join(mark_safe("<br>"), '{} <strong class="tracking">{}</strong> <small>{}</small>',
                                ((s.courier, s.tracking_no, short_time(s.created_at)) for s in shipments))

    @admin.display(description=_("goods claimed"))
    def goods(self, ticket):
        return goods_of(ticket.lines.all())

    @admin.display(description=_("buyer"), ordering="buyer__account")
    def buyer_account(self, ticket):
        return ticket.buyer.account

    @admin.display(description=_("approved at"), ordering="approved_at")
    def waiting_since(self, ticket):
        return short_time(ticket.approved_at)

    @admin.display(description=_("send by"), ordering="return_deadline")
    def return_by(self, ticket):
        return short_time(ticket.return_deadline)

    @admin.display(description="")
    def receive(self, ticket):
        return format_html('<a class="button" href="{}">{}</a>',
                           reverse("admin:warehouse_arrivalticket_receive", args=[ticket.pk]), _("Receive…"))

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(pk__in=[row["pk"] for row in selectors.search_arrivals(term)[:200]]), False

    def changelist_view(self, request, extra_context=None):
        """A scan that finds one ticket opens its receive form at once; one that finds none says why."""
        term = request.GET.get("q", "").strip()
        if term:
            found = list(self.get_queryset(request).filter(
                pk__in=[row["pk"] for row in selectors.search_arrivals(term)[:2]]).values_list("pk", flat=True)[:2])
            if len(found) == 1:
                return HttpResponseRedirect(reverse("admin:warehouse_arrivalticket_receive", args=found))
            if not found:
                elsewhere = Ticket.objects.filter(pk__in=[row["pk"] for row in search_ticket_ids(term)[:5]])
                for ticket in elsewhere[:5]:
                    self.message_user(request, _("%(no)s is %(status)s: nothing to receive.") % {
                        "no": ticket.ticket_no, "status": ticket.get_status_display()}, messages.WARNING)
                if not elsewhere:
                    self.message_user(request, _("Nothing awaiting return matches “%(term)s”.") % {"term": term},
                                      messages.WARNING)
        return super().changelist_view(request, {"title": _("Arrivals to receive"), **(extra_context or {})})

    def get_urls(self):
        return [path("<int:ticket_id>/receive/", self.admin_site.admin_view(self.receive_view),
                     name="warehouse_arrivalticket_receive"), *super().get_urls()]

    def receive_view(self, request, ticket_id):
        """The receive form: per claimed line the units that arrived and the inspection, then photos. A
        refusal keeps what was typed (the photos must be chosen again: browsers do not keep files)."""
        _refuse_unless_clerk(request)
        ticket = get_object_or_404(Ticket.objects.select_related("buyer", "order", "reason"), pk=ticket_id)
        form = warehouse_forms.ReceiveForm(request.POST or None, request.FILES or None, ticket=ticket)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    photo_ids = [store_upload(actor=request.user, file=file).pk for file in form.cleaned_data["photos"]]
                    services.record_inbound(ticket_id=ticket.pk, actor=request.user, lines=form.lines(),
                                            note=form.cleaned_data["note"], photo_ids=photo_ids)
            except DomainError as exc:
                form.add_error(form.field_for(exc.field), exc.detail)
            else:
                ticket.refresh_from_db()
                self.message_user(request, _("%(no)s received: %(status)s.") % {
                    "no": ticket.ticket_no, "status": ticket.get_status_display()}, messages.SUCCESS)
                if ticket.status == Ticket.Status.PENDING_REVIEW:
                    self.message_user(request, _("Not everything passed: the ticket went back to ops review."),
                                      messages.WARNING)
                return HttpResponseRedirect(reverse("admin:warehouse_arrivalticket_changelist"))
        return TemplateResponse(request, "admin/warehouse/receive.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form, "ticket": ticket,
            "title": _("Receive %(no)s") % {"no": ticket.ticket_no},
            "shipments": ticket.return_shipments.all(),
            "receivable": ticket.status == Ticket.Status.AWAITING_RETURN and ticket.goods_come_back})


# ------------------------------------------------------------------------------------------- dispatch


class OpenFilter(admin.SimpleListFilter):
    """A to-do list opens on what is still to do."""

    title = _("status")
    parameter_name = "state"
    open_value = "open"

    def lookups(self, request, model_admin):
        return [*model_admin.model.Status.choices, ("all", _("all"))]

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {"selected": (self.value() or self.open_value) == value, "display": label,
                   "query_string": changelist.get_query_string({self.parameter_name: value})}

    def queryset(self, request, queryset):
        value = self.value() or self.open_value
        return queryset if value == "all" else queryset.filter(status=value)


@admin.register(OutboundRequest)
class DispatchAdmin(ReadOnlyAdmin):
    """What the warehouse must send: exchanges' replacements and parts ops asked to re-ship, oldest first;
    each with its ship form."""

    list_display = ["ticket_no", "purpose", "goods", "requested", "ticket_status", "note", "ship"]
    list_display_links = None
    list_filter = [OpenFilter, "purpose"]
    search_fields = ["=ticket__ticket_no"]
    search_help_text = _("a ticket no")
    ordering = ["requested_at", "pk"]
    list_per_page = 50
    show_full_result_count = False
    change_list_template = "admin/warehouse/outboundrequest/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("ticket", "requested_by", "outbound").prefetch_related(
            "lines__order_line")

    def get_actions(self, request):
        return {}

    @admin.display(description=_("ticket no"), ordering="ticket__ticket_no")
    def ticket_no(self, request_row):
        return ticket_link(request_row.ticket)

    @admin.display(description=_("goods to send"))
    def goods(self, request_row):
        return goods_of(request_row.lines.all())

    @admin.display(description=_("requested"), ordering="requested_at")
    def requested(self, request_row):
        return format_html("{} · {}", short_time(request_row.requested_at), request_row.requested_by.get_username())

    @admin.display(description=_("ticket status"))
    def ticket_status(self, request_row):
        return request_row.ticket.get_status_display()

    @admin.display(description="")
    def ship(self, request_row):
        if request_row.status != OutboundRequest.Status.OPEN:
            outbound = request_row.outbound
            return f"{outbound.courier} {outbound.tracking_no}" if outbound else "—"
        return format_html('<a class="button" href="{}">{}</a>',
                           reverse("admin:warehouse_outboundrequest_ship", args=[request_row.pk]), _("Ship…"))

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": OutboundRequest._meta.verbose_name_plural.capitalize(),
                                                  **(extra_context or {})})

    def get_urls(self):
        return [path("<int:request_id>/ship/", self.admin_site.admin_view(self.ship_view),
                     name="warehouse_outboundrequest_ship"), *super().get_urls()]

    def ship_view(self, request, request_id):
        _refuse_unless_clerk(request)
        to_ship = get_object_or_404(OutboundRequest.objects.select_related("ticket__buyer", "requested_by"),
                                    pk=request_id)
        form = warehouse_forms.ShipForm(request.POST or None,
                                        request_lines=to_ship.lines.select_related("order_line").order_by("pk"))
        if request.method == "POST" and form.is_valid():
            try:
                services.ship_request(request_id=to_ship.pk, actor=request.user, lines=form.lines(),
                                      courier=form.cleaned_data["courier"], tracking_no=form.cleaned_data["tracking_no"])
            except DomainError as exc:
                form.add_error(form.field_for(exc.field), exc.detail)
            else:
                self.message_user(request, _("%(no)s shipped: the buyer confirms receipt.") % {
                    "no": to_ship.ticket.ticket_no}, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:warehouse_outboundrequest_changelist"))
        return TemplateResponse(request, "admin/warehouse/ship.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form, "to_ship": to_ship,
            "ticket": to_ship.ticket, "title": _("Ship %(no)s") % {"no": to_ship.ticket.ticket_no},
            "shippable": to_ship.status == OutboundRequest.Status.OPEN})


# ------------------------------------------------------------------------------------------ intercepts


class InterceptOpenFilter(OpenFilter):
    pass


@admin.register(Intercept)
class InterceptAdmin(ReadOnlyAdmin):
    """Orders not yet shipped whose refund-only claim was approved: hold or cancel the parcel, then say
    how it ended (held, or too late)."""

    list_display = ["ticket_no", "order_no", "goods", "requested", "status", "done", "note", "mark"]
    list_display_links = None
    list_filter = [InterceptOpenFilter]
    search_fields = ["=ticket__ticket_no", "=ticket__order__order_no"]
    search_help_text = _("a ticket no or an order no")
    ordering = ["requested_at", "pk"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("ticket__order", "done_by").prefetch_related(
            Prefetch("ticket__lines", queryset=TicketLine.objects.select_related("order_line")))

    def get_actions(self, request):
        return {}

    @admin.display(description=_("ticket no"), ordering="ticket__ticket_no")
    def ticket_no(self, intercept):
        return ticket_link(intercept.ticket)

    @admin.display(description=_("order no"))
    def order_no(self, intercept):
        return intercept.ticket.order.order_no

    @admin.display(description=_("goods"))
    def goods(self, intercept):
        return goods_of(intercept.ticket.lines.all())

    @admin.display(description=_("requested at"), ordering="requested_at")
    def requested(self, intercept):
        return short_time(intercept.requested_at)

    @admin.display(description=_("done"))
    def done(self, intercept):
        if intercept.done_at is None:
            return "—"
        return format_html("{} · {}", short_time(intercept.done_at), intercept.done_by.get_username())

    @admin.display(description="")
    def mark(self, intercept):
        if intercept.status != Intercept.Status.OPEN:
            return ""
        return format_html('<a class="button" href="{}">{}</a>',
                           reverse("admin:warehouse_intercept_mark", args=[intercept.pk]), _("Mark done…"))

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": _("Shipments to hold"), **(extra_context or {})})

    def get_urls(self):
        return [path("<int:intercept_id>/mark/", self.admin_site.admin_view(self.mark_view),
                     name="warehouse_intercept_mark"), *super().get_urls()]

    def mark_view(self, request, intercept_id):
        """Two forms, one per outcome: Enter in the note submits only the form it was typed in."""
        _refuse_unless_clerk(request)
        intercept = get_object_or_404(Intercept.objects.select_related("ticket__order"), pk=intercept_id)
        outcome = request.POST.get("outcome") if request.method == "POST" else None
        held = warehouse_forms.HeldForm(request.POST if outcome == "held" else None, prefix="held")
        too_late = warehouse_forms.TooLateForm(request.POST if outcome == "too_late" else None, prefix="too_late")
        form = {"held": held, "too_late": too_late}.get(outcome)
        if form is not None and form.is_valid():
            try:
                services.record_intercept_result(intercept_id=intercept.pk, actor=request.user,
                                                 held=outcome == "held", note=form.cleaned_data["note"])
            except DomainError as exc:
                form.add_error("note" if exc.field == "note" else None, exc.detail)
            else:
                intercept.refresh_from_db()
                self.message_user(request, _("%(no)s: %(status)s.") % {
                    "no": intercept.ticket.ticket_no, "status": intercept.get_status_display()}, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:warehouse_intercept_changelist"))
        return TemplateResponse(request, "admin/warehouse/intercept_mark.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "intercept": intercept,
            "ticket": intercept.ticket, "held_form": held, "too_late_form": too_late,
            "title": _("Hold the shipment of %(order)s") % {"order": intercept.ticket.order.order_no}})


# --------------------------------------------------------------------------------------- stock ledger


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


# ------------------------------------------------------------------------------------------ registers


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
        obj.pk, obj.order, obj.ticket = created.pk, created.order, created.ticket

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
        stamp = clock.now().strftime("%Y%m%d")
        response["Content-Disposition"] = f'attachment; filename="{self.opts.model_name}-{stamp}.csv"'
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow([str(label) for _, label in self.CSV_COLUMNS])
        for incident in rows.iterator(chunk_size=500):
            writer.writerow([incident.occurred_on.isoformat(), incident.order.order_no,
                             incident.ticket.ticket_no if incident.ticket_id else "", incident.sku, incident.courier,
                             incident.tracking_no, incident.description, str(incident.cost),
                             incident.recorded_by.get_username(), incident.recorded_at.isoformat()])
        return response


@admin.register(WrongShipment)
class WrongShipmentAdmin(RegisterAdmin):
    kind = "wrong_item"


@admin.register(LostParcel)
class LostParcelAdmin(RegisterAdmin):
    kind = "lost_parcel"


# ------------------------------------------------------------------------------------------- records


class InboundLineInline(ReadOnlyInline):
    model = InboundLine
    fields = readonly_fields = ["order_line", "quantity", "accepted", "reject_reason", "note"]


class InboundPhotoInline(ReadOnlyInline):
    model = InboundPhoto
    fields = readonly_fields = ["thumbnail"]

    @admin.display(description=_("photo"))
    def thumbnail(self, photo):
        url = reverse("upload-file", args=[photo.upload_id])
        return format_html('<a href="{0}" target="_blank" rel="noopener"><img src="{0}" style="height:96px"></a>', url)


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
        return _("%(n)d unit(s) refused") % {"n": refused}


@admin.register(Outbound)
class OutboundAdmin(RecordsAdmin):
    list_display = ["type", "purpose", "ticket", "created_at", "operator", "courier", "tracking_no"]
    list_filter = ["purpose"]
    search_fields = ["=ticket__ticket_no", "tracking_no"]  # tracking no: partial, trigram index (0003)
    search_help_text = _("a ticket no, or part of a tracking no")
    inlines = [OutboundLineInline]
