"""Reads: querysets with their joins done and visibility applied."""

from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.errors import NotFound
from aftersales.money import ZERO, money
from aftersales.roles import is_staff_member
from tickets.models import Note, Ticket, TicketLine, TimelineEvent, Upload


def claimed_by_line(order_line_ids, *, exclude_ticket_id: int | None = None) -> dict[int, tuple[int, Decimal]]:
    """Per order line: units and goods amount claimed by tickets that still count.

    Written as SQL: every claim and every approval runs it under its line locks, and building it
    through the ORM cost the application more than answering it costs the database (bench/api.py).
    """
    ids = list(order_line_ids)
    if not ids:
        return {}
    counting_not = [str(status) for status in Ticket.NOT_COUNTING]
    sql = (f"SELECT tl.order_line_id, SUM(tl.quantity), SUM(tl.refund_amount)"
           f" FROM {TicketLine._meta.db_table} tl JOIN {Ticket._meta.db_table} t ON t.id = tl.ticket_id"
           f" WHERE tl.order_line_id IN ({', '.join(['%s'] * len(ids))})"
           f" AND t.status NOT IN ({', '.join(['%s'] * len(counting_not))})")
    params = [*ids, *counting_not]
    if exclude_ticket_id is not None:
        sql += " AND t.id <> %s"
        params.append(exclude_ticket_id)
    with connection.cursor() as cursor:
        cursor.execute(sql + " GROUP BY tl.order_line_id", params)
        rows = cursor.fetchall()
    # PostgreSQL sums numeric exactly; SQLite (the demo) answers a float, read through its shortest repr.
    return {line_id: (int(units), money(amount if isinstance(amount, Decimal) else Decimal(str(amount))))
            for line_id, units, amount in rows}


def refunded_extras(order_id: int, *, exclude_ticket_id: int | None = None) -> dict[str, Decimal]:
    """Shipping, coupon and virtual currency already given back on an order by counting tickets."""
    qs = Ticket.objects.filter(order_id=order_id).exclude(status__in=Ticket.NOT_COUNTING)
    if exclude_ticket_id is not None:
        qs = qs.exclude(pk=exclude_ticket_id)
    sums = qs.aggregate(shipping=Sum("shipping_refund"), coupon=Sum("coupon_refund"),
                        vc=Sum("virtual_currency_refund"))
    return {k: money(v or ZERO) for k, v in sums.items()}


def _detail_queryset() -> QuerySet[Ticket]:
    return Ticket.objects.select_related("order", "shop", "buyer", "reason", "reviewer").prefetch_related(
        Prefetch("lines", queryset=TicketLine.objects.select_related("order_line")),
        "photos", "return_shipments", "outbounds", "refunds",
    )


def prime_detail(ticket: Ticket, *, lines, photos, public_events, refunds=(), return_shipments=(),
                 outbounds=()) -> Ticket:
    """Give a ticket the related rows the detail shape reads, from objects the caller already holds
    (what `get_ticket_for_buyer` would prefetch), so showing it costs no query. A relation given as
    None is left to be read (rows another part wrote, that the caller does not hold)."""
    related = {"lines": lines, "photos": photos, "refunds": refunds, "return_shipments": return_shipments,
               "outbounds": outbounds}
    ticket._prefetched_objects_cache = {}
    for name, rows in related.items():
        if rows is None:
            continue
        # As Django's prefetch does: the related queryset, its results filled in; a further
        # .filter() or .values_list() on it still asks the database.
        queryset = getattr(ticket, name).get_queryset()
        queryset._result_cache, queryset._prefetch_done = list(rows), True
        ticket._prefetched_objects_cache[name] = queryset
    ticket.public_events = [event for event in public_events if event.buyer_visible]
    return ticket


def storable(key: str) -> bool:
    """A key from a URL that could be in the database (PostgreSQL refuses NUL in a query: a 500)."""
    return "\x00" not in key


def get_ticket_for_buyer(*, ticket_no: str, user) -> Ticket:
    """The caller's own ticket; another buyer's is "not found", never "forbidden"."""
    if not storable(ticket_no):
        raise NotFound(_("No such ticket."), field="ticket_no")
    ticket = _detail_queryset().filter(ticket_no=ticket_no, buyer__user=user).prefetch_related(
        Prefetch("events", queryset=TimelineEvent.objects.filter(buyer_visible=True), to_attr="public_events")
    ).first()
    if ticket is None:
        raise NotFound(_("No such ticket."), field="ticket_no")
    return ticket


def get_ticket_for_staff(*, ticket_no: str, user) -> Ticket:
    if not is_staff_member(user) or not storable(ticket_no):
        raise NotFound(_("No such ticket."), field="ticket_no")
    ticket = _detail_queryset().prefetch_related(
        Prefetch("notes", queryset=Note.objects.select_related("author")),
        Prefetch("events", queryset=TimelineEvent.objects.select_related("actor")),
    ).filter(ticket_no=ticket_no).first()
    if ticket is None:
        raise NotFound(_("No such ticket."), field="ticket_no")
    return ticket


def get_upload_for(*, upload_id: int, user) -> Upload:
    """A photo for its owner or for staff; anyone else is told it does not exist."""
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is None or (upload.owner_id != user.pk and not is_staff_member(user)):
        raise NotFound(_("No such upload."), field="id")
    return upload


