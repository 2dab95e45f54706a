"""Per-user choices for the admin's lists: which columns, in what order, how many stay in place while
the rest scroll (SPEC §8). Remembered in the database, so they follow the user across browsers."""

from django.db import transaction

from aftersales.errors import FieldInvalid
from aftersales.models import ListColumns

MAX_FROZEN = 3


def get_columns(user, list_name: str, available: list[str], *, fixed: tuple[str, ...] = ()) -> tuple[list[str], int]:
    """(columns to show, in order; how many are frozen) for ``user``'s ``list_name``: their choice, with
    columns that no longer exist dropped and fixed ones put back; else every available column."""
    choice = ListColumns.objects.filter(user_id=user.pk, list_name=list_name).first() if user.pk else None
    if choice is None:
        return list(available), 0
    columns = [name for name in choice.columns if name in available]
    columns = [name for name in fixed if name not in columns] + columns
    return columns, min(choice.frozen, len(columns))


@transaction.atomic
def save_columns(*, user, list_name: str, columns, frozen, available: list[str],
                 fixed: tuple[str, ...] = ()) -> ListColumns:
    """Remember ``user``'s columns for ``list_name``. Unknown names, a column twice, no column at all, or
    more frozen columns than shown (or than MAX_FROZEN) are refused, naming the field."""
    if not isinstance(columns, list) or not all(isinstance(name, str) for name in columns):
        raise FieldInvalid("A list of column names.", field="columns")
    unknown = [name for name in columns if name not in available]
    if unknown:
        raise FieldInvalid(f"No such column: {', '.join(unknown)}.", field="columns")
    if len(set(columns)) != len(columns):
        raise FieldInvalid("Each column once.", field="columns")
    columns = [name for name in fixed if name not in columns] + columns
    if not columns:
        raise FieldInvalid("Show at least one column.", field="columns")
    try:
        frozen = int(frozen)
    except (TypeError, ValueError):
        raise FieldInvalid("A whole number.", field="frozen") from None
    if not 0 <= frozen <= min(MAX_FROZEN, len(columns)):
        raise FieldInvalid(f"From 0 to {min(MAX_FROZEN, len(columns))}.", field="frozen")
    choice, _ = ListColumns.objects.update_or_create(user=user, list_name=list_name,
                                                     defaults={"columns": columns, "frozen": frozen})
    return choice


def forget_columns(*, user, list_name: str) -> None:
    """Back to the list's default columns."""
    ListColumns.objects.filter(user=user, list_name=list_name).delete()
