"""What the warehouse's screens share: a ticket's link and goods in a row, the clerk-only guard, and the
filter a to-do list opens on."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from aftersales.roles import WAREHOUSE, in_group
from tickets.models import Ticket


def ticket_link(ticket: Ticket):
    return format_html('<a href="{}">{}</a>', reverse("admin:tickets_ticket_change", args=[ticket.pk]), ticket.ticket_no)


def goods_of(lines) -> str:
    return format_html_join(mark_safe("<br>"), "{} <small>{}</small> × {}",
                            ((line.order_line.product_name, line.order_line.sku, line.quantity) for line in lines))


def refuse_unless_clerk(request) -> None:
    if not in_group(request.user, WAREHOUSE):
        raise PermissionDenied


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