def list_tickets_for_buyer(*, user) -> QuerySet[Ticket]:
    return Ticket.objects.filter(buyer__user=user).select_related("order", "reason").prefetch_related(
        Prefetch("lines", queryset=TicketLine.objects.select_related("order_line")))


def list_tickets_for_staff() -> QuerySet[Ticket]:
    return Ticket.objects.select_related("order", "shop", "buyer").prefetch_related(
        Prefetch("lines", queryset=TicketLine.objects.select_related("order_line")))


def approved_by_review() -> Q:
    """Tickets ops approved (the "approved" filter: the status itself moved on)."""
    return Q(approved_at__isnull=False)


# The queue's markers (ops list filter "needs attention"): name -> (label, condition).
ATTENTION = {
    "overdue": (gettext_lazy("overdue"), None),  # needs the time: see with_attention
    "sent_back": (gettext_lazy("sent back by finance"),
                  Q(status=Ticket.Status.PENDING_REVIEW) & ~Q(finance_rejection_reason="")),
    "inspection_rejected": (gettext_lazy("inspection rejected goods"),
                            Q(status=Ticket.Status.PENDING_REVIEW, inspection_passed=False)),
    "escalated": (gettext_lazy("escalated"), Q(escalated_at__isnull=False) & ~Q(status__in=Ticket.FINAL)),
    "intercept_late": (gettext_lazy("too late to hold the shipment"), Q(intercept_failed_at__isnull=False)),
    "no_note": (gettext_lazy("no note since the last decision"), None),
}


def with_attention(queryset: QuerySet[Ticket], name: str, *, now) -> QuerySet[Ticket]:
    if name == "overdue":
        return queryset.filter(next_deadline_at__lt=now)
    if name == "no_note":
        # "A ticket with no note is work not done" (SPEC §9): open, and no note since it was last decided
        # (or since it came in, if nobody decided yet).
        noted = Note.objects.filter(ticket=OuterRef("pk"), created_at__gte=Coalesce(OuterRef("reviewed_at"),
                                                                                    OuterRef("created_at")))
        return queryset.exclude(status__in=Ticket.FINAL).exclude(Exists(noted))
    condition = ATTENTION.get(name, (None, None))[1]
    return queryset.filter(condition) if condition is not None else queryset


# Whose tickets (the queue's "whose" filter, the staff list's ``mine``): name -> label.
WHOSE = {
    "assigned": gettext_lazy("assigned to me"),
    "reviewed": gettext_lazy("reviewed by me"),
    "unassigned": gettext_lazy("nobody's yet"),
}


def with_whose(queryset: QuerySet[Ticket], name: str, *, user) -> QuerySet[Ticket]:
    if name == "assigned":
        return queryset.filter(assignee=user)
    if name == "reviewed":
        return queryset.filter(reviewer=user)
    if name == "unassigned":
        return queryset.filter(assignee__isnull=True)
    return queryset


FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)  # "nothing due" sorts last, as NULLS LAST does


def due_order(*, ranged: bool = False) -> list:
    """The work queue's order: what is due first, tickets nothing is due of (finished ones) last, then by id.
    Index: ticket_queue_due. ``ranged`` (a date range narrows the list): the same order written so that no
    index can serve it, since the recent tickets a range picks have the latest due times, and walking the
    due index from the start to find them reads most of the table (bench/admin_list.py: 1 s at 1,000,000);
    reading the range by its own index and sorting what it holds is fast."""
    if ranged:
        return [Coalesce("next_deadline_at", Value(FAR_FUTURE)).asc(), "id"]
    return [F("next_deadline_at").asc(nulls_last=True), "id"]


def with_due_position(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """``due_position``: the due time, or FAR_FUTURE when nothing is due: a value a cursor can stand on
    (the API's list in due order)."""
    return queryset.annotate(due_position=Coalesce("next_deadline_at", Value(FAR_FUTURE)))


SEARCH_CAP = 1000  # a search is for finding tickets: the first thousand do


def with_search(queryset: QuerySet[Ticket], term: str) -> QuerySet[Ticket]:
    """Tickets of ``queryset`` matching ``term`` (search_ticket_ids): the queue's search box and the staff
    list's ``search``. The matching ids first (each part answered by its index in milliseconds), then the
    list by id: handed to the list query as a subquery, PostgreSQL walked the whole queue to probe it
    (0.5 s at 1,000,000 tickets, bench/admin_list.py)."""
    term = term.strip()
    if not term:
        return queryset
    ids = [row["pk"] for row in search_ticket_ids(term)[:SEARCH_CAP]]
    return queryset.filter(pk__in=ids)


def search_ticket_ids(term: str) -> QuerySet:
    """Ids of tickets whose number, order number, buyer account or a tracking number (return parcel or
    replacement) contains ``term``, any case. Each part is a separate indexed lookup, united."""
    if not storable(term):
        return Ticket.objects.none().values("pk")
    parts = [Ticket.objects.filter(ticket_no__icontains=term),
             Ticket.objects.filter(order__order_no__icontains=term),
             Ticket.objects.filter(buyer__account__icontains=term),
             Ticket.objects.filter(return_shipments__tracking_no__icontains=term),
             Ticket.objects.filter(outbounds__tracking_no__icontains=term)]  # warehouse's, by relation name
    first, *rest = [part.order_by().values("pk") for part in parts]
    return first.union(*rest)
