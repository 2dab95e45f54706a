"""manage.py requeue_refunds [--now ISO8601]: the former name of reconcile_refunds, kept for scripts."""

from refunds.management.commands.reconcile_refunds import Command as Reconcile


class Command(Reconcile):
    pass
