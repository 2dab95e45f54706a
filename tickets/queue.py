"""The ticket lists: the doors other parts add to the queue (TicketAdmin's list) through, and the pieces
every list of tickets shares (refunds' queue uses them too).

Two doors, filled from each part's AppConfig.ready (as ``tickets.services.subscribe`` is):
``register_list_action`` (a bulk action in the queue's menu, for the users it allows) and
``register_list_marker`` (a symbol beside a ticket's status). The queue reads them on every request, and
each carries its ``order``: what the queue shows does not depend on the order the apps start in."""

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import SuspiciousOperation
from django.db.models import Count, Q
from django.http import QueryDict
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rangefilter.filters import DateRangeFilter

from access.home import QueueCounts
from aftersales import clock
from aftersales.errors import DomainError
from aftersales.preferences import ListView
from aftersales.roles import FINANCE, OPS, WAREHOUSE


@dataclass(frozen=True)
class ListAction:
    """A bulk action another part adds to the queue: ``function(modeladmin, request, queryset)`` (an
    ``@admin.action``, or one made by ``money_bulk_action``), offered where ``allowed(request)``."""

    name: str
    function: Callable
    allowed: Callable
    order: int = 100

    @property
    def description(self) -> str:
        return getattr(self.function, "short_description", self.name)


@dataclass(frozen=True)
class ListMarker:
    """A symbol beside a ticket's status in the queue, its meaning on hover, where ``applies(ticket)``
    (it reads the list's row: the ticket, its order, shop and assignee)."""

    name: str
    symbol: str
    label: str
    applies: Callable
    order: int = 100


_ACTIONS: dict[str, ListAction] = {}
_MARKERS: dict[str, ListMarker] = {}


def register_list_action(action: ListAction) -> None:
    """Adds a bulk action to the queue. The same name again replaces the first."""
    _ACTIONS[action.name] = action


def register_list_marker(marker: ListMarker) -> None:
    """Adds a marker beside the queue's statuses. The same name again replaces the first."""
    _MARKERS[marker.name] = marker


def list_actions(request) -> list[ListAction]:
    return [action for action in sorted(_ACTIONS.values(), key=lambda a: (a.order, a.name)) if action.allowed(request)]


def markers_for(ticket) -> list[tuple[str, str]]:
    """(symbol, meaning) of each marker that applies to the ticket, in their order."""
    return [(marker.symbol, str(marker.label)) for marker in sorted(_MARKERS.values(), key=lambda m: (m.order, m.name))
            if marker.applies(ticket)]


register_list_marker(ListMarker("escalated", "⚑", _("escalated"),
                                lambda ticket: bool(ticket.escalated_at and not ticket.is_final), order=30))


# ------------------------------------------------------------------------- what ticket lists share


