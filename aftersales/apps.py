from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = _("Platform")

    def ready(self):
        # Once the registry is ready: these use models. Without Redis, `runserver` runs the periodic tasks
        # itself (aftersales.scheduler).
        from aftersales.history import refuse_trigger_bypass
        from aftersales.scheduler import start_for_runserver

        # After every migrate, no session may skip a trigger by naming it (aftersales.history).
        post_migrate.connect(refuse_trigger_bypass, sender=self, dispatch_uid="aftersales.refuse_trigger_bypass")
        start_for_runserver()
