import importlib

import pytest
from django.conf import settings as django_settings

from config.celery_app import app as celery_app
from tests.factories import BuyerFactory, UserFactory, client_for


@pytest.fixture(scope="session", autouse=True)
def _no_session_left_at_teardown(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end what still holds it: a thread's or a live server's
    connection that closed while its server process was still exiting."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                       " WHERE datname = current_database() AND pid <> pg_backend_pid()")
    connection.close()


@pytest.fixture(autouse=True)
def _eager_celery_and_media(settings, tmp_path):
    """Uploads go to a temporary folder; tasks run in-process (tests/settings.py) and must still do so."""
    assert celery_app.conf.task_always_eager, "a test left Celery sending to a broker"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield


@pytest.fixture
def ops_user(db):
    return UserFactory(username="ops1", groups=["ops"], is_staff=True)


@pytest.fixture
def finance_user(db):
    return UserFactory(username="finance1", groups=["finance"], is_staff=True)


@pytest.fixture
def warehouse_user(db):
    return UserFactory(username="warehouse1", groups=["warehouse"], is_staff=True)


@pytest.fixture
def service_user(db):
    return UserFactory(username="service1", groups=["service"])


@pytest.fixture
def staff(ops_user, finance_user, warehouse_user):
    return {"ops": ops_user, "finance": finance_user, "warehouse": warehouse_user}


@pytest.fixture
def buyer(db):
    return BuyerFactory(account="alice")


@pytest.fixture
def alice(buyer):
    """The `buyer`'s API client (token auth)."""
    return client_for(buyer.user)


@pytest.fixture
def bob_buyer(db):
    return BuyerFactory(account="bob")


def pytest_report_header(config):
    return f"database: {django_settings.DATABASES['default']['ENGINE']} {django_settings.DATABASES['default'].get('NAME')}"



REFERENCE_DATA = ["aftersales.migrations.0002_roles:create_roles", "policies.migrations.0002_defaults:install_defaults",
                  "reasons.migrations.0002_defaults:install_defaults", "tickets.migrations.0002_periodic_tasks:install",
                  "refunds.migrations.0003_refund_requested_and_requeue_schedule:install",
                  "refunds.migrations.0007_backfill_parts_and_schedules:install",
                  *(f"{app}.migrations.{name}:grant" for app, name in (
                      ("orders", "0002_role_permissions"), ("reasons", "0003_role_permissions"),
                      ("policies", "0003_role_permissions"), ("tickets", "0004_role_permissions"),
                      ("refunds", "0004_role_permissions"), ("warehouse", "0002_role_permissions"),
                      ("warehouse", "0006_outbound_request_permissions"), ("refunds", "0009_refund_queue_permissions"),
                      ("warehouse", "0008_warehouse_screens_permissions"))),
                  "tickets.migrations.0010_reply_template_library:install",
                  "warehouse.migrations.0013_seed_couriers:seed",
                  "tickets.migrations.0018_reply_template_title_zh:install"]


@pytest.fixture(autouse=True)
def _reference_data(request):
    """What the data migrations install (roles, policies, reasons, schedules) is there for every test, also
    after a transactional test flushed the database: installed again with the migrations' own functions."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    from django.apps import apps

    from aftersales import refcache

    refcache.forget_all()  # what an earlier test read (and rolled back) is not this test's data
    from django.contrib.auth.models import Group

    if Group.objects.filter(name="service").exists():
        return
    for target in REFERENCE_DATA:
        module, function = target.split(":")
        getattr(importlib.import_module(module), function)(apps, None)
