"""The base of every management command of ours: what a command changes says so in the history.

While the command runs, history rows carry {"command": "<name>"} (aftersales.history_context), so the
ticket page's change history reads "command reconcile_refunds" instead of "raw SQL"; a Celery task the
command runs eagerly records its own context, and the command's comes back after it. The command's log
lines, and the tasks it queues, carry an id of its own (in the logs' request_id field), so one search
finds one run and everything it set off. tests/kernel/test_operability.py checks that every command of
the project's parts derives from it."""

import uuid

from django.core.management.base import BaseCommand

from aftersales import history_context
from aftersales.logs import REQUEST_ID


class RecordedCommand(BaseCommand):
    def execute(self, *args, **options):
        token = REQUEST_ID.set(REQUEST_ID.get() or uuid.uuid4().hex)
        history_context.begin(command=self.command_name())
        try:
            return super().execute(*args, **options)
        finally:
            history_context.end()
            REQUEST_ID.reset(token)

    @classmethod
    def command_name(cls) -> str:
        """The name the command is run by: its module's (Django finds commands by module name)."""
        return cls.__module__.rsplit(".", 1)[-1]
