from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RefundsConfig(AppConfig):
    name = "refunds"
    verbose_name = _("Refunds")

    def ready(self):
        # Imported here, not at the top: models may be imported only once the app registry is ready.
        from aftersales import metrics
        from refunds import home, screens
        from refunds.metrics import RefundFigures
        from refunds.services import refund_auto_approved, refund_late_refund
        from tickets.models import EventKind
        from tickets.services import subscribe

        subscribe(EventKind.AUTO_APPROVE, refund_auto_approved)
        subscribe(EventKind.ESCALATE, refund_late_refund)
        metrics.register(RefundFigures())
        screens.register()  # finance on the ticket page and the queue, through tickets' doors
        home.register()  # "Refunds to approve" first on finance's home (access.home)
