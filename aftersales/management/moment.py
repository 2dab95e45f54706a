"""Commands that act as if it were another time (`--now`), the way the periodic tasks act at theirs."""

import datetime as dt

from django.core.management.base import CommandError

from aftersales import clock
from aftersales.management.base import RecordedCommand


class AsOfCommand(RecordedCommand):
    def add_arguments(self, parser):
        parser.add_argument("--now", help="act as if it were this time (ISO 8601 with offset)")

    def moment(self, options) -> dt.datetime:
        try:
            return clock.parse_moment(options.get("now"))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
