from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WarehouseConfig(AppConfig):
    name = "warehouse"
    verbose_name = _("Warehouse")

    def ready(self):
        # Imported here, not at the top: models may be imported only once the app registry is ready.
        from tickets.models import EventKind
        from tickets.services import subscribe
        from warehouse.services import request_reship_shipment

        subscribe(EventKind.RESHIP, request_reship_shipment)
