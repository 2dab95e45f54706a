from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    """Who may come in: staff logins (lockout, two-factor, the back office's site and its login page) and
    API tokens. Listed before django.contrib.admin, so its login and base templates are the admin's."""

    name = "access"
    verbose_name = _("Logins and API tokens")

    def ready(self):
        # Once the registry is ready: these use models.
        from access import admin, tokens

        admin.register()  # the user list with "Unlock logins" (staff logins, issue #14), the API tokens
        tokens.connect_revocation()  # a password or two-factor change revokes the user's API tokens


class BackOfficeAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with the back office's site (access.site.BackOfficeSite)."""

    default = False  # named in INSTALLED_APPS; "access" itself stays AccessConfig
    default_site = "access.site.BackOfficeSite"
