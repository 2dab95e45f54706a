"""The user list, with the administrator's way out of a lockout: "Unlock logins" (access.lockout); the
successful logins, kept; the API tokens, listed and revocable.

The admin's log and the login log are append-only in PostgreSQL (aftersales/migrations/0007_append_only_logs):
the screens do not offer what the database would refuse."""

from axes.admin import AccessLogAdmin
from axes.models import AccessLog
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from knox.models import AuthToken
from rest_framework.authtoken.models import TokenProxy

from access import lockout
from access.models import ApiToken

User = get_user_model()


class BackOfficeUserAdmin(UserAdmin):
    actions = ["unlock_logins"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "is_staff":
            # Django's own words say the flag is needed to log in; here a role's group is enough (access.site).
            formfield.help_text = _("Not needed to log in here: a user in a role's group (ops, finance, "
                                    "warehouse) may log in without it. Without a role, it lets the user in to "
                                    "what their own permissions allow.")
        return formfield

    @admin.action(description=_("Unlock logins of the selected users"), permissions=["unlock"])
    def unlock_logins(self, request, queryset):
        users = list(queryset)
        lockout.unlock_logins(usernames=[user.get_username() for user in users], actor=request.user)
        self.message_user(request, ngettext(
            "Unlocked %(count)d user: they may log in again at once.",
            "Unlocked %(count)d users: they may log in again at once.", len(users)) % {"count": len(users)},
            messages.SUCCESS)

    def has_unlock_permission(self, request) -> bool:
        return lockout.can_unlock(request.user)

    def get_deleted_objects(self, objs, request):
        """A user's entries in the admin's log are history and keep the user (deactivate them instead): the
        delete page lists some of them as what protects the user, as it lists any protected object."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        entries = LogEntry.objects.filter(user__in=objs).order_by("-action_time")[:10]
        protected += [f"{capfirst(LogEntry._meta.verbose_name)}: {entry}" for entry in entries]
        return deleted, counts, perms_needed, protected


class KeptAccessLogAdmin(AccessLogAdmin):
    """The successful logins (django-axes), read only: never deleted (the database refuses)."""

    def has_delete_permission(self, request, obj=None):
        return False


class ApiTokenAdmin(admin.ModelAdmin):
    """Who holds API tokens, since when, until when: deleting one revokes it. None is made here (knox's
    own page would, with any expiry): tokens come from the token endpoint and `issue_token`, which give
    staff their idle expiry (access.tokens)."""

    list_display = ["user", "created", "expiry"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    ordering = ["-created"]
    fields = ["user", "created", "expiry"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def register() -> None:
    """Called from access.apps: Django's own user admin is replaced by this one, axes' login log by one
    that deletes nothing, knox's token admin by ApiTokenAdmin on the ApiToken proxy (under the staff logins,
    in its words), and DRF's tokens (no longer used) leave the admin.

    This app stands before django.contrib.admin in INSTALLED_APPS (its templates are the admin's), so it
    is ready before the admin looks for every app's admin module: the modules whose registrations are
    replaced here are imported first, and the admin's later look finds them already imported."""
    # Imported here, not at the top: each registers its model on the site as it is imported.
    import axes.admin  # noqa: F401
    import django.contrib.auth.admin  # noqa: F401
    import knox.admin  # noqa: F401
    import rest_framework.authtoken.admin  # noqa: F401

    for model, model_admin in ((User, BackOfficeUserAdmin), (AuthToken, None), (ApiToken, ApiTokenAdmin), (TokenProxy, None),
                               (AccessLog, KeptAccessLogAdmin)):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        if model_admin is not None:
            admin.site.register(model, model_admin)
