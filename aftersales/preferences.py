"""Per-user choices for the admin's lists: which columns, in what order, how many stay in place while
the rest scroll (SPEC §8); and named views (filters, search, order and columns), one of which may open the
list by default. Remembered in the database, so they follow the user across browsers.

A list also has built-in views (``ListView`` rows its admin declares), each the default of the roles it
names: a list opened bare shows the user's own default view, else their role's."""

from dataclasses import dataclass, field

from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from aftersales.errors import FieldInvalid, NotFound
from aftersales.models import ListColumns, SavedView
from aftersales.roles import in_group

VIEW_VAR = "view"  # the query-string parameter naming the view a list was opened in (not a filter)
NOT_SAVED = (VIEW_VAR, "p", "e", "_changelist_filters")  # page, error flag: not part of a view

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
    columns, frozen = _checked_columns(columns, frozen, available, fixed)
    choice, _created = ListColumns.objects.update_or_create(user=user, list_name=list_name,
                                                            defaults={"columns": columns, "frozen": frozen})
    return choice


def _checked_columns(columns, frozen, available: list[str], fixed: tuple[str, ...]) -> tuple[list[str], int]:
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
    return columns, frozen


def forget_columns(*, user, list_name: str) -> None:
    """Back to the list's default columns."""
    ListColumns.objects.filter(user=user, list_name=list_name).delete()


# ------------------------------------------------------------------------------------------ views


@dataclass(frozen=True)
class ListView:
    """A view of a list: ``query`` is the list's query string (filters, search, order) without VIEW_VAR.
    Built-in ones are declared by the list's admin, ``groups`` naming the roles it is the default of (none:
    for everyone, the superuser's default); saved ones carry their row's columns."""

    key: str
    name: str
    query: str = ""
    groups: tuple[str, ...] = ()
    columns: list[str] = field(default_factory=list)
    frozen: int = 0
    saved: bool = False
    is_default: bool = False

    def url_query(self) -> str:
        """The query string that opens this view (VIEW_VAR last, so the filters read first)."""
        params = QueryDict(self.query, mutable=True)
        params[VIEW_VAR] = self.key
        return params.urlencode()


def _saved(row: SavedView) -> ListView:
    return ListView(key=str(row.pk), name=row.name, query=row.query, columns=list(row.columns), frozen=row.frozen,
                    saved=True, is_default=row.is_default)


def _builtins_for(user, builtins) -> list[ListView]:
    if user.is_superuser:
        return list(builtins)
    return [view for view in builtins if not view.groups or in_group(user, *view.groups)]


def list_views(user, list_name: str, builtins=()) -> list[ListView]:
    """The views ``user`` may pick on ``list_name``: the built-in ones of their roles, then their own."""
    own = SavedView.objects.filter(user_id=user.pk, list_name=list_name).order_by("name", "pk") if user.pk else []
    return [*_builtins_for(user, builtins), *(_saved(row) for row in own)]


def role_view(user, builtins) -> ListView | None:
    """The view of ``user``'s role: the first built-in naming one of their roles (a superuser, who holds
    every role, gets the one for everyone)."""
    if user.is_superuser:
        return next((view for view in builtins if not view.groups), None)
    return next((view for view in builtins if view.groups and in_group(user, *view.groups)),
                next((view for view in builtins if not view.groups), None))


def default_view(user, list_name: str, builtins=()) -> ListView | None:
    """What the list opens on: the user's own default view, else their role's."""
    row = SavedView.objects.filter(user_id=user.pk, list_name=list_name, is_default=True).first() if user.pk else None
    return _saved(row) if row else role_view(user, builtins)


def find_view(user, list_name: str, key: str, builtins=()) -> ListView | None:
    """The view named by ``key`` (a built-in's key or a saved view's id) that ``user`` may use; another
    user's saved view is not found."""
    for view in _builtins_for(user, builtins):
        if view.key == key:
            return view
    if key.isdigit() and user.pk:
        row = SavedView.objects.filter(pk=int(key), user_id=user.pk, list_name=list_name).first()
        return _saved(row) if row else None
    return None


def view_query(params) -> str:
    """The part of a list's query string a view keeps (not the page, the view's own name, the error flag,
    empty fields), in one order, so the same list always reads the same."""
    kept = QueryDict(mutable=True)
    for key, values in sorted(params.lists()):
        values = [value for value in values if value != ""]
        if key not in NOT_SAVED and values:
            kept.setlist(key, values)
    return kept.urlencode()


@transaction.atomic
def save_view(*, user, list_name: str, name: str, query: str, columns, frozen, available: list[str],
              fixed: tuple[str, ...] = (), make_default: bool = False) -> SavedView:
    """Remember the list as ``user`` sees it now under ``name`` (the same name again replaces it). The
    columns are checked as the column choice is; a name is needed."""
    name = (name or "").strip()
    if not name:
        raise FieldInvalid(_("Give the view a name."), field="name")
    if len(name) > SavedView._meta.get_field("name").max_length:
        raise FieldInvalid(_("A shorter name, please (at most 80 characters)."), field="name")
    query = view_query(QueryDict(query or ""))
    if len(query) > SavedView._meta.get_field("query").max_length:
        raise FieldInvalid(_("Too many filters to keep in one view."), field="query")
    columns, frozen = _checked_columns(columns, frozen, available, fixed)
    list(SavedView.objects.select_for_update().filter(user_id=user.pk, list_name=list_name).values_list("pk"))
    if make_default:
        SavedView.objects.filter(user=user, list_name=list_name, is_default=True).exclude(name=name).update(
            is_default=False)
    view, _created = SavedView.objects.update_or_create(
        user=user, list_name=list_name, name=name,
        defaults={"query": query, "columns": columns, "frozen": frozen,
                  **({"is_default": True} if make_default else {})})
    return view


def set_view_columns(*, user, list_name: str, view_id: int, columns, frozen, available: list[str],
                     fixed: tuple[str, ...] = ()) -> SavedView:
    """The columns of one of ``user``'s saved views (chosen while it is open)."""
    view = _own(user, list_name, view_id)
    view.columns, view.frozen = _checked_columns(columns, frozen, available, fixed)
    view.save(update_fields=["columns", "frozen", "updated_at"])
    return view


@transaction.atomic
def make_default_view(*, user, list_name: str, view_id: int | None) -> None:
    """``view_id`` (one of ``user``'s saved views) opens the list from now on; None: the role's view again."""
    # The user's views of the list locked first: two tabs choosing two defaults at once take turns.
    list(SavedView.objects.select_for_update().filter(user_id=user.pk, list_name=list_name).values_list("pk"))
    view = _own(user, list_name, view_id) if view_id is not None else None
    SavedView.objects.filter(user_id=user.pk, list_name=list_name, is_default=True).update(is_default=False)
    if view is not None:
        SavedView.objects.filter(pk=view.pk).update(is_default=True)


def delete_view(*, user, list_name: str, view_id: int) -> None:
    _own(user, list_name, view_id).delete()


def _own(user, list_name: str, view_id) -> SavedView:
    try:
        return SavedView.objects.get(pk=int(view_id), user_id=user.pk, list_name=list_name)
    except (TypeError, ValueError, SavedView.DoesNotExist):
        raise NotFound(_("No such view of yours."), field="view") from None
