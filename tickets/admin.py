"""The ops queue and the review page (SPEC §8). Every button calls the same service as the API.

The review panel's wiring is tickets.panel; the queue's shared pieces are tickets.queue. Parts downstream
of tickets add their own actions, sections and markers through the doors those two modules own
(register_panel_action, register_panel_section, register_list_action, register_list_marker), from their
AppConfig.ready: nobody subclasses or re-registers TicketAdmin, and tickets never imports them."""

import copy

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import label_for_field
from django.contrib.admin.views.main import ChangeList
from django.db.models import F
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from rangefilter.filters import DateRangeFilter

from aftersales import clock, preferences
from aftersales.admin import CappedCountPaginator, YesNoFilter
from aftersales.errors import DomainError
from aftersales.roles import FINANCE, OPS, WAREHOUSE, in_group
from tickets import panel, presenters, queue, selectors, services
from tickets.models import ReplyTemplate, Ticket


class ApprovedFilter(YesNoFilter):
    title = _("approved by review")
    parameter_name = "approved"
    field = "approved_at"
    yes_label, no_label = _("approved"), _("not approved")


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
        return list(selectors.WHOSE.items())

    def queryset(self, request, queryset):
        return selectors.with_whose(queryset, self.value(), user=request.user) if self.value() else queryset


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    """The reply library: administrators keep it (the model's change permission); ops read it and insert
    replies from the review page."""

    list_display = ["title", "title_zh", "step", "text", "display_order", "is_active"]
    list_filter = ["step", "is_active"]
    list_editable = ["display_order", "is_active"]
    search_fields = ["title", "title_zh", "text"]


class QueueChangeList(ChangeList):
    """The queue's list: the view it was opened in (``view=…``) is carried by every link the list builds
    (filters, order, pages) but filters nothing itself."""

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        lookup_params.pop(preferences.VIEW_VAR, None)
        return lookup_params


