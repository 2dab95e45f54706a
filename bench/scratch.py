"""What the benches share: a scratch PostgreSQL database of the run's own (on BENCH_PG_URL, default
postgres://postgres@127.0.0.1:5432/postgres), Django set up on it in the bench's own process, and a staff
login to drive the screens with. Benches import nothing from tests/ (an import-linter contract): what they
need in the database they make here, through the services, or with ``manage.py seed_bulk``."""

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


def pg_urls(db_name: str) -> tuple[str, str]:
    """(maintenance URL, bench database URL) on the BENCH_PG_URL server."""
    admin = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(admin)
    return admin, urlunsplit(parts._replace(path=f"/{db_name}"))


def scratch_name(base: str) -> str:
    """This run's own database name: two benches running at once never drop each other's database."""
    return f"{base}_{os.getpid()}"


def recreate_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def parse_arguments(parser: argparse.ArgumentParser, base: str) -> argparse.Namespace:
    """The bench's arguments, with ``--db-name`` (default ``<base>_<pid>``, this run's own) and ``--keep-db``.
    From here a plain `kill` cleans up too: SIGTERM unwinds through the bench's ``finally``, as Ctrl-C does."""
    parser.add_argument("--db-name", default=None, help=f"default: {base}_<pid>, this run's own")
    parser.add_argument("--keep-db", action="store_true", help="leave the database for inspection")
    args = parser.parse_args()
    args.db_name = args.db_name or scratch_name(base)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    return args


def setup_django(db_url: str, **env: str) -> None:
    """Migrate the scratch database, then set Django up on it in this process: DEBUG off, no Redis (Celery
    eager, as the demo), the test client's host allowed; ``env`` adds to or overrides that."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": db_url,
           "SECRET_KEY": "bench-only", "DEBUG": "0", "REDIS_URL": "", "ALLOWED_HOSTS": "testserver",
           "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "WARNING", **env}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def staff_user(username: str, *groups: str):
    """A login of the staff ``groups`` (which the migrations create: ops, finance, warehouse, ...), made once."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_password("bench-only-password")
        user.save(update_fields=["password"])
    user.groups.add(*[Group.objects.get(name=name) for name in groups])  # an unknown group fails here
    return user
