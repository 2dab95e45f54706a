"""The dispatch queue: what the warehouse must send (replacements, re-shipped parts), with its ship form."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from aftersales.admin import ReadOnlyAdmin
from aftersales.errors import DomainError
from tickets.presenters import short_time
from warehouse import forms as warehouse_forms
from warehouse import selectors, services
from warehouse.admin.common import OpenFilter, goods_of, refuse_unless_clerk, ticket_link
from warehouse.models import OutboundRequest


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
        """The ship form: where the parcel goes (the buyer's name and address from the order), what is on hand
        of each SKU, the units to send, the courier picked from the list (or typed) and the tracking number.
        A refusal keeps what was typed."""
        refuse_unless_clerk(request)
        to_ship = get_object_or_404(OutboundRequest.objects.select_related(
            "ticket__buyer", "ticket__order__buyer", "ticket__order__shop", "requested_by"), pk=request_id)
        request_lines = list(to_ship.lines.select_related("order_line").order_by("pk"))
        form = warehouse_forms.ShipForm(request.POST or None, request_lines=request_lines,
                                        on_hand=selectors.stock_on_hand(line.order_line.sku for line in request_lines))
        if request.method == "POST" and form.is_valid():
            try:
                services.ship_request(request_id=to_ship.pk, actor=request.user, lines=form.lines(),
                                      courier=form.cleaned_data["courier_name"],
                                      tracking_no=form.cleaned_data["tracking_no"])
            except DomainError as exc:
                form.add_error(form.field_for(exc.field), exc.detail)
            else:
                self.message_user(request, _("%(no)s shipped: the buyer confirms receipt.") % {
                    "no": to_ship.ticket.ticket_no}, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:warehouse_outboundrequest_changelist"))
        return TemplateResponse(request, "admin/warehouse/ship.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form, "to_ship": to_ship,
            "ticket": to_ship.ticket, "ship_to": to_ship.ticket.order.buyer,
            "title": _("Ship %(no)s") % {"no": to_ship.ticket.ticket_no},
            "shippable": to_ship.status == OutboundRequest.Status.OPEN})
