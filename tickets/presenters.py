"""Ticket facts in words, for the screens: the timeline as sentences, what changed as "old → new", times
and due times as the lists show them (other parts' lists use these too)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from aftersales import clock
from aftersales.vocabulary import InspectionRejection
from tickets.due import DueKind
from tickets.models import EventKind, Ticket, TimelineEvent
from tickets.payloads import LineInspection

# What each recorded change is called on screen.
CHANGE_LABELS = {
    "refund_amount": _("refund"), "service_fee": _("service fee"), "shipping_refund": _("shipping back"),
    "coupon_refund": _("coupon back"), "virtual_currency_refund": _("points back"),
    "return_address": _("return address"), "courier": _("courier"), "tracking_no": _("tracking no"),
    "refunded": _("refunded"), "gateway_reference": _("payment reference"), "lines": _("goods"),
    "inspection": _("inspection"), "assignee": _("assigned to"), "outcome": _("outcome"),
    "reship": _("parts to send"), "photos": _("inspection photos"), "due_for": _("due for"),
}
OUTCOMES = {"kept": _("the buyer keeps the goods"), "returning": _("the buyer still sends them back")}
ROLE_LABELS = {"buyer": _("buyer"), "ops": _("ops"), "finance": _("finance"), "warehouse": _("warehouse"),
               "system": _("system"), "admin": _("administrator"), "staff": _("staff")}


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    who: str
    what: str
    moved: str  # "pending review → awaiting refund", or "" when the status stayed
    why: str
    changes: list[tuple[str, str]]
    internal: bool


def status_label(value: str) -> str:
    return str(Ticket.Status(value).label) if value in Ticket.Status.values else value


def timeline(events) -> list[TimelineRow]:
    return [timeline_row(event) for event in events]


def timeline_row(event: TimelineEvent) -> TimelineRow:
    role = str(ROLE_LABELS.get(event.actor_role, event.actor_role))
    who = f"{event.actor.get_username()} ({role})" if event.actor_id else role
    what = str(EventKind(event.transition).label) if event.transition in EventKind.values else event.transition
    moved = "" if event.from_status == event.to_status or not event.from_status else \
        f"{status_label(event.from_status)} → {status_label(event.to_status)}"
    # What the system wrote is stored in English (gettext_noop) and shown in the reader's language.
    why = gettext(event.reason) if event.actor_id is None and event.reason else event.reason
    return TimelineRow(at=event.at, who=who, what=what, moved=moved, why=why,
                       changes=[(str(CHANGE_LABELS.get(key, key)), _change(key, value))
                                for key, value in (event.changes or {}).items()],
                       internal=not event.buyer_visible)


# How a timeline change written by another part reads (field -> words for a stored value), registered from
# that part's AppConfig.ready; e.g. refunds: a payment by hand's reference, stored in English.
CHANGE_WORDS: dict[str, Callable[[str], str]] = {}


def register_change_words(key: str, words: Callable[[str], str]) -> None:
    CHANGE_WORDS[key] = words


def _change(key: str, value) -> str:
    if key == "lines":  # [[order line, units, amount], ...]
        return "; ".join(f"{line} × {units} = {amount}" for line, units, amount in value)
    if key == "outcome":
        return str(OUTCOMES.get(value[1], value[1]))
    if isinstance(value, list) and len(value) == 2:
        old, new = value
        if key == "due_for":
            return str(DueKind(new).label) if new in DueKind.values else str(new)
        if key == "reship":  # [[order line, units], ...]
            return "; ".join(f"{line} × {units}" for line, units in new)
        if key == "inspection":  # [[order line, units, accepted, why refused, note], ...]
            return "; ".join(_inspected_line(*row) for row in new)
        if key == "photos":
            return ngettext("%(n)d photo", "%(n)d photos", len(new)) % {"n": len(new)}
        if key in CHANGE_WORDS:
            old, new = (CHANGE_WORDS[key](v) if isinstance(v, str) else v for v in (old, new))
        return str(new) if old in (None, "") else f"{old} → {new}"
    return str(value)


@dataclass(frozen=True)
class InspectedLine:
    product: str
    sku: str
    claimed: int
    received: int
    accepted: bool
    why: str
    note: str


def inspection_lines(event: TimelineEvent, ticket_lines) -> list[InspectedLine]:
    """Each claimed line as the warehouse found it (from its receive_goods row): units received, passed or
    refused and why, one row per result (2 cups: 1 passed, 1 refused); a line that did not arrive is
    "missing"."""
    found: dict[str, list[LineInspection]] = {}
    for row in event.inspection:
        found.setdefault(row.line_id, []).append(row)
    out = []
    for line in ticket_lines:
        for row in found.get(line.order_line.line_id) or [LineInspection(line.order_line.line_id, 0, False)]:
            why = (str(InspectionRejection(row.reject_reason).label) if row.reject_reason in InspectionRejection.values
                   else "" if row.accepted or row.units else str(_("missing")))
            out.append(InspectedLine(line.order_line.product_name, line.order_line.sku, line.quantity, row.units,
                                     row.accepted, why, row.note))
    return out


def _inspected_line(line, units, ok, reason="", note="") -> str:
    words = {True: pgettext("inspection", "accepted"), False: pgettext("inspection", "rejected")}
    text = f"{line} × {units} {words[bool(ok)]}"
    why = [str(InspectionRejection(reason).label)] if reason in InspectionRejection.values else []
    if note:
        why.append(note)
    return f"{text} ({': '.join(why)})" if why else text


def span(delta) -> str:
    """A duration as staff read it at a glance: "2 d 5 h", "3 h 20 min", "12 min"."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    who: str
    what: str
    changes: list[tuple[str, str]]


