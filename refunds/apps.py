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
        from refunds.models import reference_in_words
        from refunds.services import refund_auto_approved, refund_late_refund
        from tickets.models import EventKind
        from tickets.presenters import register_change_words
        from tickets.services import subscribe

        subscribe(EventKind.AUTO_APPROVE, refund_auto_approved)
        subscribe(EventKind.ESCALATE, refund_late_refund)
        register_change_words("gateway_reference", reference_in_words)  # "manual: …" in the reader's words
        metrics.register(RefundFigures())
        screens.register()  # finance on the ticket page and the queue, through tickets' doors
        home.register()  # "Refunds to approve" first on finance's home (access.home)
