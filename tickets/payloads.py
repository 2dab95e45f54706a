"""What a timeline row records, typed: the one place the shape of ``TimelineEvent.changes`` is defined for
every field someone else reads (the due time an escalation was for, the parts to re-ship, the warehouse's
inspection and photos, a new refund amount).

The row keeps the shape it always had, ``{"field": [old, new], ...}`` (the API shows it as it is). The
ticket services build those fields with the writers here (``due_for``, ``reship``, ``inspection``,
``photos``, ``refund_amount``); readers, in tickets and downstream, use the accessors on ``TimelineEvent``
(``event.due_for``, ``event.reship_parts``, ``event.inspection``, ``event.inspection_photo_ids``,
``event.refund_amount_change``), never the keys. A row without the field (another kind of event) reads as
None or empty; a row written before a column existed reads with that column's default (an inspection row of
three columns has no reason and no note).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

DUE_FOR, RESHIP, INSPECTION, PHOTOS, REFUND_AMOUNT = "due_for", "reship", "inspection", "photos", "refund_amount"


@dataclass(frozen=True)
class ReshipPart:
    """Units of one order line ops asked the warehouse to send again."""

    line_id: str  # the order line's id in the shop's system (OrderLine.line_id)
    units: int


@dataclass(frozen=True)
class LineInspection:
    """One claimed line as the warehouse found it: units received, passed or refused, why, a note."""

    line_id: str
    units: int
    accepted: bool
    reject_reason: str = ""  # an InspectionRejection value, or "" when accepted
    note: str = ""


@dataclass(frozen=True)
class AmountChange:
    """A refund amount before and after the event (``old`` None: there was none to compare with)."""

    old: Decimal | None
    new: Decimal | None


# ------------------------------------------------------------------------------------------ writers
# Each returns the event's fields as stored; a service merges them: changes={**reship(parts), **refund_amount(...)}.


def due_for(kind: str) -> dict:
    return {DUE_FOR: [None, str(kind)]}


def reship(parts: Iterable[ReshipPart]) -> dict:
    return {RESHIP: [None, [[part.line_id, part.units] for part in parts]]}


def inspection(lines: Iterable[LineInspection]) -> dict:
    return {INSPECTION: [None, [[line.line_id, line.units, line.accepted, line.reject_reason, line.note]
                                for line in lines]]}


def photos(photo_ids: Iterable[int]) -> dict:
    return {PHOTOS: [None, list(photo_ids)]}


def refund_amount(old: Decimal | None, new: Decimal) -> dict:
    return {REFUND_AMOUNT: [None if old is None else str(old), str(new)]}


# ------------------------------------------------------------------------------------------ readers


def _new(changes: dict | None, field: str):
    """The "new" side of ``field``, or None when the row does not carry it."""
    value = (changes or {}).get(field)
    return value[1] if isinstance(value, list | tuple) and len(value) == 2 else None


def read_due_for(changes: dict | None) -> str | None:
    return _new(changes, DUE_FOR) or None


def read_reship(changes: dict | None) -> tuple[ReshipPart, ...]:
    return tuple(ReshipPart(line_id=line_id, units=int(units)) for line_id, units in _new(changes, RESHIP) or ())


def read_inspection(changes: dict | None) -> tuple[LineInspection, ...]:
    return tuple(LineInspection(row[0], int(row[1]), bool(row[2]), *[value or "" for value in row[3:5]])
                 for row in _new(changes, INSPECTION) or ())


def read_photos(changes: dict | None) -> tuple[int, ...]:
    return tuple(int(pk) for pk in _new(changes, PHOTOS) or ())


def read_refund_amount(changes: dict | None) -> AmountChange | None:
    value = (changes or {}).get(REFUND_AMOUNT)
    if value is None:
        return None
    if not isinstance(value, list | tuple):  # a bare amount: the new one
        value = [None, value]
    old, new = value
    return AmountChange(old=_amount(old), new=_amount(new))


def _amount(value) -> Decimal | None:
    return None if value in (None, "", "None") else Decimal(str(value))
