"""The shipments to hold: orders not yet shipped whose refund-only claim was approved."""

from django.contrib import admin, messages
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from aftersales.admin import ReadOnlyAdmin
from aftersales.errors import DomainError
from tickets.models import TicketLine
from tickets.presenters import short_time
from warehouse import forms as warehouse_forms
from warehouse import services
from warehouse.admin.common import OpenFilter, goods_of, refuse_unless_clerk, ticket_link
from warehouse.models import Intercept


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
        refuse_unless_clerk(request)
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