class AppliedRangeFilter(DateRangeFilter):
    """The claim's date range, by the name staff know it by ("applied at", not the column's name). A date
    that is no date is named in a message, and only that end of the range is left open (the package's own
    filter dropped the whole range without a word)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("applied at")

    def queryset(self, request, queryset):
        if not self.form.is_bound:
            return queryset
        if not self.form.is_valid():
            self._name_what_is_no_date(request)
        chosen = {name: value for name, value in self.form.cleaned_data.items() if value}
        return queryset.filter(**self._make_query_filter(request, chosen)) if chosen else queryset

    def _name_what_is_no_date(self, request) -> None:
        told = request.__dict__.setdefault("_range_dates_named", set())  # once per filter and request
        if self.field_path in told:
            return
        told.add(self.field_path)
        ends = {self.lookup_kwarg_gte: _("from date"), self.lookup_kwarg_lte: _("to date")}
        for name in self.form.errors:
            value = str(self.form.data.get(name, ""))[:40]
            messages.warning(request, _("“%(filter)s”, %(end)s: “%(value)s” is not a date, so the list is not "
                                        "limited by it. Type a date such as %(example)s, or pick one from the "
                                        "calendar.") % {"filter": self.title, "end": ends.get(name, name),
                                                        "value": value, "example": _example_date()})


def _example_date() -> str:
    """Today as the filter's box takes it first in the user's language (the calendar writes it so too)."""
    return timezone.localdate().strftime(formats.get_format("DATE_INPUT_FORMATS")[0])


def tickets_done(n: int) -> str:
    return ngettext("%(n)d ticket done.", "%(n)d tickets done.", n) % {"n": n}


def each(modeladmin, request, queryset, action, *, ticket_no="ticket_no",
         done_message: Callable[[int], str] = tickets_done) -> None:
    """``action(pk)`` for each selected row; a refusal is named by its ticket no (``ticket_no``: where
    the row keeps it), the rest go on; then how many were done, in ``done_message(count)``'s words (an
    ``ngettext``: "1 ticket done.", "4 tickets done.")."""
    done = 0
    for pk, number in queryset.values_list("pk", ticket_no):
        try:
            action(pk)
            done += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{number}: {exc.detail}", messages.WARNING)
    if done:
        modeladmin.message_user(request, done_message(done), messages.SUCCESS)


class BulkTicketActions:
    """Bulk actions over tickets on a list: each ticket through its service, refusals named."""

    def _each(self, request, queryset, action, *, ticket_no="ticket_no", done_message=tickets_done) -> None:
        each(self, request, queryset, action, ticket_no=ticket_no, done_message=done_message)


def money_bulk_action(*, name: str, description, title, amount_of: Callable, do: Callable, permissions=None,
                      report: Callable | None = None):
    """The bulk action that moves money ("confirm, then each"): the first post shows each selected ticket
    with its amount (or why it would be refused), the count and the total, and asks once; the confirmed
    post does each ticket through its service, naming each refusal. ``amount_of(request, pk)`` previews
    and ``do(request, pk)`` acts, both through the services. ``report(request, done, refused)``, where
    the part that moves the money knows more than "done" (paid, refused by the gateway, not answered yet),
    says what happened per ticket: ``done`` is [(pk, ticket no)] of those its service took, ``refused``
    [(ticket no, why)] of those it refused; it returns the messages, [(level, text)]."""

    def action(modeladmin, request, queryset):
        if request.POST.get("confirmed") != "yes":
            return _confirmation(modeladmin, request, queryset, name, lambda pk: amount_of(request, pk), title)
        if report is None:
            each(modeladmin, request, queryset, lambda pk: do(request, pk))
            return None
        done, refused = [], []
        for pk, number in queryset.values_list("pk", "ticket_no"):
            try:
                do(request, pk)
                done.append((pk, number))
            except DomainError as exc:
                refused.append((number, exc.detail))
        for level, text in report(request, done, refused):
            modeladmin.message_user(request, text, level)
        return None

    action.__name__ = action.__qualname__ = name
    return admin.action(description=description, permissions=permissions)(action)


def _confirmation(modeladmin, request, queryset, name, amount_of, title) -> TemplateResponse:
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
        **modeladmin.admin_site.each_context(request), "title": title, "opts": modeladmin.model._meta,
        "action": name, "rows": rows, "count": len(doable), "total": total,
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)})


# ---------------------------------------------------------------------- views and the next ticket

# The ticket list's built-in views, each the default of the roles it names (aftersales.preferences): what
# a user of that role opens "Tickets" on, unless they made one of their own saved views their default.
QUEUE_VIEWS = (
    # Ops' work: new claims, and those back with them (sent back by finance, refused at inspection, a
    # shipment too late to hold). Waiting on the buyer, the warehouse or finance, or finished: hidden.
    ListView("open", _("My open work"), "status__exact=pending_review", groups=(OPS,)),
    ListView("refund", _("Awaiting refund"), "status__exact=awaiting_refund", groups=(FINANCE,)),
    ListView("goods", _("Goods coming back or going out"), "status__in=awaiting_return,awaiting_exchange",
             groups=(WAREHOUSE,)),
    ListView("all", _("All tickets"), ""),
)


def next_in_list(model_admin, request, filters: str, *, after_pk: int):
    """The row a list shows first under ``filters`` (a changelist's query string, as the admin preserves
    it in ``_changelist_filters``), other than ``after_pk``; None when there is none or the filters no
    longer make sense. The list's own machinery answers (its ChangeList: filters, search, the user's
    view, its order and visibility), so "next" is always what the user would see on top of that list."""
    params = QueryDict(filters, mutable=True)
    params.pop(PAGE_VAR, None)  # the top of the list, whatever page the user was on
    listing = copy.copy(request)
    listing.method, listing.GET, listing.POST = "GET", params, QueryDict()
    try:
        changelist = model_admin.get_changelist_instance(listing)
    except (IncorrectLookupParameters, SuspiciousOperation):
        return None
    # The first page is fetched already: if it holds nothing but this row, the list holds nothing else.
    return next((row for row in changelist.result_list if row.pk != after_pk), None)


def queue_counts(queryset, *, due="next_deadline_at") -> QueueCounts:
    """What a queue holds for the home page (access.home): its rows, those due before the local day ends,
    and those past due (``due``: the field holding each row's due time), in one query."""
    now = clock.now()
    day_ends = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return QueueCounts(**queryset.order_by().aggregate(
        waiting=Count("pk"), due_today=Count("pk", filter=Q(**{f"{due}__gte": now, f"{due}__lt": day_ends})),
        overdue=Count("pk", filter=Q(**{f"{due}__lt": now}))))