HIDDEN_IN_HISTORY = {"updated_at"}


def history_rows(ticket: Ticket, limit: int = 50) -> list[HistoryRow]:
    """The ticket row's audit history (aftersales.history), newest first: who changed what, old → new;
    "raw SQL" where a change came from no request, no task and no command."""
    events = list(ticket.history.select_related("pgh_context").order_by("pgh_created_at", "pgh_id"))
    fields = [f for f in Ticket._meta.concrete_fields if f.name not in HIDDEN_IN_HISTORY]
    raw, previous = [], None
    for event in events:
        changes = []
        if previous is not None:
            for field in fields:
                old, new = getattr(previous, field.attname, None), getattr(event, field.attname, None)
                if old != new:
                    changes.append((field, old, new))
        raw.append((event, changes))
        previous = event
    names = _related_names(change for _, changes in raw for change in changes)
    rows = [HistoryRow(at=event.pgh_created_at, who=_who(event.pgh_context),
                       what=str(HISTORY_LABELS.get(event.pgh_label, event.pgh_label)),
                       changes=[(str(field.verbose_name),
                                 f"{_shown(field, old, names)} → {_shown(field, new, names)}")
                                for field, old, new in changes])
            for event, changes in raw]
    return rows[::-1][:limit]


def _related_names(changes) -> dict:
    """{(model, id): its name} for the related rows the changes point at (a reviewer reads as the user's
    name, not an id), one query per related model."""
    wanted: dict = {}
    for field, old, new in changes:
        if field.is_relation:
            wanted.setdefault(field.related_model, set()).update(v for v in (old, new) if v is not None)
    return {(model, pk): str(obj) for model, ids in wanted.items()
            for pk, obj in model._default_manager.in_bulk(ids).items()}


HISTORY_LABELS = {"insert": _("created"), "update": _("changed"), "delete": _("deleted")}


def _who(context) -> str:
    metadata = context.metadata if context is not None else {}
    if metadata.get("username"):
        return str(metadata["username"])
    if metadata.get("task"):
        return gettext("task %(name)s") % {"name": metadata["task"]}
    if metadata.get("command"):
        return gettext("command %(name)s") % {"name": metadata["command"]}
    if metadata.get("url"):
        return gettext("anonymous request %(url)s") % {"url": metadata["url"]}
    return gettext("raw SQL (no request, no task)")


def _shown(field, value, names: dict) -> str:
    if value is None or value == "":
        return "—"
    if field.is_relation:
        return names.get((field.related_model, value), f"#{value}")  # "#12": a row deleted since
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")  # the zone the row's own time is shown in
    return str(value)


def due_in_words(ticket: Ticket):
    """"in 3 h 20 min", or "overdue 2 d 5 h" in red: what a queue's due column says (its page links
    tickets/presenters.css)."""
    if ticket.next_deadline_at is None:
        return "—"
    left = ticket.next_deadline_at - clock.now()
    kind = ticket.get_next_deadline_kind_display()
    if left.total_seconds() < 0:
        return format_html('<span class="overdue" title="{}">{} {}</span>',
                           kind, _("overdue"), span(-left))
    return format_html('<span title="{}">{} {}</span>', kind, _("in"), span(left))


def local_time(value) -> str:
    """A time as people read it on a page: local (settings.TIME_ZONE), to the minute ("2026-12-05 15:03")."""
    if not value:
        return "—"
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


@dataclass(frozen=True)
class Due:
    """What the ticket waits for, until when (local time, to the minute), and how long is left in words."""

    what: str
    at: datetime
    words: str
    overdue: bool


def due_on_page(ticket: Ticket) -> Due | None:
    """The ticket page's due line: "ops review · in 3 h 20 min · 2026-12-05 15:22", or "overdue 2 d 5 h";
    None when nothing is due of anyone (a finished ticket, a refund under way, goods on their way back)."""
    if ticket.next_deadline_at is None:
        return None
    left = ticket.next_deadline_at - clock.now()
    overdue = left.total_seconds() < 0
    words = (_("overdue %(span)s") if overdue else _("in %(span)s")) % {"span": span(abs(left))}
    return Due(what=ticket.get_next_deadline_kind_display(), at=timezone.localtime(ticket.next_deadline_at),
               words=str(words), overdue=overdue)


ORDER_LINKS_SHOWN = 20


def order_links(order) -> list[tuple[str, str]]:
    """An order's page links to its tickets (orders.pages, registered in TicketsConfig.ready): each ticket,
    newest first, with its type and status, then the queue filtered to the order (all of them, however many)."""
    tickets = list(Ticket.objects.filter(order_id=order.pk).order_by("-created_at", "-pk")[:ORDER_LINKS_SHOWN + 1])
    links = [(f"{ticket.ticket_no} · {ticket.get_type_display()} · {ticket.get_status_display()}",
              reverse("admin:tickets_ticket_change", args=[ticket.pk])) for ticket in tickets[:ORDER_LINKS_SHOWN]]
    if tickets:
        count = Ticket.objects.filter(order_id=order.pk).count()
        links.append((ngettext("%(n)d ticket of this order in the queue", "all %(n)d tickets of this order in the queue",
                               count) % {"n": count},
                      f"{reverse('admin:tickets_ticket_changelist')}?order__id__exact={order.pk}"))
    return links


def short_time(value):
    """"11-26 21:06" in the list (the year on hover): three time columns must fit beside the rest."""
    if not value:
        return "—"
    value = timezone.localtime(value)
    return format_html('<span title="{}">{}</span>', date_format(value, "SHORT_DATETIME_FORMAT"),
                       date_format(value, "m-d H:i"))
