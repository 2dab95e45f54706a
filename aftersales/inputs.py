"""Parsing what people type or send, for services that are called by views, the admin and tasks alike.
Each function returns the clean value or raises a domain error naming the field."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from aftersales.errors import FieldInvalid, FieldRequired


def clean_text(value, *, field: str, required: bool, limit: int = 500) -> str:
    """Stripped text of at most ``limit`` characters; None counts as empty."""
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise FieldInvalid(_("Must be text."), field=field)
    if required and not text:
        raise FieldRequired(_("This field is required."), field=field)
    if len(text) > limit:
        raise FieldInvalid(_("At most %(limit)s characters.") % {"limit": limit}, field=field)
    return text


@dataclass(frozen=True)
class LineQuantity:
    """One entry of a ``lines`` list: an order line, a number of its units, and (for a receipt) whether
    they passed inspection. ``index`` is its place in the list, for naming the field at fault."""

    index: int
    order_line_id: str
    quantity: int
    accepted: bool | None = None


def line_quantities(lines, *, with_accepted: bool = False, once_per_line: bool = True) -> list[LineQuantity]:
    """``[{"order_line_id", "quantity"[, "accepted"]}, ...]``: a non-empty list, each order line once,
    each quantity a whole number of at least 1 (the claim, the inbound and the outbound all send this).
    ``once_per_line`` False: an order line may come several times (an inspection splits a line's units into
    passed and refused, with a reason each)."""
    if not isinstance(lines, list) or not lines:
        raise FieldRequired(_("Name at least one line."), field="lines")
    out: list[LineQuantity] = []
    seen: set[str] = set()
    for i, item in enumerate(lines):
        if not isinstance(item, dict):
            raise FieldInvalid(_("Each line is an object."), field=f"lines.{i}")
        line_id, units, accepted = item.get("order_line_id"), item.get("quantity"), item.get("accepted")
        if not isinstance(line_id, str) or not line_id:
            raise FieldRequired(_("Name the order line."), field=f"lines.{i}.order_line_id")
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise FieldInvalid(_("A whole number of at least 1."), field=f"lines.{i}.quantity")
        if once_per_line and line_id in seen:
            raise FieldInvalid(_("Each order line once."), field=f"lines.{i}.order_line_id")
        if with_accepted and not isinstance(accepted, bool):
            raise FieldRequired(_("Say whether the goods passed inspection."), field=f"lines.{i}.accepted")
        seen.add(line_id)
        out.append(LineQuantity(i, line_id, units, accepted if with_accepted else None))
    return out
