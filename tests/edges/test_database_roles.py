"""Issue #19, finding 6: the app connects as a runtime role that owns nothing and may only read and write rows
(aftersales.db_roles), so it cannot switch off, drop or skip a trigger and rewrite history, who made a change
or the logs; the app's ordinary work runs as that role. `migrate` connects as the owner (MIGRATE_DATABASE_URL)
and grants the runtime role its rights.

The suite itself runs as the owner: it creates its test database and empties the tables between tests with
TRUNCATE, which the runtime role may not. The tests here switch the test's connection to the runtime role."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from axes.models import AccessAttempt, AccessLog
from django.contrib.admin.models import LogEntry
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import Client

from aftersales import db_roles
from aftersales.history import ALLOW_TRUNCATE
from refunds.models import Refund, RefundLine
from tests.api_helpers import API, claim_body, pending
from tests.factories import BuyerFactory, UserFactory, client_for, make_order
from tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[2]


def role_for_this_database(suffix: str) -> str:
    """Roles belong to the whole server: one per test database (xdist workers, other runs), so none is shared."""
    return f"{connection.settings_dict['NAME']}_{suffix}"[:63]


def drop_role(role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"')
        cursor.execute(f'DROP ROLE "{role}"')


@pytest.fixture(scope="session")
def runtime_role(django_db_setup, django_db_blocker):
    """The app's runtime role on the test database, granted as `migrate` grants it (as the owner)."""
    with django_db_blocker.unblock():
        role = role_for_this_database("app")
        db_roles.grant_runtime_role(role=role)
        yield role
        drop_role(role)


@pytest.fixture
def as_runtime_role(transactional_db, runtime_role):  # the test says django_db(transaction=True)
    """The test's connection (and so the app's, in this thread) is the runtime role's until the test ends;
    then the owner's again, for the flush. Transactional: each connection sees what the other committed."""
    with db_roles.connected_as(runtime_role, ""):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == runtime_role
        yield runtime_role


def refused(sql: str) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError:
        return True
    return False


def staff_user(username: str, group: str, **extra):
    return UserFactory(username=username, groups=[group], is_staff=True, **extra)


def do_the_days_work() -> dict:
    """A claim submitted and approved through the API, one paid back after the finance approval, a staff
    login, a logout, a lockout lifted, a change in the admin: what the app writes, written."""
    buyer = BuyerFactory(account="alice")
    ops, finance = staff_user("ops1", "ops"), staff_user("finance1", "finance")
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    alice = client_for(buyer.user)

    claim = alice.post(f"{API}/tickets/", claim_body(make_order(buyer=buyer)), format="json")
    approved = client_for(ops).post(f"{API}/staff/tickets/{claim.data['ticket_no']}/approve/", {}, format="json")
    refund_claim = pending(buyer, type="refund_only")
    reviewed = client_for(ops).post(f"{API}/staff/tickets/{refund_claim.ticket_no}/approve/", {}, format="json")
    paid = client_for(finance).post(f"{API}/finance/tickets/{refund_claim.ticket_no}/approve/", {}, format="json")

    browser = Client(REMOTE_ADDR="203.0.113.7")
    login = browser.post("/admin/login/", {"username": "ops1", "password": "pass-1234", "next": "/admin/"})
    logout = browser.post("/admin/logout/")
    wrong = Client(REMOTE_ADDR="203.0.113.8").post("/admin/login/", {"username": "finance1", "password": "guess"})
    admin = Client()
    admin.force_login(boss)
    unlock = admin.post("/admin/auth/user/", {"action": "unlock_logins", "_selected_action": [finance.pk]})
    group = admin.post("/admin/auth/group/add/", {"name": "auditors"})
    return {"claim": claim, "approved": approved, "refund_claim": refund_claim, "reviewed": reviewed, "paid": paid,
            "login": login,
            "logout": logout, "wrong": wrong, "unlock": unlock, "group": group}


@pytest.mark.django_db(transaction=True)
def test_finding6_the_app_does_its_work_as_the_runtime_role(as_runtime_role):
    done = do_the_days_work()

    assert [done[step].status_code for step in ("claim", "approved", "reviewed", "paid")] == [201, 200, 200, 200]
    assert Ticket.objects.get(ticket_no=done["claim"].data["ticket_no"]).status == Ticket.Status.AWAITING_RETURN
    refund = Refund.objects.get(ticket=done["refund_claim"])
    assert refund.status == Refund.Status.SUCCEEDED
    assert RefundLine.objects.filter(refund=refund).count() == 1
    approval = Ticket.objects.get(ticket_no=done["claim"].data["ticket_no"]).history.order_by("-pgh_id").first()
    assert approval.pgh_context.metadata["username"] == "ops1"  # who: the context row the runtime role wrote
    assert (done["login"].status_code, done["logout"].status_code) == (302, 200)
    assert AccessLog.objects.get(username="ops1").logout_time is not None  # the one change axes makes
    assert done["wrong"].status_code == 200 and done["unlock"].status_code == 302
    assert not AccessAttempt.objects.filter(username="finance1").exists()  # unlocked: the counters deleted
    assert done["group"].status_code == 302 and LogEntry.objects.filter(object_repr="auditors").exists()


