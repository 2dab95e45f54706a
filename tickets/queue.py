"""The ticket lists: the doors other parts add to the queue (TicketAdmin's list) through, and the pieces
every list of tickets shares (refunds' queue uses them too).

Two doors, filled from each part's AppConfig.ready (as ``tickets.services.subscribe`` is):
``register_list_action`` (a bulk action in the queue's menu, for the users it allows) and
``register_list_marker`` (a symbol beside a ticket's status). The queue reads them on every request, and
each carries its ``order``: what the queue shows does not depend on the order the apps start in."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rangefilter.filters import DateRangeFilter

from aftersales.errors import DomainError


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
    """The claim's date range, by the name staff know it by ("applied at", not the column's name)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("applied at")


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


def money_bulk_action(*, name: str, description, title, amount_of: Callable, do: Callable, permissions=None):
    """The bulk action that moves money ("confirm, then each"): the first post shows each selected ticket
    with its amount (or why it would be refused), the count and the total, and asks once; the confirmed
    post does each ticket through its service, naming each refusal. ``amount_of(request, pk)`` previews
    and ``do(request, pk)`` acts, both through the services."""

    def action(modeladmin, request, queryset):
        if request.POST.get("confirmed") != "yes":
            return _confirmation(modeladmin, request, queryset, name, lambda pk: amount_of(request, pk), title)
        each(modeladmin, request, queryset, lambda pk: do(request, pk))
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
