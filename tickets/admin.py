"""The ops queue and the review page (SPEC §8). Every button calls the same service as the API.

Parts downstream of tickets add their own actions to this page by subclassing TicketAdmin and
registering it again (refunds.admin adds finance's): tickets never imports them."""


from datetime import UTC, datetime
from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import label_for_field
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timezone import localtime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from rangefilter.filters import DateRangeFilter

from aftersales import clock, preferences
from aftersales.admin import CappedCountPaginator
from aftersales.errors import DomainError
from aftersales.roles import FINANCE, OPS, WAREHOUSE, in_group
from tickets import panel, presenters, selectors, services
from tickets.models import EventKind, ReplyTemplate, Ticket, Upload


class AppliedRangeFilter(DateRangeFilter):
    """The claim's date range, by the name staff know it by ("applied at", not the column's name)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("applied at")


class ApprovedFilter(admin.SimpleListFilter):
    title = _("approved by review")
    parameter_name = "approved"

    def lookups(self, request, model_admin):
        return [("yes", _("approved")), ("no", _("not approved"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(approved_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(approved_at__isnull=True)
        return queryset


class AttentionFilter(admin.SimpleListFilter):
    """The queue's markers as filters: what needs a reviewer's eye first."""

    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [(name, label) for name, (label, _q) in selectors.ATTENTION.items()]

    def queryset(self, request, queryset):
        return selectors.with_attention(queryset, self.value(), now=clock.now()) if self.value() else queryset


class MineFilter(admin.SimpleListFilter):
    title = _("whose")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("assigned", _("assigned to me")), ("reviewed", _("reviewed by me")),
                ("unassigned", _("nobody's yet"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "assigned":
            return queryset.filter(assignee=request.user)
        if value == "reviewed":
            return queryset.filter(reviewer=request.user)
        if value == "unassigned":
            return queryset.filter(assignee__isnull=True)
        return queryset


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    """The reply library: administrators keep it (the model's change permission); ops read it and insert
    replies from the review page."""

    list_display = ["title", "step", "text", "display_order", "is_active"]
    list_filter = ["step", "is_active"]
    list_editable = ["display_order", "is_active"]
    search_fields = ["title", "text"]


FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)  # "nothing due" sorts last, as NULLS LAST does
SEARCH_CAP = 1000


class BulkTicketActions:
    """Bulk actions over tickets on a list: each ticket through its service, refusals named."""

    def _confirm_bulk(self, request, queryset, action: str, amount_of, title):
        """A bulk action that moves money first shows each ticket with its amount (or why it would be
        refused), the count and the total, and asks once; None once confirmed."""
        if request.POST.get("confirmed") == "yes":
            return None
        rows, total = [], Decimal("0.00")
        for pk, ticket_no in queryset.values_list("pk", "ticket_no"):
            try:
                value = amount_of(pk)
                rows.append((ticket_no, value, ""))
                total += value
            except DomainError as exc:
                rows.append((ticket_no, None, exc.detail))
        doable = [row for row in rows if row[1] is not None]
        return TemplateResponse(request, "admin/tickets/ticket/confirm_bulk.html", {
            **self.admin_site.each_context(request), "title": title, "opts": self.model._meta, "action": action,
            "rows": rows, "count": len(doable), "total": total,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)})

    def _each(self, request, queryset, action, *, ticket_no="ticket_no", done_message=None) -> None:
        """``action(pk)`` for each selected row; a refusal is named by its ticket no (``ticket_no``: where
        the row keeps it), the rest go on; then how many were done."""
        done = 0
        for pk, number in queryset.values_list("pk", ticket_no):
            try:
                action(pk)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{number}: {exc.detail}", messages.WARNING)
        if done:
            self.message_user(request, (done_message or _("%(n)d ticket(s) done.")) % {"n": done}, messages.SUCCESS)


@admin.register(Ticket)
class TicketAdmin(BulkTicketActions, admin.ModelAdmin):
    list_display = ["ticket_no", "order_no", "shop_name", "type", "refund", "applied_at", "due",
                    "reviewed", "order_placed_at", "status_badge"]
    list_display_links = ["ticket_no"]
    # Each user may hide, reorder and freeze these (aftersales.preferences); the ticket no always shows.
    COLUMNS = "tickets.ticket"
    FIXED_COLUMNS = ("ticket_no",)
    list_filter = ["status", AttentionFilter, MineFilter, "type", ("created_at", AppliedRangeFilter),
                   ("order__placed_at", DateRangeFilter), ApprovedFilter, "shop"]
    search_fields = ["ticket_no"]  # the search itself: get_search_results (partial, indexed, four sources)
    search_help_text = _("part of a ticket no, order no, buyer account or tracking no")
    list_select_related = ["order", "shop", "assignee"]
    list_per_page = 50
    show_full_result_count = False  # a count over millions of rows on every page is not worth its time
    paginator = CappedCountPaginator
    # A work queue: what is due first; tickets nothing is due of (finished ones) last. Index: ticket_queue_due.
    ordering = [F("next_deadline_at").asc(nulls_last=True), "id"]
    actions = ["assign_to_me", "approve_selected"]
    # Goods, photos, notes and the timeline stand in the review panel, beside the actions.
    change_form_template = "admin/tickets/ticket/change_form.html"
    change_list_template = "admin/tickets/ticket/change_list.html"
    fieldsets = [
        (_("basic"), {"classes": ["collapse"], "fields": ["ticket_no", "created_at", "reviewed_at", "reviewer", "order_no", "order_placed_at",
                                 "type", "status", "reason", "description", "rejection_reason",
                                 "finance_rejection_reason"]}),
        (_("money"), {"classes": ["collapse"], "fields": ["goods_amount", "shipping_refund", "coupon_refund", "virtual_currency_refund",
                                 "service_fee", "fee_reason", "refund_amount", "is_compensation", "refunds_list"]}),
        (_("buyer"), {"classes": ["collapse"], "fields": ["buyer_account", "buyer_level", "buyer_after_sales_count", "buyer_address"]}),
        (_("return"), {"classes": ["collapse"], "fields": ["return_contact", "return_phone", "return_address", "return_deadline",
                                  "shipments", "goods_received_at"]}),
        (_("exchange"), {"classes": ["collapse"], "fields": ["replacement_shipped_at", "confirm_deadline"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f for _, opts in self.fieldsets for f in opts["fields"]]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "shop", "buyer", "reason", "reviewer")

    def has_add_permission(self, request):
        return False  # claims come from buyers

    def has_delete_permission(self, request, obj=None):
        return False  # nothing is lost (SPEC §11)

    def has_change_permission(self, request, obj=None):
        return False  # fields never change by hand; the review panel calls the services

    def has_view_permission(self, request, obj=None):
        return in_group(request.user, OPS, FINANCE, WAREHOUSE) or super().has_view_permission(request, obj)

    def has_approve_permission(self, request):
        return in_group(request.user, OPS)

    # columns

    @admin.display(description=_("order no"), ordering="order__order_no")
    def order_no(self, ticket):
        return format_html('<span title="{0}">{0}</span>', ticket.order.order_no)

    @admin.display(description=_("shop"), ordering="shop__name")
    def shop_name(self, ticket):
        return ticket.shop.name

    @admin.display(description=_("refund"), ordering="refund_amount")
    def refund(self, ticket):
        return ticket.refund_amount

    @admin.display(description=_("order placed at"), ordering="order__placed_at")
    def order_placed_at(self, ticket):
        return short_time(ticket.order.placed_at)

    @admin.display(description=_("applied at"), ordering="created_at")
    def applied_at(self, ticket):
        return short_time(ticket.created_at)

    @admin.display(description=_("reviewed at"), ordering="reviewed_at")
    def reviewed(self, ticket):
        return short_time(ticket.reviewed_at)

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, ticket):
        colour = {"pending_review": "#b45309", "awaiting_return": "#1d4ed8", "awaiting_refund": "#7c3aed",
                  "awaiting_exchange": "#0e7490", "completed": "#15803d", "rejected": "#b91c1c"}.get(
            ticket.status, "#4b5563")
        markers = [(symbol, str(label)) for symbol, label, on in (
            ("⟲", _("sent back by finance"), ticket.status == "pending_review" and ticket.finance_rejection_reason),
            ("✗", _("inspection rejected goods"), ticket.status == "pending_review" and ticket.inspection_passed is False),
            ("⚑", _("escalated"), ticket.escalated_at and not ticket.is_final),
            ("⚠", _("too late to hold the shipment"), ticket.intercept_failed_at)) if on]
        return format_html('<span style="color:{};font-weight:600">{}</span>{}{}', colour, ticket.get_status_display(),
                           format_html_join("", ' <span class="marker" title="{1}">{0}</span>', markers),
                           format_html(' <span class="assignee">· {}</span>', ticket.assignee.get_username())
                           if ticket.assignee_id else "")

    @admin.display(description=_("due"), ordering=F("next_deadline_at").asc(nulls_last=True))
    def due(self, ticket):
        return due_in_words(ticket)

    # per-user columns

    def get_list_display(self, request):
        return preferences.get_columns(request.user, self.COLUMNS, self.list_display, fixed=self.FIXED_COLUMNS)[0]

    def changelist_view(self, request, extra_context=None):
        shown, frozen = preferences.get_columns(request.user, self.COLUMNS, self.list_display,
                                                fixed=self.FIXED_COLUMNS)
        hidden = [name for name in self.list_display if name not in shown]
        choices = [{"name": name, "label": label_for_field(name, Ticket, self), "shown": name in shown,
                    "fixed": name in self.FIXED_COLUMNS} for name in [*shown, *hidden]]
        extra = {"column_choices": choices, "frozen": frozen, "frozen_choices": range(preferences.MAX_FROZEN + 1),
                 "columns_url": reverse("admin:tickets_ticket_columns")}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def columns_view(self, request):
        wanted = request.POST.get("next", "")
        safe = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()})
        back = HttpResponseRedirect(wanted if safe else reverse("admin:tickets_ticket_changelist"))
        if request.method != "POST":
            return back
        if request.POST.get("reset"):
            preferences.forget_columns(user=request.user, list_name=self.COLUMNS)
            return back
        try:
            preferences.save_columns(user=request.user, list_name=self.COLUMNS, columns=request.POST.getlist("columns"),
                                     frozen=request.POST.get("frozen", 0), available=self.list_display,
                                     fixed=self.FIXED_COLUMNS)
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
        return back

    def get_ordering(self, request):
        """Due first, always. With a date range chosen, the same order is written so that no index can
        serve it: the recent tickets a range picks have the latest due times, and walking the due index
        from the start to find them reads most of the table (bench/admin_list.py: 1 s at 1,000,000);
        reading the range by its own index and sorting what it holds is fast."""
        if any(key.endswith(("__range__gte", "__range__lte")) and value for key, value in request.GET.items()):
            return [Coalesce("next_deadline_at", Value(FAR_FUTURE)).asc(), "id"]
        return self.ordering

    def get_search_results(self, request, queryset, search_term):
        """Partial and case-insensitive, over ticket no, order no, buyer account and tracking numbers; each
        source answered by its own trigram index (migrations tickets 0005, warehouse 0003)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        # The matching ids first (each part answered by its index in milliseconds), then the list by id:
        # handed to the list query as a subquery, PostgreSQL walked the whole queue to probe it (0.5 s at
        # 1,000,000 tickets, bench/admin_list.py). A search is for finding tickets: the first SEARCH_CAP do.
        ids = list(selectors.search_ticket_ids(term)[:SEARCH_CAP])
        return queryset.filter(pk__in=[row["pk"] for row in ids]), False

    @admin.display(description=_("buyer"))
    def buyer_account(self, ticket):
        return ticket.buyer.account

    @admin.display(description=_("level"))
    def buyer_level(self, ticket):
        return ticket.buyer.level

    @admin.display(description=_("after-sales count"))
    def buyer_after_sales_count(self, ticket):
        return Ticket.objects.filter(buyer_id=ticket.buyer_id).count()

    @admin.display(description=_("shipping address"))
    def buyer_address(self, ticket):
        return ticket.buyer.address

    @admin.display(description=_("shipments"))
    def shipments(self, ticket):
        rows = [("return", s.courier, s.tracking_no, s.created_at) for s in ticket.return_shipments.all()]
        rows += [("replacement", o.courier, o.tracking_no, o.created_at) for o in ticket.outbounds.all()]
        return format_html_join("\n", "<div>{}: {} {} ({})</div>", rows) or "—"

    @admin.display(description=_("refunds"))
    def refunds_list(self, ticket):
        rows = [(r.amount, r.get_status_display(), r.gateway_reference or r.failure_reason or "")
                for r in ticket.refunds.all()]
        return format_html_join("\n", "<div>{} — {} {}</div>", rows) or "—"

    # bulk actions

    @admin.action(description=_("Assign to me"), permissions=["approve"])
    def assign_to_me(self, request, queryset):
        self._each(request, queryset, lambda pk: services.assign_ticket(ticket_id=pk, actor=request.user,
                                                                        assignee=request.user))

    @admin.action(description=_("Approve at the computed amount (ops)"), permissions=["approve"])
    def approve_selected(self, request, queryset):
        def amount(pk):
            return services.preview_approval(ticket_id=pk, actor=request.user).refund_amount

        asked = self._confirm_bulk(request, queryset, "approve_selected", amount,
                                   _("Approve these tickets at their computed amounts?"))
        if asked is not None:
            return asked
        self._each(request, queryset, lambda pk: services.approve_ticket(ticket_id=pk, actor=request.user))
        return None

    # the review panel on the detail page

    def get_urls(self):
        return [path("<int:ticket_id>/act/", self.admin_site.admin_view(self.act_view), name="tickets_ticket_act"),
                path("columns/", self.admin_site.admin_view(self.columns_view), name="tickets_ticket_columns"),
                *super().get_urls()]

    def panel_context(self, request, ticket: Ticket) -> dict:
        """What the review panel's template needs to show (subclasses add theirs)."""
        return {"panel_forms": panel.bound_forms(request, ticket, self.panel_actions()),
                "goods": ticket.lines.select_related("order_line"), "photos": ticket.photos.all(),
                "return_shipments": ticket.return_shipments.all(),
                "notes": ticket.notes.select_related("author").order_by("-created_at", "-pk"),
                "history": presenters.history_rows(ticket),
                "timeline": presenters.timeline(ticket.events.select_related("actor").order_by("-at", "-pk")),
                "after_sales_count": Ticket.objects.filter(buyer_id=ticket.buyer_id).count(),
                "reason_name": ticket.reason.localized_name(get_language()),
                "reply_templates": sorted(ReplyTemplate.objects.filter(is_active=True),  # the ladder's order
                                          key=lambda t: (ReplyTemplate.Step.values.index(t.step), t.display_order))
                if in_group(request.user, OPS) else [],
                **_inspection(ticket),
                "intercept_late": presenters.timeline_row(
                    ticket.events.filter(transition=EventKind.INTERCEPT_FAILED).latest("at", "pk"))
                if ticket.intercept_failed_at else None,
                "reship_parts": _reship_parts(ticket),
                "can_review": in_group(request.user, OPS), "can_note": in_group(request.user, OPS, FINANCE, WAREHOUSE),
                "act_url": reverse("admin:tickets_ticket_act", args=[ticket.pk])}

    def panel_actions(self) -> dict[str, panel.PanelAction]:
        """The panel's forms, by the ``action`` each posts (subclasses add theirs)."""
        return {
            "approve": panel.PanelAction(
                panel.ApproveForm, done=_("Approved."), initial=_approval_defaults,
                confirm=lambda request, ticket, data: _approval_confirmation(
                    ticket, services.preview_approval(ticket_id=ticket.pk, actor=request.user, **_choices(data))),
                call=lambda request, ticket, data: services.approve_ticket(
                    ticket_id=ticket.pk, actor=request.user, **_choices(data))),
            "reject": panel.PanelAction(
                panel.RejectForm, done=_("Rejected; the buyer sees the reason."),
                call=lambda request, ticket, data: services.reject_ticket(
                    ticket_id=ticket.pk, actor=request.user, reason=data["reason"])),
            "compensate": panel.PanelAction(
                panel.CompensateForm, done=_("Settled with compensation; finance pays it."),
                confirm=lambda request, ticket, data: _compensation_confirmation(
                    ticket, services.preview_compensation(ticket_id=ticket.pk, actor=request.user, **data)),
                call=lambda request, ticket, data: services.compensate_ticket(
                    ticket_id=ticket.pk, actor=request.user, **data)),
            "reship": panel.PanelAction(
                panel.ReshipForm, done=_("Re-ship recorded; the warehouse sends the parts."),
                confirm=lambda request, ticket, data: _reship_confirmation(
                    ticket, services.preview_reship(ticket_id=ticket.pk, actor=request.user, **_reship(data))),
                call=lambda request, ticket, data: services.reship_ticket(
                    ticket_id=ticket.pk, actor=request.user, **_reship(data))),
            "retention": panel.PanelAction(
                panel.RetentionForm, done=_("Retention attempt recorded."),
                call=lambda request, ticket, data: services.record_retention_attempt(
                    ticket_id=ticket.pk, actor=request.user, **data)),
            "note": panel.PanelAction(
                panel.NoteForm, done=_("Note added."),
                call=lambda request, ticket, data: services.add_note(
                    ticket_id=ticket.pk, actor=request.user, text=data["text"])),
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self.get_object(request, object_id)
        extra = self.panel_context(request, ticket) if ticket else {}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def act_view(self, request, ticket_id):
        ticket = get_object_or_404(Ticket.objects.select_related("buyer", "shop"), pk=ticket_id)
        return panel.act(request, ticket, self.panel_actions(), admin_site=self.admin_site,
                         message_user=self.message_user)



def due_in_words(ticket: Ticket):
    """"in 3 h 20 min", or "overdue 2 d 5 h" in red: what a queue's due column says."""
    if ticket.next_deadline_at is None:
        return "—"
    left = ticket.next_deadline_at - clock.now()
    kind = ticket.get_next_deadline_kind_display()
    if left.total_seconds() < 0:
        return format_html('<span class="overdue" style="color:#b91c1c;font-weight:700" title="{}">{} {}</span>',
                           kind, _("overdue"), presenters.span(-left))
    return format_html('<span title="{}">{} {}</span>', kind, _("in"), presenters.span(left))


def short_time(value):
    """"11-26 21:06" in the list (the year on hover): three time columns must fit beside the rest."""
    if not value:
        return "—"
    value = localtime(value)
    return format_html('<span title="{}">{}</span>', date_format(value, "SHORT_DATETIME_FORMAT"),
                       date_format(value, "m-d H:i"))


def _approval_defaults(ticket: Ticket) -> dict:
    """The form starts where the service would: extras on when the ticket already counts them (a whole
    order refunded before shipment gets its shipping back), the return address the service would use."""
    return {"refund_shipping": ticket.shipping_refund > 0, "refund_coupon": ticket.coupon_refund > 0,
            "refund_virtual_currency": ticket.virtual_currency_refund > 0,
            "return_address": ticket.return_address or ticket.shop.return_address}


def _choices(data: dict) -> dict:
    return {**data, "return_address": data["return_address"] or None}


def _approval_confirmation(ticket: Ticket, terms: services.ApprovalTerms) -> panel.Confirmation:
    lines = panel.money_lines(ticket, cash=terms.refund_amount, shipping=terms.shipping, fee=terms.service_fee,
                              fee_reason=terms.fee_reason, coupon=terms.coupon, points=terms.virtual_currency)
    if terms.goods_back:
        lines.append((_("goods sent back to"), terms.return_address))
        then = _("The buyer is asked to send the goods back; the refund follows the inspection.")
    else:
        then = _("The ticket goes to finance, who pays the refund.")
    warning = _("This approves a refund of 0.00: the buyer gets nothing back.") if terms.refund_amount == 0 \
        and ticket.traits.money_moves else ""
    return panel.Confirmation(
        title=_("Approve %(no)s?") % {"no": ticket.ticket_no}, lines=[*lines, (_("then"), then)],
        button=_("Yes, approve (%(amount)s)") % {"amount": terms.refund_amount}, warning=warning)


def _inspection(ticket: Ticket) -> dict:
    """The warehouse's inspection, when it sent the ticket back to ops: what was refused and why, the refund
    recomputed for what passed, and the clerk's photos (from the receive_goods timeline row)."""
    if ticket.status != Ticket.Status.PENDING_REVIEW or ticket.inspection_passed is not False:
        return {"inspection": None, "inspection_photos": []}
    event = ticket.events.filter(transition=EventKind.RECEIVE_GOODS).latest("at", "pk")
    photo_ids = (event.changes.get("photos") or [None, []])[1]
    return {"inspection": presenters.timeline_row(event),
            "inspection_lines": presenters.inspection_lines(event, ticket.lines.select_related("order_line")),
            "inspection_refund": (event.changes.get("refund_amount") or [None, None]),
            "inspection_photos": list(Upload.objects.filter(pk__in=photo_ids).order_by("pk")) if photo_ids else []}


def _reship_parts(ticket: Ticket) -> list[tuple[str, int]]:
    """(product, units) of the last re-ship ops decided, from its timeline row."""
    if ticket.reship_requested_at is None:
        return []
    event = ticket.events.filter(transition=EventKind.RESHIP).latest("at", "pk")
    names = dict(ticket.lines.values_list("order_line__line_id", "order_line__product_name"))
    return [(names.get(line_id, line_id), units) for line_id, units in event.changes["reship"][1]]


def _reship(data: dict) -> dict:
    return {"lines": data["lines"], "note": data["note"], "compensation": data["compensation"]}


def _reship_confirmation(ticket: Ticket, terms) -> panel.Confirmation | None:
    """Re-shipping parts alone moves no money: done at once. With compensation beside it, confirmed."""
    if terms.compensation is None:
        return None
    parts = ", ".join(f"{part.ticket_line.order_line.product_name} × {part.quantity}" for part in terms.parts)
    return panel.Confirmation(
        title=_("Re-ship parts of %(no)s and compensate?") % {"no": ticket.ticket_no},
        lines=[(_("ticket"), f"{ticket.ticket_no} ({ticket.get_type_display()})"), (_("buyer"), ticket.buyer.account),
               (_("parts the warehouse sends"), parts),
               (_("compensation to the original payment method"), str(terms.compensation)),
               (_("then"), _("The buyer keeps the goods; the ticket goes to finance, who pays it."))],
        button=_("Yes, re-ship and compensate (%(amount)s)") % {"amount": terms.compensation})


def _compensation_confirmation(ticket: Ticket, amount) -> panel.Confirmation:
    return panel.Confirmation(
        title=_("Settle %(no)s with compensation?") % {"no": ticket.ticket_no},
        lines=[(_("ticket"), f"{ticket.ticket_no} ({ticket.get_type_display()})"), (_("buyer"), ticket.buyer.account),
               (_("compensation to the original payment method"), str(amount)),
               (_("then"), _("The buyer keeps the goods; the ticket goes to finance, who pays it."))],
        button=_("Yes, compensate (%(amount)s)") % {"amount": amount})
