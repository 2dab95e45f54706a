"""manage.py run_deadlines [--now ISO8601]: the periodic deadline sweep, once, synchronously."""

from aftersales.management.moment import AsOfCommand
from tickets.deadlines import LABELS, run_deadlines


class Command(AsOfCommand):
    help = ("Run the ticket deadline sweep once (close, auto-confirm, escalate, refund automatically where the "
            "policy says so); print what it did.")

    def handle(self, *args, **options):
        moment = self.moment(options)
        done = run_deadlines(moment)
        self.stdout.write(f"deadline sweep at {moment.isoformat()}:")
        for label in LABELS:
            self.stdout.write(f"  {label}: {done.get(label, 0)}")
