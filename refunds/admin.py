"""Finance in the admin: refund records and finance's queue. Finance's actions on the ticket page and
list are added through tickets' doors (refunds.screens, registered from RefundsConfig.ready)."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import Count, Exists, OuterRef, Prefetch, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rangefilter.filters import NumericRangeFilter

from aftersales.admin import CappedCountPaginator, ReadOnlyAdmin, ReadOnlyInline, YesNoFilter
from aftersales.roles import FINANCE, in_group
from refunds import selectors, services
from refunds.models import Refund, RefundAttempt, RefundLine, RefundQueueTicket
from refunds.screens import finance_approve_selected
from tickets import panel
from tickets.models import TicketLine
from tickets.presenters import due_in_words, short_time
from tickets.queue import AppliedRangeFilter, BulkTicketActions


class RefundLineInline(ReadOnlyInline):
    model = RefundLine
    fields = readonly_fields = ["order_line", "amount"]
    verbose_name_plural = _("goods per order line")


class RefundAttemptInline(ReadOnlyInline):
    model = RefundAttempt
    fields = readonly_fields = ["at", "call", "outcome", "latency_ms", "error", "gateway_reference"]


class NeedsFinanceFilter(admin.SimpleListFilter):
    """What finance must look at: refunds the gateway refused, and refunds stuck after calls that got no
    final answer (the provider was down or slow)."""

    title = _("needs finance")
    parameter_name = "needs"

    def lookups(self, request, model_admin):
        return [("failed", _("refused by the gateway")), ("stuck", _("under way, calls without an answer"))]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.filter(status=Refund.Status.FAILED)
        if self.value() == "stuck":
            unanswered = RefundAttempt.objects.filter(refund=OuterRef("pk"), outcome__in=[
                RefundAttempt.Outcome.TRANSIENT_ERROR, RefundAttempt.Outcome.TIMEOUT])
            return queryset.filter(Exists(unanswered), status__in=[Refund.Status.PENDING, Refund.Status.IN_PROGRESS])
        return queryset


class ManualPaymentForm(forms.Form):
    reason = forms.CharField(label=_("How the buyer was paid, and why by hand"), max_length=500)
    reference = forms.CharField(label=_("Transfer reference"), max_length=80, required=False)


@admin.register(Refund)
class RefundAdmin(BulkTicketActions, ReadOnlyAdmin):
    """Every refund with its breakdown and every gateway call; finance sends a stuck one again (same key)
    or records one the gateway refused as paid by hand (why, who: audited)."""

    list_display = ["ticket", "amount", "status", "attempts", "last_error", "gateway_reference", "created_at",
                    "finished_at"]
    list_filter = [NeedsFinanceFilter, "status"]
    search_fields = ["=ticket__ticket_no", "=gateway_reference"]
    list_select_related = ["ticket"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    inlines = [RefundLineInline, RefundAttemptInline]
    actions = ["retry_selected", "mark_paid_manually"]
    # Compact, so the lines and the gateway calls below stand on the first screen.
    fieldsets = [
        (None, {"fields": [("ticket", "status", "amount"), ("shipping", "coupon", "virtual_currency"),
                           ("requested_by", "created_at", "finished_at"),
                           ("attempts", "gateway_reference", "failure_reason"), ("paid_manually_by", "manual_reason")]}),
        (_("idempotency key"), {"classes": ["collapse"], "fields": ["uuid"]}),
    ]
    readonly_fields = ["uuid", "ticket", "status", "amount", "shipping", "coupon", "virtual_currency", "requested_by",
                       "created_at", "attempts", "gateway_reference", "failure_reason", "finished_at",
                       "paid_manually_by", "manual_reason"]

    def get_queryset(self, request):
        last_error = RefundAttempt.objects.filter(refund=OuterRef("pk")).exclude(error="").order_by("-at", "-pk")
        return super().get_queryset(request).annotate(last_error_text=Subquery(last_error.values("error")[:1]))

    def has_finance_permission(self, request):
        return in_group(request.user, FINANCE)

    @admin.display(description=_("last error"))
    def last_error(self, refund):
        return refund.failure_reason or refund.last_error_text or "—"

    @admin.action(description=_("Send again now (same idempotency key)"), permissions=["finance"])
    def retry_selected(self, request, queryset):
        self._each(request, queryset, lambda pk: services.retry_refund(refund_id=pk, actor=request.user),
                   ticket_no="ticket__ticket_no", done_message=lambda n: ngettext(
                       "%(n)d refund sent again.", "%(n)d refunds sent again.", n) % {"n": n})

    @admin.action(description=_("Record as paid by hand (outside the system)…"), permissions=["finance"])
    def mark_paid_manually(self, request, queryset):
        """Its own page: what is recorded, why and the reference are asked before any refund is marked."""
        form = ManualPaymentForm(request.POST if request.POST.get("confirmed") == "yes" else None)
        if not form.is_valid():
            return TemplateResponse(request, "admin/refunds/refund/mark_paid.html", {
                **self.admin_site.each_context(request), "title": _("Record these refunds as paid by hand?"),
                "opts": self.model._meta, "form": form, "refunds": queryset.select_related("ticket"),
                "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)})
        self._each(request, queryset, lambda pk: services.mark_refund_paid_manually(
            refund_id=pk, actor=request.user, **form.cleaned_data), ticket_no="ticket__ticket_no",
            done_message=lambda n: ngettext(
                "%(n)d refund recorded as paid.", "%(n)d refunds recorded as paid.", n) % {"n": n})
        return None


class EscalatedFilter(YesNoFilter):
    title = _("escalated")
    parameter_name = "escalated"
    field = "escalated_at"
    yes_label, no_label = _("escalated"), _("not escalated")


@admin.register(RefundQueueTicket)
class RefundQueueAdmin(BulkTicketActions, ReadOnlyAdmin):
    """Finance's queue (SPEC §8, seed 001): each approved refund with its goods line by line and what else
    goes back, the oldest decision first; approve a selection (shown with the count and the total, asked
    once) or send it back to ops with a reason. The ticket page has the same two actions."""

    list_display = ["ticket_link", "applied_at", "reviewed", "goods", "extras", "refund_total", "due"]
    list_filter = [("created_at", AppliedRangeFilter), "shop", ("refund_amount", NumericRangeFilter), EscalatedFilter]
    search_fields = ["=ticket_no", "=order__order_no"]
    search_help_text = _("a ticket no or an order no")
    list_select_related = ["shop", "reviewer", "buyer"]
    list_per_page = 50
    show_full_result_count = False
    paginator = CappedCountPaginator
    # The refund's due time counts from the approval (or the goods' arrival): due first is oldest first.
    ordering = ["next_deadline_at", "id"]
    actions = [finance_approve_selected, "finance_send_back_selected"]
    change_list_template = "admin/refunds/refundqueueticket/change_list.html"

    def get_queryset(self, request):
        return (selectors.list_tickets_for_finance(base=super().get_queryset(request))
                .prefetch_related(Prefetch("lines", queryset=TicketLine.objects.select_related("order_line")
                                           .order_by("pk"))))

    def has_finance_permission(self, request):
        return in_group(request.user, FINANCE)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description=_("ticket no"), ordering="ticket_no")
    def ticket_link(self, ticket):
        return format_html('<a href="{}">{}</a>', reverse("admin:tickets_ticket_change", args=[ticket.pk]),
                           ticket.ticket_no)

    @admin.display(description=_("applied at"), ordering="created_at")
    def applied_at(self, ticket):
        return short_time(ticket.created_at)

    @admin.display(description=_("reviewed by ops"), ordering="reviewed_at")
    def reviewed(self, ticket):
        who = ticket.reviewer.get_username() if ticket.reviewer_id else _("the system")
        return format_html("{} · {}", short_time(ticket.reviewed_at or ticket.approved_at), who)

    @admin.display(description=_("goods: unit price × quantity = refund"))
    def goods(self, ticket):
        return format_html('<table class="queue-lines">{}</table>', format_html_join(
            "", '<tr><td>{}</td><td class="num">{} × {}</td><td class="num">{}</td></tr>',
            ((line.order_line.product_name, line.order_line.unit_price, line.quantity, line.refund_amount)
             for line in ticket.lines.all())))

    @admin.display(description=_("also refunded"))
    def extras(self, ticket):
        parts = [(label, value) for label, value in (
            (_("shipping"), ticket.shipping_refund), (_("coupon back"), ticket.coupon_refund),
            (_("points back"), ticket.virtual_currency_refund), (_("service fee kept"), ticket.service_fee))
            if value]
        if ticket.is_compensation:
            parts.insert(0, (_("compensation"), ticket.refund_amount))
        return format_html_join(mark_safe("<br>"), "{} {}", parts) if parts else "—"

    @admin.display(description=_("refund"), ordering="refund_amount")
    def refund_total(self, ticket):
        return format_html('<strong class="num">{}</strong>', ticket.refund_amount)

    @admin.display(description=_("due"), ordering="next_deadline_at")
    def due(self, ticket):
        if ticket.escalated_at:
            return format_html('{} <span title="{}">⚑</span>', due_in_words(ticket), _("escalated"))
        return due_in_words(ticket)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, {"title": _("Refunds to approve"), **(extra_context or {})})
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:  # the selection's count and total, above the rows
            response.context_data["queue_totals"] = changelist.queryset.order_by().aggregate(
                count=Count("pk"), total=Coalesce(Sum("refund_amount"), Value(Decimal("0.00"))))
        return response

    @admin.action(description=_("Send back to ops (with a reason)"), permissions=["finance"])
    def finance_send_back_selected(self, request, queryset):
        """Its own page and form: the reason typed there, and Enter, can only send back."""
        form = panel.SendBackForm(request.POST if request.POST.get("confirmed") == "yes" else None)
        if not form.is_valid():
            return TemplateResponse(request, "admin/refunds/refundqueueticket/send_back.html", {
                **self.admin_site.each_context(request), "title": _("Send these tickets back to ops?"),
                "opts": self.model._meta, "form": form, "tickets": queryset.values_list("ticket_no", flat=True),
                "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)})
        self._each(request, queryset, lambda pk: services.finance_reject_ticket(
            ticket_id=pk, actor=request.user, reason=form.cleaned_data["reason"]))
        return None
