"""manage.py grant_runtime_role [--role NAME]: as the owner (MIGRATE_DATABASE_URL), create the app's runtime role
if need be and give it what it needs: reading and writing rows, nothing that changes the schema or its
triggers (aftersales.db_roles). `migrate` does this after migrating; this command does it alone."""

from django.core.management.base import CommandError
from django.db import connections

from aftersales import db_roles
from aftersales.management.base import RecordedCommand


class Command(RecordedCommand):
    help = ("As the owner (MIGRATE_DATABASE_URL), give the app's runtime role (DATABASE_URL's user, or --role) the "
            "rights it needs and no more; creates the role if it does not exist.")

    def add_arguments(self, parser):
        parser.add_argument("--role", help="the role to grant (default: DATABASE_URL's user, with its password)")
        parser.add_argument("--database", default="default")

    def handle(self, *args, role=None, database="default", **options):
        if connections[database].vendor != "postgresql":
            raise CommandError("Database roles are PostgreSQL's: point DATABASE_URL at PostgreSQL.")
        runtime, password = db_roles.runtime_user(using=database)
        if role and role != runtime:
            runtime, password = role, ""
        with db_roles.as_owner(using=database):
            try:
                done = db_roles.grant_runtime_role(role=runtime, password=password, using=database)
            except db_roles.RoleError as exc:
                raise CommandError(str(exc)) from None
        for line in done:
            self.stdout.write(line)
