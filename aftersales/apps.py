from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = _("Platform")

    def ready(self):
        # Once the registry is ready: these use models. Without Redis, `runserver` runs the periodic tasks
        # itself (aftersales.scheduler).
        from aftersales import staff_admin, tokens
        from aftersales.history import refuse_trigger_bypass
        from aftersales.scheduler import start_for_runserver

        # After every migrate, no session may skip a trigger by naming it (aftersales.history).
        post_migrate.connect(refuse_trigger_bypass, sender=self, dispatch_uid="aftersales.refuse_trigger_bypass")
        staff_admin.register()  # the user list with "Unlock logins" (staff logins, issue #14)
        tokens.connect_revocation()  # a password or two-factor change revokes the user's API tokens
        start_for_runserver()


class BackOfficeAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with the back office's site (aftersales.admin.BackOfficeSite)."""

    default = False  # named in INSTALLED_APPS; "aftersales" itself stays AftersalesConfig
    default_site = "aftersales.admin.BackOfficeSite"
