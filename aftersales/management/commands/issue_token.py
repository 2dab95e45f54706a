"""manage.py issue_token USERNAME: print an API token for that user (created once, then reused)."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token

from aftersales.management.base import RecordedCommand


class Command(RecordedCommand):
    help = "Print an API token for USERNAME (how a shop backend gets one for its buyer)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