@pytest.mark.django_db(transaction=True)
def test_finding6_the_runtime_role_cannot_switch_off_drop_or_skip_a_trigger(as_runtime_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0] is False
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'tickets_timelineevent'::regclass"
                       " AND tgname LIKE 'pgtrigger_timeline_append_only%%'")
        trigger = cursor.fetchone()[0]

    assert refused("ALTER TABLE tickets_timelineevent DISABLE TRIGGER ALL")
    assert refused(f"ALTER TABLE tickets_timelineevent DISABLE TRIGGER {trigger}")
    assert refused(f"DROP TRIGGER {trigger} ON tickets_timelineevent")
    assert refused("SET session_replication_role = replica")  # the switch that silences every trigger
    # A temporary table would stand in for a history table in this session (the triggers name it without a
    # schema): the change would leave no history row.
    assert refused("CREATE TEMPORARY TABLE tickets_tickethistory (LIKE public.tickets_tickethistory)")
    assert refused("CREATE TABLE public.tickets_tickethistory_shadow (id int)")
    assert refused("CREATE OR REPLACE FUNCTION public._pgtrigger_should_ignore(trigger_name NAME) RETURNS BOOLEAN"
                   " AS $$ BEGIN RETURN TRUE; END; $$ LANGUAGE plpgsql")
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = %s", [trigger])
        assert cursor.fetchone()[0] == "O"  # still there, still on


@pytest.mark.django_db(transaction=True)
def test_finding6_the_runtime_role_cannot_rewrite_history_who_or_the_logs(as_runtime_role):
    done = do_the_days_work()
    assert done["paid"].status_code == 200
    tables = ["pghistory_context", "refunds_refundline", "django_admin_log", "axes_accesslog",
              "tickets_tickethistory", "tickets_timelineevent"]
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 -- names from the list above
            counts[table] = cursor.fetchone()[0]
    assert all(counts.values()), counts

    for table in tables:
        assert refused(f"UPDATE {table} SET id = id" if "history" not in table  # noqa: S608
                       else f"UPDATE {table} SET pgh_label = pgh_label"), table  # noqa: S608
        assert refused(f"DELETE FROM {table}"), table  # noqa: S608
        assert refused(f"SET {ALLOW_TRUNCATE} = 'on'; TRUNCATE {table} CASCADE"), table  # no TRUNCATE right either
    assert refused("UPDATE pghistory_context SET metadata = '{\"username\": \"someone else\"}'")
    assert refused("UPDATE refunds_refundline SET amount = amount + 1")
    assert refused("UPDATE django_admin_log SET user_id = (SELECT min(id) FROM auth_user)")
    assert refused("UPDATE axes_accesslog SET username = 'someone else'")

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            assert cursor.fetchone()[0] == counts[table], table


@pytest.mark.django_db
def test_finding6_grant_refuses_to_make_the_owner_or_a_superuser_the_runtime_role():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
        superuser = role_for_this_database("super")
        cursor.execute(f'CREATE ROLE "{superuser}" SUPERUSER')  # rolled back with the test's transaction

    with pytest.raises(db_roles.RoleError, match="the user migrations run as"):
        db_roles.grant_runtime_role(role=owner)
    with pytest.raises(db_roles.RoleError, match="is a superuser"):
        db_roles.grant_runtime_role(role=superuser)
    with pytest.raises(db_roles.RoleError, match="not a role name"):
        db_roles.grant_runtime_role(role='app"; DROP TABLE tickets_ticket; --')


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False,
                          env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "test-only",
                               **env})


def url(user: str) -> str:
    db = connection.settings_dict
    return f"postgres://{user}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_finding6_migrate_connects_as_the_owner_and_grants_the_runtime_role():
    """The deployment's steps (docker-compose's migrate service): DATABASE_URL names the runtime role,
    MIGRATE_DATABASE_URL the owner; migrate creates the role and grants it reading and writing rows only."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    role = role_for_this_database("deploy")
    try:
        result = manage("migrate", "--noinput", DATABASE_URL=url(role), MIGRATE_DATABASE_URL=url(owner))

        assert result.returncode == 0, result.stdout + result.stderr
        assert f"granted {role} reading and writing rows" in result.stdout
        with connection.cursor() as cursor:
            cursor.execute("""SELECT rolsuper, rolcreaterole, has_table_privilege(%s, 'tickets_ticket', 'UPDATE'),
                                     has_table_privilege(%s, 'tickets_ticket', 'TRUNCATE'),
                                     has_table_privilege(%s, 'tickets_ticket', 'TRIGGER')
                              FROM pg_roles WHERE rolname = %s""", [role, role, role, role])
            assert cursor.fetchone() == (False, False, True, False, False)
        # Without the owner's URL, migrate runs as the runtime role, which may change nothing of the schema.
        alone = manage("migrate", "--noinput", DATABASE_URL=url(role))
        assert alone.returncode != 0
        assert "permission denied for schema public" in alone.stderr or "must be owner" in alone.stderr
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone():
                drop_role(role)


def test_finding6_the_owners_url_must_name_the_apps_database():
    result = manage("check", DATABASE_URL="postgres://app@127.0.0.1:5432/aftersales",
                    MIGRATE_DATABASE_URL="postgres://owner@127.0.0.1:5432/another")

    assert result.returncode != 0
    assert "MIGRATE_DATABASE_URL must name the same database as DATABASE_URL" in result.stderr


def test_finding6_compose_runs_the_app_as_the_runtime_role_and_migrates_as_the_owner():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    def user(service: str, variable: str) -> str | None:
        value = services[service]["environment"].get(variable)
        return value and value.split("://", 1)[1].split(":", 1)[0]

    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    assert {user(name, "DATABASE_URL") for name in ("migrate", "web", "worker", "beat")} == {"aftersales_app"}
    assert user("migrate", "MIGRATE_DATABASE_URL") == owner != "aftersales_app"
    assert all(user(name, "MIGRATE_DATABASE_URL") is None for name in ("web", "worker", "beat"))
    assert "migrate" in services["migrate"]["command"]
    assert all(services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
               for name in ("web", "worker", "beat"))
