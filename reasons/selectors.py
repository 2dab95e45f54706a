"""Reading reasons: what a buyer is offered (SPEC §7)."""

from collections.abc import Iterable

from reasons.models import Reason


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
