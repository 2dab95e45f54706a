"""manage.py reconcile_refunds [--now ISO8601]: what the periodic reconciliation does, once."""

from aftersales import clock
from aftersales.management.moment import AsOfCommand
from refunds.tasks import OUTCOMES, reconcile_refunds


class Command(AsOfCommand):
    help = ("Settle refunds stuck pending or in progress: ask the gateway about each, record those it paid, "
            "send the others again (idempotent); print the count per outcome.")

    def handle(self, *args, **options):
        moment = self.moment(options)
        with clock.frozen_at(moment):
            found = reconcile_refunds(now=moment)
        for outcome, meaning in OUTCOMES.items():
            self.stdout.write(f"{outcome}: {found[outcome]}  ({meaning})")
        self.stdout.write(f"refunds_requeued: {found['redispatched'] + found['resent']}")
