from django.contrib import admin

from policies.models import Policy


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["key", "value", "unit", "description", "source", "updated_at"]
    list_editable = ["value"]
    search_fields = ["key", "description"]
    readonly_fields = ["key", "unit", "source", "updated_at"]

    def has_add_permission(self, request):
        return False  # the rules the code reads are fixed; their values are what an administrator edits

    def has_delete_permission(self, request, obj=None):
        return False
