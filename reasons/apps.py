from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReasonsConfig(AppConfig):
    name = "reasons"
    verbose_name = _("Reasons")

    def ready(self):
        # Imported here, not at the top: models may be imported only once the app registry is ready.
        from aftersales import refcache
        from reasons.models import Reason
        from reasons.selectors import LOGISTICS_KEY, OFFERED_KEY

        refcache.drop_on_change(Reason, OFFERED_KEY)
        refcache.drop_on_change(Reason, LOGISTICS_KEY)
