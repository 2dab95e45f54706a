from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = "Policies"

    def ready(self):
        from aftersales import refcache
        from policies.models import Policy
        from policies.services import CACHE_KEY

        refcache.drop_on_change(Policy, CACHE_KEY)
