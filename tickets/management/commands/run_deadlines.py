"""manage.py run_deadlines [--now ISO8601]: the periodic deadline sweep, once, synchronously."""

from aftersales.management.moment import AsOfCommand
from tickets.deadlines import LABELS, run_deadlines


class Command(AsOfCommand):
    help = ("Run the ticket deadline sweep once (close, auto-confirm, escalate, refund automatically where the "
            "policy says so); print what it did.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--workers", type=int, default=1,
                            help="threads sweeping side by side (default 1; the periodic task uses "
                                 "DEADLINE_SWEEP_WORKERS)")

    def handle(self, *args, **options):
        moment = self.moment(options)
        done = run_deadlines(moment, workers=options["workers"])
        self.stdout.write(f"deadline sweep at {moment.isoformat()}:")
        for label in LABELS:
            self.stdout.write(f"  {label}: {done.get(label, 0)}")