@admin.register(Ticket)
class TicketAdmin(queue.BulkTicketActions, admin.ModelAdmin):
    list_display = ["ticket_no", "order_no", "shop_name", "type", "refund", "applied_at", "due",
                    "reviewed", "order_placed_at", "status_badge"]
    list_display_links = ["ticket_no"]
    # Each user may hide, reorder and freeze these (aftersales.preferences); the ticket no always shows.
    COLUMNS = "tickets.ticket"
    FIXED_COLUMNS = ("ticket_no",)
    list_filter = ["status", AttentionFilter, MineFilter, "type", ("created_at", queue.AppliedRangeFilter),
                   ("order__placed_at", DateRangeFilter), ApprovedFilter, "shop"]
    search_fields = ["ticket_no"]  # the search itself: get_search_results (partial, indexed, four sources)
    search_help_text = _("part of a ticket no, order no, buyer account or tracking no")
    list_select_related = ["order", "shop", "assignee"]
    list_per_page = 50
    show_full_result_count = False  # a count over millions of rows on every page is not worth its time
    paginator = CappedCountPaginator
    # A work queue: what is due first; tickets nothing is due of (finished ones) last. Index: ticket_queue_due.
    ordering = selectors.due_order()
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
        return presenters.short_time(ticket.order.placed_at)

    @admin.display(description=_("applied at"), ordering="created_at")
    def applied_at(self, ticket):
        return presenters.short_time(ticket.created_at)

    @admin.display(description=_("reviewed at"), ordering="reviewed_at")
    def reviewed(self, ticket):
        return presenters.short_time(ticket.reviewed_at)

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, ticket):
        markers = queue.markers_for(ticket)  # tickets' own and the other parts' (tickets.queue)
        # Each status its colour: tickets/static/tickets/queue.css.
        return format_html('<span class="status-badge status-{}">{}</span>{}{}', ticket.status, ticket.get_status_display(),
                           format_html_join("", ' <span class="marker" title="{1}">{0}</span>', markers),
                           format_html(' <span class="assignee">· {}</span>', ticket.assignee.get_username())
                           if ticket.assignee_id else "")

    @admin.display(description=_("due"), ordering=F("next_deadline_at").asc(nulls_last=True))
    def due(self, ticket):
        return presenters.due_in_words(ticket)

    # per-user columns and views

    def get_changelist(self, request, **kwargs):
        return QueueChangeList

    def active_view(self, request) -> preferences.ListView | None:
        """The view the list is shown in (``view=…`` in its query string), if it is one the user may use."""
        key = request.GET.get(preferences.VIEW_VAR, "")
        return preferences.find_view(request.user, self.COLUMNS, key, queue.QUEUE_VIEWS) if key else None

    def shown_columns(self, request) -> tuple[list[str], int]:
        """A saved view shows its own columns; any other view the user's column choice."""
        view = self.active_view(request)
        if view is not None and view.saved and view.columns:
            columns = [name for name in view.columns if name in self.list_display]
            columns = [name for name in self.FIXED_COLUMNS if name not in columns] + columns
            return columns, min(view.frozen, len(columns))
        return preferences.get_columns(request.user, self.COLUMNS, self.list_display, fixed=self.FIXED_COLUMNS)

    def get_list_display(self, request):
        return self.shown_columns(request)[0]

    def changelist_view(self, request, extra_context=None):
        if not request.GET:
            # "Tickets" opened bare: the user's default view (their own, else their role's), as if its
            # query string had been asked for; links, searches and bulk actions carry it from here.
            view = preferences.default_view(request.user, self.COLUMNS, queue.QUEUE_VIEWS)
            if view is not None:
                request.GET = QueryDict(view.url_query())
        shown, frozen = self.shown_columns(request)
        hidden = [name for name in self.list_display if name not in shown]
        choices = [{"name": name, "label": label_for_field(name, Ticket, self), "shown": name in shown,
                    "fixed": name in self.FIXED_COLUMNS} for name in [*shown, *hidden]]
        active = self.active_view(request)
        query = preferences.view_query(request.GET)  # the list as shown: what "Save view" keeps
        extra = {"column_choices": choices, "frozen": frozen, "frozen_choices": range(preferences.MAX_FROZEN + 1),
                 "columns_url": reverse("admin:tickets_ticket_columns"),
                 "views": preferences.list_views(request.user, self.COLUMNS, queue.QUEUE_VIEWS),
                 "active_view": active, "view_query": query, "views_url": reverse("admin:tickets_ticket_views"),
                 "view_changed": active is not None and query != preferences.view_query(QueryDict(active.query))}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def _back_to_list(self, request) -> HttpResponseRedirect:
        wanted = request.POST.get("next", "")
        safe = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()})
        return HttpResponseRedirect(wanted if safe else reverse("admin:tickets_ticket_changelist"))

    def columns_view(self, request):
        back = self._back_to_list(request)
        if request.method != "POST":
            return back
        # Columns chosen while one of the user's saved views is open are that view's.
        shown_in = QueryDict(back.url.partition("?")[2]).get(preferences.VIEW_VAR, "")
        view = preferences.find_view(request.user, self.COLUMNS, shown_in, queue.QUEUE_VIEWS) if shown_in else None
        try:
            if request.POST.get("reset"):
                if view is not None and view.saved:
                    preferences.set_view_columns(user=request.user, list_name=self.COLUMNS, view_id=view.key,
                                                 columns=list(self.list_display), frozen=0,
                                                 available=self.list_display, fixed=self.FIXED_COLUMNS)
                else:
                    preferences.forget_columns(user=request.user, list_name=self.COLUMNS)
            elif view is not None and view.saved:
                preferences.set_view_columns(user=request.user, list_name=self.COLUMNS, view_id=view.key,
                                             columns=request.POST.getlist("columns"),
                                             frozen=request.POST.get("frozen", 0), available=self.list_display,
                                             fixed=self.FIXED_COLUMNS)
            else:
                preferences.save_columns(user=request.user, list_name=self.COLUMNS,
                                         columns=request.POST.getlist("columns"), frozen=request.POST.get("frozen", 0),
                                         available=self.list_display, fixed=self.FIXED_COLUMNS)
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
        return back

    def views_view(self, request):
        """Save the list as it is shown under a name, make a saved view (or the role's) the default, or
        forget one. Each answer goes back to the list, in the view concerned."""
        back = self._back_to_list(request)
        if request.method != "POST":
            return back
        changelist = reverse("admin:tickets_ticket_changelist")
        user, what = request.user, request.POST.get("do", "")
        try:
            if what == "save":
                shown, frozen = self.shown_columns(_with_query(request, request.POST.get("query", "")))
                view = preferences.save_view(
                    user=user, list_name=self.COLUMNS, name=request.POST.get("name", ""),
                    query=request.POST.get("query", ""), columns=shown, frozen=frozen, available=self.list_display,
                    fixed=self.FIXED_COLUMNS, make_default=bool(request.POST.get("make_default")))
                self.message_user(request, _("View “%(name)s” saved.") % {"name": view.name}, messages.SUCCESS)
                saved = preferences.find_view(user, self.COLUMNS, str(view.pk), queue.QUEUE_VIEWS)
                return HttpResponseRedirect(f"{changelist}?{saved.url_query()}")
            if what == "default":
                key = request.POST.get("view", "")
                preferences.make_default_view(user=user, list_name=self.COLUMNS,
                                              view_id=int(key) if key.isdigit() else None)
                view = preferences.default_view(user, self.COLUMNS, queue.QUEUE_VIEWS)
                self.message_user(request, _("“Tickets” now opens on “%(name)s”.") % {"name": view.name},
                                  messages.SUCCESS)
            elif what == "delete":
                view = preferences.find_view(user, self.COLUMNS, request.POST.get("view", ""), queue.QUEUE_VIEWS)
                preferences.delete_view(user=user, list_name=self.COLUMNS, view_id=request.POST.get("view"))
                self.message_user(request, _("View “%(name)s” deleted.") % {"name": view.name}, messages.SUCCESS)
                return HttpResponseRedirect(changelist)
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
        return back

    def get_ordering(self, request):
        """Due first, always (selectors.due_order: written differently when a date range narrows the list)."""
        ranged = any(key.endswith(("__range__gte", "__range__lte")) and value for key, value in request.GET.items())
        return selectors.due_order(ranged=ranged)

    def get_search_results(self, request, queryset, search_term):
        """Partial and case-insensitive, over ticket no, order no, buyer account and tracking numbers; each
        source answered by its own trigram index (migrations tickets 0005, warehouse 0003)."""
        return selectors.with_search(queryset, search_term), False

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
        # Local time to the minute, the direction in words (issue #21: it was UTC with microseconds).
        rows = [(_("sent back by the buyer"), s.courier, s.tracking_no, presenters.local_time(s.created_at))
                for s in ticket.return_shipments.all()]
        rows += [(_("sent by the warehouse"), o.courier, o.tracking_no, presenters.local_time(o.created_at))
                 for o in ticket.outbounds.all()]
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

    approve_selected = queue.money_bulk_action(
        name="approve_selected", description=_("Approve at the computed amount (ops)"), permissions=["approve"],
        title=_("Approve these tickets at their computed amounts?"),
        amount_of=lambda request, pk: services.preview_approval(ticket_id=pk, actor=request.user).refund_amount,
        do=lambda request, pk: services.approve_ticket(ticket_id=pk, actor=request.user))

    def get_actions(self, request):
        """Tickets' own bulk actions, then those other parts registered (tickets.queue), for whom they allow."""
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions
        for action in queue.list_actions(request):
            actions[action.name] = (action.function, action.name, action.description)
        return actions

    # the review panel on the detail page

    def get_urls(self):
        return [path("<int:ticket_id>/act/", self.admin_site.admin_view(self.act_view), name="tickets_ticket_act"),
                path("columns/", self.admin_site.admin_view(self.columns_view), name="tickets_ticket_columns"),
                path("views/", self.admin_site.admin_view(self.views_view), name="tickets_ticket_views"),
                *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self.get_object(request, object_id)
        extra = panel.page_context(request, ticket) if ticket else {}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def act_view(self, request, ticket_id):
        ticket = get_object_or_404(Ticket.objects.select_related("buyer", "shop"), pk=ticket_id)
        return panel.act(request, ticket, panel.actions(), admin_site=self.admin_site,
                         message_user=self.message_user,
                         next_ticket=lambda filters, after: queue.next_in_list(self, request, filters, after_pk=after))


def _with_query(request, query: str):
    """The request as the list saw it under ``query`` (its columns depend on the view named there)."""
    listing = copy.copy(request)
    listing.GET = QueryDict(query)
    return listing
