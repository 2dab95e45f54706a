"""manage.py issue_token USERNAME: print a new API token for that user (only its hash is kept, so an earlier
one cannot be printed again; earlier ones keep working until revoked or, for staff, unused too long)."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from access import tokens
from aftersales.management.base import RecordedCommand


class Command(RecordedCommand):
    help = "Print a new API token for USERNAME (how a shop backend gets one for its buyer)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        _token, secret = tokens.issue_token(user)
        self.stdout.write(secret)
