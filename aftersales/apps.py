from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = _("Platform")

    def ready(self):
        # Without Redis, `runserver` runs the periodic tasks itself (aftersales.scheduler).
        from aftersales import staff_admin, tokens
        from aftersales.scheduler import start_for_runserver

        staff_admin.register()  # the user list with "Unlock logins" (staff logins, issue #14)
        tokens.connect_revocation()  # a password or two-factor change revokes the user's API tokens
        start_for_runserver()


class BackOfficeAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with the back office's site (aftersales.admin.BackOfficeSite)."""

    default = False  # named in INSTALLED_APPS; "aftersales" itself stays AftersalesConfig
    default_site = "aftersales.admin.BackOfficeSite"
