"""Building blocks the apps' admin screens share: a paginator for long lists, records that are written
by services, never by hand. (The back office's site itself is access.site.)"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property


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
