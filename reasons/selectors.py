"""Reading reasons: what a buyer is offered (SPEC §7)."""

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from aftersales import refcache
from reasons.models import Reason

OFFERED_KEY = "reasons:offered:1"
LOGISTICS_KEY = "reasons:logistics:1"


def offered_reason(reason_id) -> Reason | None:
    """The reason with this id if buyers may pick it now, else None (cached: `aftersales.refcache`)."""
    if not isinstance(reason_id, int) or isinstance(reason_id, bool):
        return None
    return refcache.cached(OFFERED_KEY, _read_offered).get(reason_id)


def _read_offered() -> Mapping[int, Reason]:
    return MappingProxyType({reason.pk: reason for reason in Reason.objects.offered()})


def logistics_reason_ids() -> frozenset[int]:
    """Every reason of the group "logistics", retired or not: its tickets have the logistics SLAs (first
    reply, resolution [001]). Cached like the reasons on offer."""
    return refcache.cached(LOGISTICS_KEY, lambda: frozenset(
        Reason.objects.filter(group=Reason.Group.LOGISTICS).values_list("pk", flat=True)))


def list_reasons_for(*, ticket_type: str | None = None, categories: Iterable[str] | None = None) -> list[Reason]:
    """Visible, not retired reasons that fit the ticket type and every product category given, in display
    order. A filter left as None does not filter."""
    wanted = set(categories) if categories is not None else None
    reasons = []
    for reason in Reason.objects.offered():
        if ticket_type is not None and ticket_type not in reason.ticket_types:
            continue
        if wanted is not None and not wanted <= set(reason.categories):
            continue
        reasons.append(reason)
    return reasons
