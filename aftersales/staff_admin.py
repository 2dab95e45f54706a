"""The user list, with the administrator's way out of a lockout: "Unlock logins" (aftersales.lockout)."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
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


def register() -> None:
    """Called once the admin has found every app's admin module (aftersales.apps): Django's own user
    admin is then replaced by this one."""
    if admin.site.is_registered(User):
        admin.site.unregister(User)
    admin.site.register(User, BackOfficeUserAdmin)
