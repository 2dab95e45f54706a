"""manage.py requeue_refunds [--now ISO8601]: what the periodic re-queue of stuck refunds does, once."""

from aftersales import clock
from aftersales.management.moment import AsOfCommand
from refunds.tasks import requeue_stuck_refunds


class Command(AsOfCommand):
    help = "Queue again the refunds still pending or in progress after the retry delay (idempotent); print how many."

    def handle(self, *args, **options):
        moment = self.moment(options)
        with clock.frozen_at(moment):
            requeued = requeue_stuck_refunds(moment)
        self.stdout.write(f"refunds_requeued: {requeued}")
