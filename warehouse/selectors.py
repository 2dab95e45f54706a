"""Warehouse reads: the scan box's search, and the stock balances checked against their ledger."""

from django.db import connection
from django.db.models import QuerySet

from tickets.models import Ticket
from warehouse.models import Location, StockBalance, StockMovement


def search_arrivals(term: str, *, queue: bool = True) -> QuerySet:
    """Ids of tickets whose number or the buyer's return tracking number contains ``term``, any case (a
    scanner types the whole number, a person part of it). Each part is answered by its own trigram index
    on UPPER(column) (tickets migration 0005), the parts united; ``queue``: only tickets awaiting return."""
    if "\x00" in term:
        return Ticket.objects.none().values("pk")
    parts = [Ticket.objects.filter(ticket_no__icontains=term),
             Ticket.objects.filter(return_shipments__tracking_no__icontains=term)]
    if queue:
        parts = [part.filter(status=Ticket.Status.AWAITING_RETURN) for part in parts]
    first, *rest = [part.order_by().values("pk") for part in parts]
    return first.union(*rest)


def stock_mismatches() -> list[tuple[str, str, int, int]]:
    """(SKU, location, balance, sum of movements) wherever the kept balance and the ledger disagree (none, as
    long as every movement went through warehouse.services)."""
    balances, movements = StockBalance._meta.db_table, StockMovement._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(b.sku, m.sku), COALESCE(b.location, m.location), COALESCE(b.quantity, 0),"
            f" COALESCE(m.total, 0)"
            f" FROM {balances} b FULL OUTER JOIN (SELECT sku, location, SUM(quantity) AS total FROM {movements}"
            f" GROUP BY sku, location) m ON m.sku = b.sku AND m.location = b.location"
            f" WHERE COALESCE(b.quantity, 0) <> COALESCE(m.total, 0) ORDER BY 1, 2")
        return [(sku, location, int(balance), int(total)) for sku, location, balance, total in cursor.fetchall()]


def stock_on_hand(skus) -> dict[str, int]:
    """Sellable stock per SKU as the after-sales ledger has it (a SKU never moved reads 0; a negative number:
    more replacements left than returns came back, forward stock not being mirrored here)."""
    return dict(StockBalance.objects.filter(sku__in=set(skus), location=Location.SELLABLE)
                .values_list("sku", "quantity"))
