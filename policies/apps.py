from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = _("Policies")

    def ready(self):
        # Imported here, not at the top: models may be imported only once the app registry is ready.
        from aftersales import refcache
        from policies.models import Policy
        from policies.services import CACHE_KEY

        refcache.drop_on_change(Policy, CACHE_KEY)
