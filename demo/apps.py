from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo: `manage.py seed_demo` and the journeys that walk tickets through the real services. It sits
    above every other part (nothing imports it but tests)."""

    name = "demo"
    verbose_name = _("Demo")
