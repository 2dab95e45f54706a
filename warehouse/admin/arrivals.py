"""The arrivals queue: returns and exchanges whose goods are on their way back, the scan box and the
receive form."""

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from aftersales.admin import ReadOnlyAdmin, YesNoFilter
from aftersales.errors import DomainError
from tickets.models import Ticket, TicketLine
from tickets.presenters import short_time
from tickets.selectors import search_ticket_ids
from tickets.uploads import store_upload
from warehouse import forms as warehouse_forms
from warehouse import selectors, services
from warehouse.admin.common import goods_of, refuse_unless_clerk, ticket_link
from warehouse.models import ArrivalTicket


class ParcelFilter(YesNoFilter):
    title = _("parcel")
    parameter_name = "parcel"
    field = "return_shipments"
    yes_label, no_label = _("sent back by the buyer"), _("not sent yet")
    values = ("sent", "not_sent")  # the addresses the queue has always had
    distinct = True  # one row per ticket, however many parcels


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
        refuse_unless_clerk(request)
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
