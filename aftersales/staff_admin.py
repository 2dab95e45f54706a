"""The user list, with the administrator's way out of a lockout: "Unlock logins" (aftersales.lockout); the
successful logins, kept.

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

from aftersales import lockout

User = get_user_model()


class BackOfficeUserAdmin(UserAdmin):
    actions = ["unlock_logins"]

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


def register() -> None:
    """Called once the admin has found every app's admin module (aftersales.apps): Django's own user
    admin is then replaced by this one, axes' login log by one that deletes nothing."""
    if admin.site.is_registered(User):
        admin.site.unregister(User)
    admin.site.register(User, BackOfficeUserAdmin)
    if admin.site.is_registered(AccessLog):
        admin.site.unregister(AccessLog)
        admin.site.register(AccessLog, KeptAccessLogAdmin)
