from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events and webhooks")

    def ready(self):
        # Imported here, not at the top: models may be imported only once the app registry is ready.
        from aftersales import metrics
        from events import screens
        from events.metrics import WebhookFigures
        from events.outbox import record_timeline_event
        from tickets.models import EventKind
        from tickets.services import subscribe

        # Every kind: the catalogue decides which rows write events (notes and the like write none).
        for kind in EventKind:
            subscribe(kind, record_timeline_event)
        metrics.register(WebhookFigures())
        screens.register()  # a disabled endpoint on the administrators' home (access.home's notices)
