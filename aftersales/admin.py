"""Admin building blocks shared by the apps: records that are written by services, never by hand."""

from django.contrib import admin


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
