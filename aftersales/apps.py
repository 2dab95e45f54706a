from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = "Platform"


class BackOfficeAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with the back office's site (aftersales.admin.BackOfficeSite)."""

    default = False  # named in INSTALLED_APPS; "aftersales" itself stays AftersalesConfig
    default_site = "aftersales.admin.BackOfficeSite"
