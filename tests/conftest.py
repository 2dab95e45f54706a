import pytest
from django.conf import settings as django_settings

from aftersales.celery import app as celery_app
from tests.factories import BuyerFactory, UserFactory


@pytest.fixture(autouse=True)
def _eager_celery_and_media(settings, tmp_path):
    """Tasks run in-process unless a test starts a real worker; uploads go to a temporary folder."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
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


def pytest_report_header(config):
    return f"database: {django_settings.DATABASES['default']['ENGINE']} {django_settings.DATABASES['default'].get('NAME')}"


def pytest_collection_modifyitems(items):
    """Transactional tests flush the database; restore what the data migrations installed (roles, reasons,
    policies, schedules) afterwards, so later tests find it."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            item.add_marker(pytest.mark.django_db(**{**marker.kwargs, "serialized_rollback": True}))
