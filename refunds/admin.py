"""Finance in the admin: refund records and finance's queue. Finance's actions on the ticket page and
list are added through tickets' doors (refunds.screens, registered from RefundsConfig.ready)."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Prefetch, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rangefilter.filters import NumericRangeFilter

from aftersales.admin import CappedCountPaginator, ReadOnlyAdmin, ReadOnlyInline, YesNoFilter
from aftersales.errors import DomainError
from aftersales.money import currency_symbol, format_money, money
from aftersales.roles import FINANCE, in_group
from refunds import selectors, services
from refunds.breakdown import goods_rows
from refunds.models import (
    Refund,
    RefundAttempt,
    RefundLine,
    RefundQueueTicket,
    gateway_words,
    reference_in_words,
)
from refunds.screens import finance_approve_selected, outcome_messages
from tickets import panel
from tickets.models import EventKind, TicketLine, TimelineEvent
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
        if self.value() == "failed":  # settled ones (the ticket was paid another way) need nothing more
            return queryset.filter(status=Refund.Status.FAILED, superseded_by__isnull=True)
        if self.value() == "stuck":
            return queryset.filter(selectors.stuck())
        return queryset


class ManualPaymentForm(forms.Form):
    reason = forms.CharField(label=_("How the buyer was paid, and why by hand"), max_length=500)
    reference = forms.CharField(label=_("Transfer reference"), max_length=80, required=False)


@admin.register(Refund)
class RefundAdmin(BulkTicketActions, ReadOnlyAdmin):
    """Every refund with its breakdown and every gateway call; finance sends a stuck one again (same key)
    or records one the gateway refused as paid by hand (why, who: audited)."""

    list_display = ["ticket", "amount_shown", "status_shown", "attempts", "last_error", "reference", "created_at",
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
                           ("attempts", "reference", "failure_reason"), ("paid_manually_by", "manual_reason"),
                           "superseded_by"]}),
        (_("idempotency key"), {"classes": ["collapse"], "fields": ["uuid"]}),
    ]
    readonly_fields = ["uuid", "ticket", "status", "amount", "shipping", "coupon", "virtual_currency", "requested_by",
                       "created_at", "attempts", "reference", "failure_reason", "finished_at",
                       "paid_manually_by", "manual_reason", "superseded_by"]

    def get_queryset(self, request):
        last_error = RefundAttempt.objects.filter(refund=OuterRef("pk")).exclude(error="").order_by("-at", "-pk")
        return super().get_queryset(request).annotate(last_error_text=Subquery(last_error.values("error")[:1]))

    def has_finance_permission(self, request):
        return in_group(request.user, FINANCE)

    @admin.display(description=_("last error"))
    def last_error(self, refund):
        return gateway_words(refund.failure_reason or refund.last_error_text or "") or "—"

    @admin.display(description=_("amount"), ordering="amount")
    def amount_shown(self, refund):
        return format_money(refund.amount)

    @admin.display(description=_("status"), ordering="status")
    def status_shown(self, refund):
        if refund.superseded_by_id:
            return _("refused; settled: the ticket was paid by a later refund")
        return refund.get_status_display()

    @admin.display(description=_("gateway reference"), ordering="gateway_reference")
    def reference(self, refund):
        return reference_in_words(refund.gateway_reference) or "—"

    @admin.action(description=_("Send again now (stuck refunds under way; same idempotency key)"),
                  permissions=["finance"])
    def retry_selected(self, request, queryset):
        """For refunds under way whose calls got no answer: sent again now, the provider asked first. Each one
        reports what became of it (paid, refused, or still without an answer)."""
        done, refused = [], []
        for pk, ticket_id, number in queryset.values_list("pk", "ticket_id", "ticket__ticket_no"):
            try:
                services.retry_refund(refund_id=pk, actor=request.user)
                done.append((ticket_id, number))
            except DomainError as exc:
                refused.append((number, exc.detail))
        for level, text in outcome_messages(done, refused):
            self.message_user(request, text, level)

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


class RefundTroubleFilter(admin.SimpleListFilter):
    """The tickets whose refund went wrong: refused by the gateway (and not paid since), or stuck on its way."""

    title = _("refund sent")
    parameter_name = "refund"

    def lookups(self, request, model_admin):
        return [("refused", _("refused by the gateway")), ("stuck", _("stuck: the gateway has not answered")),
                ("new", _("not sent yet"))]

    def queryset(self, request, queryset):
        if self.value() == "refused":
            return queryset.filter(refund_refused=True, refund_stuck=False)
        if self.value() == "stuck":
            return queryset.filter(refund_stuck=True)
        if self.value() == "new":
            return queryset.filter(refund_refused=False, refund_stuck=False)
        return queryset


def _goods_row(row) -> str:
    refused = format_html(' <span class="refused-units">{}</span>', ngettext(
        "%(n)d refused at inspection, not refunded", "%(n)d refused at inspection, not refunded", row.refused) % {
        "n": row.refused}) if row.refused else ""
    return format_html('<tr><td>{}{}</td><td class="num">{} × {}</td><td class="num">{}</td></tr>', row.product,
                       refused, format_money(row.unit_price), row.units, format_money(row.amount))


# Finance's decisions on a ticket: once done, the ticket has left the queue (or come back to it, marked).
QUEUE_ACTIONS = ("finance_approve", "finance_reject")


@admin.register(RefundQueueTicket)
class RefundQueueAdmin(BulkTicketActions, ReadOnlyAdmin):
    """Finance's queue (SPEC §8, seed 001): each approved refund with its goods line by line and what else
    goes back, the oldest decision first; approve a selection (shown with the count and the total, asked
    once) or send it back to ops with a reason. The ticket page has the same two actions."""

    list_display = ["ticket_link", "refund_sent", "applied_at", "reviewed", "goods", "extras", "refund_total", "due"]
    list_filter = [RefundTroubleFilter, ("created_at", AppliedRangeFilter), "shop", ("refund_amount", NumericRangeFilter),
                   EscalatedFilter]
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
    # A ticket opened from the queue is finance's view of it: the ticket page's panel, acting through the
    # queue's own act view, the breadcrumb back to the queue with its filters, and back to it once done.
    list_display_links = ["ticket_link"]
    change_form_template = "admin/refunds/refundqueueticket/change_form.html"
    fieldsets = [(_("money"), {"classes": ["collapse"], "fields": [
        "goods_amount", "shipping_refund", "coupon_refund", "virtual_currency_refund", "service_fee", "fee_reason",
        "refund_amount"]})]

    def get_queryset(self, request):
        inspections = TimelineEvent.objects.filter(transition=EventKind.RECEIVE_GOODS).order_by("-at", "-pk")
        return (selectors.list_tickets_for_finance(base=super().get_queryset(request), with_stuck=True)
                .prefetch_related(Prefetch("lines", queryset=TicketLine.objects.select_related("order_line")
                                           .order_by("pk")),
                                  Prefetch("events", queryset=inspections, to_attr="inspections")))

    def has_finance_permission(self, request):
        return in_group(request.user, FINANCE)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description=_("ticket no"), ordering="ticket_no")
    def ticket_link(self, ticket):
        return ticket.ticket_no  # the admin links it to finance's view, the queue's filters kept

    def get_readonly_fields(self, request, obj=None):
        return [f for _, opts in self.fieldsets for f in opts["fields"]]

    def get_urls(self):
        return [path("<int:ticket_id>/act/", self.admin_site.admin_view(self.act_view),
                     name="refunds_refundqueueticket_act"), *super().get_urls()]

    def _filters(self, request) -> str:
        """The queue's filters the user came with (Django's preserved filters), to go back to them."""
        return request.GET.get("_changelist_filters", "")

    def _with_filters(self, url: str, request) -> str:
        filters = self._filters(request)
        return f"{url}?{urlencode({'_changelist_filters': filters})}" if filters else url

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self.get_object(request, object_id)
        extra = {}
        if ticket is not None:
            extra = {**panel.page_context(request, ticket), "title": ticket.ticket_no,
                     "act_url": self._with_filters(reverse("admin:refunds_refundqueueticket_act", args=[ticket.pk]),
                                                   request)}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def act_view(self, request, ticket_id):
        """The ticket page's actions, from finance's view: refused or sent back from a confirmation, the user
        stays on this view; done, back to the queue as it was filtered."""
        if not self.has_finance_permission(request):
            raise PermissionDenied
        ticket = get_object_or_404(RefundQueueTicket.objects.select_related("buyer", "shop"), pk=ticket_id)
        queue = reverse("admin:refunds_refundqueueticket_changelist")
        filters = self._filters(request)
        return panel.act(request, ticket, panel.actions(), admin_site=self.admin_site, message_user=self.message_user,
                         back_url=self._with_filters(reverse("admin:refunds_refundqueueticket_change",
                                                             args=[ticket.pk]), request),
                         done_url=(f"{queue}?{filters}" if filters else queue)
                         if request.POST.get("action") in QUEUE_ACTIONS else None)

    @admin.display(description=_("applied at"), ordering="created_at")
    def applied_at(self, ticket):
        return short_time(ticket.created_at)

    @admin.display(description=_("reviewed by ops"), ordering="reviewed_at")
    def reviewed(self, ticket):
        who = ticket.reviewer.get_username() if ticket.reviewer_id else _("the system")
        return format_html("{} · {}", short_time(ticket.reviewed_at or ticket.approved_at), who)

    @admin.display(description=_("refund sent"))
    def refund_sent(self, ticket):
        """The queue's marker: this ticket's refund was refused by the gateway, or is stuck on its way."""
        if getattr(ticket, "refund_stuck", False):
            return format_html('<span class="refund-mark refund-stuck">⏳ {}</span>', _("stuck: no answer"))
        if getattr(ticket, "refund_refused", False):
            return format_html('<span class="refund-mark refund-refused">⚠ {}</span>', _("refused by the gateway"))
        return "—"

    @admin.display(description=_("goods: unit price × quantity = refund"))
    def goods(self, ticket):
        """Line by line, adding up to the goods of the refund: units the inspection refused are shown and
        not paid."""
        inspections = getattr(ticket, "inspections", None)
        inspection = inspections[0].inspection if inspections else None
        rows = goods_rows(ticket.lines.all(), inspection, ticket.goods_amount)
        return format_html('<table class="queue-lines">{}</table>', format_html_join("", "{}", (
            (_goods_row(row),) for row in rows)))

    @admin.display(description=_("also refunded"))
    def extras(self, ticket):
        parts = [(label, value) for label, value in (
            (_("shipping"), ticket.shipping_refund), (_("coupon back"), ticket.coupon_refund),
            (_("points back"), ticket.virtual_currency_refund), (_("service fee kept"), ticket.service_fee))
            if value]
        if ticket.is_compensation:
            parts.insert(0, (_("compensation"), ticket.refund_amount))
        return format_html_join(mark_safe("<br>"), "{} {}", ((label, format_money(value)) for label, value in parts)) \
            if parts else "—"

    @admin.display(description=_("refund"), ordering="refund_amount")
    def refund_total(self, ticket):
        return format_html('<strong class="num refund-amount" data-amount="{}">{}</strong>', money(ticket.refund_amount),
                           format_money(ticket.refund_amount))

    @admin.display(description=_("due"), ordering="next_deadline_at")
    def due(self, ticket):
        if ticket.escalated_at:
            return format_html('{} <span title="{}">⚑</span>', due_in_words(ticket), _("escalated"))
        return due_in_words(ticket)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, {"title": _("Refunds to approve"), **(extra_context or {})})
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:  # the list's count and total, above the rows (a SQLite sum is not exact)
            totals = changelist.queryset.order_by().aggregate(
                count=Count("pk"), total=Coalesce(Sum("refund_amount"), Value(Decimal("0.00"))))
            response.context_data["queue_totals"] = {"count": totals["count"], "total": format_money(totals["total"])}
            response.context_data["currency_symbol"] = currency_symbol()
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
