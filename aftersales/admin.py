"""Building blocks the apps' admin screens share: a paginator for long lists, records that are written
by services, never by hand. (The back office's site itself is access.site.)"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class CappedCountPaginator(Paginator):
    """Counting a million rows on every page view costs more than the page: count at most CAP + 1 (the
    list then says "more than CAP"), which the database answers from the first rows it finds."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        # Without the list's ORDER BY: counting needs no order, and the planner is then free to count
        # from whichever index the filter has.
        return self.object_list.order_by()[: self.CAP + 1].count()

    def page(self, number):
        """A "deferred join": the page's ids first, in the list's order (a narrow query an index can
        answer alone, however many rows the filter keeps), then those rows with everything shown."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:bottom + self.per_page])
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record list and detail page that can only be read (nothing is lost or edited by hand)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent, never added, changed or deleted there."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class YesNoFilter(admin.SimpleListFilter):
    """A list filter on whether a row has something: "yes" where ``field`` holds a value (a time, a
    related row), "no" where it is empty. A subclass names the field, its title and its two words;
    ``values`` keeps the words an older address used, ``distinct`` drops the repeats a to-many field
    brings."""

    field = ""
    yes_label = _("Yes")
    no_label = _("No")
    values = ("yes", "no")
    distinct = False

    def lookups(self, request, model_admin):
        return [(self.values[0], self.yes_label), (self.values[1], self.no_label)]

    def queryset(self, request, queryset):
        if self.value() not in self.values:
            return queryset
        chosen = queryset.filter(**{f"{self.field}__isnull": self.value() == self.values[1]})
        return chosen.distinct() if self.distinct else chosen
