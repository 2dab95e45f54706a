"""manage.py run_deadlines [--now ISO8601]: the periodic deadline sweep, once, synchronously."""

from django.core.management.base import BaseCommand, CommandError

from aftersales import clock
from tickets.deadlines import run_deadlines


class Command(BaseCommand):
    help = "Run the ticket deadline sweep once (close, auto-confirm, escalate); print what it did."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="act as if it were this time (ISO 8601 with offset)")

    def handle(self, *args, now=None, **options):
        try:
            moment = clock.parse_moment(now)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        done = run_deadlines(moment)
        self.stdout.write(f"deadline sweep at {moment.isoformat()}:")
        for label in ("closed", "auto_confirmed", "escalated_refund", "escalated_review", "skipped"):
            self.stdout.write(f"  {label}: {done.get(label, 0)}")
