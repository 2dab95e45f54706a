from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WarehouseConfig(AppConfig):
    name = "warehouse"
    verbose_name = _("Warehouse")

    def ready(self):
        # Imported here, not at the top: models may be imported only once the app registry is ready.
        from tickets.models import EventKind
        from tickets.services import subscribe
        from warehouse import home, screens
        from warehouse.services import (
            request_intercept,
            request_replacement_shipment,
            request_reship_shipment,
        )

        # What the warehouse must do because of a ticket's event, recorded in the event's transaction:
        subscribe(EventKind.RESHIP, request_reship_shipment)  # parts to re-ship
        subscribe(EventKind.RECEIVE_GOODS, request_replacement_shipment)  # an exchange's replacement to send
        subscribe(EventKind.APPROVE, request_replacement_shipment)  # (approved with the goods already back)
        subscribe(EventKind.APPROVE, request_intercept)  # a shipment to hold
        subscribe(EventKind.AUTO_APPROVE, request_intercept)
        screens.register()  # the queue's markers for what the warehouse found, through tickets' doors
        home.register()  # arrivals and dispatch first on the warehouse's home (access.home)
