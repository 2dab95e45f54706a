"""manage.py migrate, as the owner: with MIGRATE_DATABASE_URL set, the migrations (and everything migrate runs
after them) connect as its user, the owner of the tables and their triggers; then the app's runtime role
(DATABASE_URL's user) is given the rights it needs on what now exists (aftersales.db_roles). Without it,
Django's migrate as it is (one user does both: the demo, the test suite)."""

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import migrate

from aftersales import db_roles
from aftersales.management.base import RecordedCommand


class Command(RecordedCommand, migrate.Command):
    def handle(self, *args, **options):
        using = options["database"]
        role, password = db_roles.runtime_user(using=using)
        with db_roles.as_owner(using=using):
            super().handle(*args, **options)
            if settings.DATABASE_OWNER and role != settings.DATABASE_OWNER["USER"]:
                try:
                    done = db_roles.grant_runtime_role(role=role, password=password, using=using)
                except db_roles.RoleError as exc:
                    raise CommandError(str(exc)) from None
                for line in done:
                    self.stdout.write(f"  {line}")
