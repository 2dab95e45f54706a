from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self):
        # Imported here, not at the top: models may be imported only once the app registry is ready.
        from aftersales import metrics
        from orders import claims, pages
        from tickets import home
        from tickets.metrics import TicketFigures
        from tickets.presenters import order_links
        from tickets.selectors import claimed_by_line

        claims.register(claimed_by_line)
        pages.register(order_links)
        metrics.register(TicketFigures())
        home.register()  # ops' queue first on the back office's home (access.home)
