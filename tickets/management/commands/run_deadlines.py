"""manage.py run_deadlines [--now ISO8601]: the periodic deadline sweep, once, synchronously."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from aftersales import clock
from tickets.deadlines import run_deadlines


class Command(BaseCommand):
    help = "Run the deadline sweep once (close, auto-confirm, escalate, re-queue refunds); print what it did."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="act as if it were this time (ISO 8601 with offset)")

    def handle(self, *args, now=None, **options):
        moment = clock.now()
        if now:
            moment = parse_datetime(now)
            if moment is None or moment.tzinfo is None:
                raise CommandError("--now takes an ISO 8601 time with its offset, e.g. 2026-11-30T09:00:00+08:00")
        done = run_deadlines(moment)
        self.stdout.write(f"deadline sweep at {moment.isoformat()}:")
        for label in ("closed", "auto_confirmed", "escalated_refund", "escalated_review", "refunds_requeued",
                      "skipped"):
            self.stdout.write(f"  {label}: {done.get(label, 0)}")
