"""Reads of the order mirror."""

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from aftersales.errors import NotFound
from orders.models import Order, OrderLine


def list_orders_for_buyer(user) -> QuerySet[Order]:
    """The caller's own orders, with their shop and lines."""
    return Order.objects.filter(buyer__user=user).select_related("shop").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("pk")))


def get_order_for_buyer(user, order_no: str) -> Order:
    """The caller's own order; another buyer's is "not found"."""
    order = list_orders_for_buyer(user).filter(order_no=order_no).first() if "\x00" not in order_no else None
    if order is None:
        raise NotFound(_("No such order."), field="order_no")
    return order
