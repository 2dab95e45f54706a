"""manage.py requeue_refunds [--now ISO8601]: what the periodic re-queue of stuck refunds does, once."""

from django.core.management.base import BaseCommand, CommandError

from aftersales import clock
from refunds.tasks import requeue_stuck_refunds


class Command(BaseCommand):
    help = "Queue again the refunds still pending or in progress after the retry delay (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="act as if it were this time (ISO 8601 with offset)")

    def handle(self, *args, now=None, **options):
        try:
            moment = clock.parse_moment(now)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        with clock.frozen_at(moment):
            requeued = requeue_stuck_refunds(moment)
        self.stdout.write(f"refunds_requeued: {requeued}")
