"""Two database roles (issue #19, finding 6; README "Database roles"): the owner, who changes the schema, and
the app's runtime role, which only reads and writes rows.

The owner owns the tables and their triggers. The runtime role (DATABASE_URL's user: web, worker, beat) is
no superuser, owns nothing and may only SELECT, INSERT, UPDATE and DELETE rows and draw ids from sequences:
it cannot disable or drop a trigger (only an owner may), TRUNCATE a table, or create a temporary table that
would take the place of a history table for its session (the history triggers name their tables without a
schema). So the append-only history and its actors (aftersales.history) hold against the application itself.

`manage.py migrate` connects as the owner (MIGRATE_DATABASE_URL's user; settings.DATABASE_OWNER) and
afterwards grants the runtime role what it needs; `manage.py grant_runtime_role` does that step alone.
Without MIGRATE_DATABASE_URL one user does both (the SQLite demo, a first try on PostgreSQL)."""

import re
from contextlib import contextmanager

from django.conf import settings
from django.db import connections
from psycopg import sql

# A role named in a URL, used in SQL as an identifier: letters, digits, _ and $ (PostgreSQL's own unquoted
# names), so nothing in it needs escaping.
ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")


class RoleError(Exception):
    """The runtime role cannot be what it must be (a superuser, the owner itself, a name that is no name)."""


@contextmanager
def connected_as(user: str, password: str | None, *, using: str = "default"):
    """Within the block, the connection ``using`` connects as ``user`` (the same database, host and port)."""
    connection = connections[using]
    saved = connection.settings_dict["USER"], connection.settings_dict["PASSWORD"]
    connection.close()
    connection.settings_dict.update(USER=user, PASSWORD=password or "")
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.update(USER=saved[0], PASSWORD=saved[1])


@contextmanager
def as_owner(*, using: str = "default"):
    """Within the block, ``using`` connects as the owner (MIGRATE_DATABASE_URL); unset, nothing changes."""
    owner = settings.DATABASE_OWNER
    if owner is None or connections[using].vendor != "postgresql":
        yield
        return
    with connected_as(owner["USER"], owner["PASSWORD"], using=using):
        yield


def runtime_user(*, using: str = "default") -> tuple[str, str]:
    """The runtime role's name and password: DATABASE_URL's user."""
    return settings.DATABASES[using]["USER"], settings.DATABASES[using].get("PASSWORD") or ""


def grant_runtime_role(*, role: str, password: str = "", using: str = "default") -> list[str]:
    """Create ``role`` if it does not exist (with ``password``; an existing role's password is set again when
    the connected user may), and give it exactly the rights the app needs on this database, now and for the
    tables and sequences the connected user (the owner) creates later. Run as the owner. Returns what was
    done, one line each. Raises RoleError if the role is a superuser, the owner itself, or could still
    change the schema afterwards."""
    if not ROLE_NAME.fullmatch(role):
        raise RoleError(f"{role!r} is not a role name this command uses (letters, digits, _ and $).")
    connection = connections[using]
    done = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database(), rolsuper OR rolcreaterole FROM pg_roles"
                       " WHERE rolname = current_user")
        owner, database, may_alter_roles = cursor.fetchone()
        if role == owner:
            raise RoleError(f"{role} is the user migrations run as: the app needs a role of its own "
                            "(set MIGRATE_DATABASE_URL to the owner, DATABASE_URL to the runtime role).")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        found = cursor.fetchone()
        if found is None:
            cursor.execute(f'CREATE ROLE "{role}" LOGIN')
            done.append(f"created role {role}")
        elif found[0]:
            raise RoleError(f"{role} is a superuser: a superuser can disable the history's triggers. Give the "
                            "app a role without it (ALTER ROLE ... NOSUPERUSER, as a superuser).")
        if password and (found is None or may_alter_roles):
            # Past Django's cursor, which would log the statement with DEBUG on.
            with connection.connection.cursor() as raw:
                raw.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
        db = connection.ops.quote_name(database)
        for statement in (
            f'GRANT CONNECT ON DATABASE {db} TO "{role}"',
            f'GRANT USAGE ON SCHEMA public TO "{role}"',
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
            f'REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM "{role}"',
            f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
            # What the owner creates later (the next release's tables) is covered too.
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"',
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO "{role}"',
            # No temporary table may stand in for a history table (the triggers name theirs without a schema),
            # nor a table of its own in the schema: the app creates neither.
            f"REVOKE TEMPORARY ON DATABASE {db} FROM PUBLIC",
            f'REVOKE TEMPORARY ON DATABASE {db} FROM "{role}"',
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        ):
            cursor.execute(statement)
        done.append(f"granted {role} reading and writing rows in {database}, nothing more")
        cursor.execute("""
            SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, pg_has_role(r.oid, %s, 'MEMBER'),
                   has_database_privilege(r.oid, current_database(), 'TEMPORARY'),
                   has_schema_privilege(r.oid, 'public', 'CREATE'),
                   EXISTS (SELECT 1 FROM pg_class c WHERE pg_has_role(r.oid, c.relowner, 'USAGE')
                           AND c.relnamespace = 'public'::regnamespace)
            FROM pg_roles r WHERE r.rolname = %s""", [owner, role])
        can = dict(zip(["is a superuser", "may create roles", "may create databases", f"is a member of {owner}",
                        "may create temporary tables", "may create objects in the schema public",
                        "owns objects in the schema public"], cursor.fetchone(), strict=True))
    still = [what for what, yes in can.items() if yes]
    if still:
        raise RoleError(f"{role} {', '.join(still)}: it could change the schema or its triggers. Take that "
                        "away from it (as a superuser) and run this again.")
    return done
