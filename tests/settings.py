"""Test settings: the real settings, with only transport security relaxed (the test servers speak plain
HTTP on localhost), a fast password hasher, and the cache kept apart per xdist worker. No rule behaves
differently."""

import os

from config.settings import *  # noqa: F403
from config.settings import CACHES, REST_FRAMEWORK

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0

# Tests make users by the hundred; the default hasher would make the fixtures the slow part.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Two xdist workers share one Redis: keep their throttle counters and cached values apart.
CACHES["default"]["KEY_PREFIX"] = f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
# Throttling has its own tests (they lower the rate); elsewhere it must not get in the way.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"user": "100000/min", "ip": "100000/min", "login": "100000/min"}

# Tasks run in-process, right after commit, unless a test starts a real worker (test_celery_worker).
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# The manifest storage needs `collectstatic`; tests serve the app's static files directly.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

# The suite's flush may TRUNCATE the history tables (tests/pg_backend); nothing else differs.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["ENGINE"] = "tests.pg_backend"  # noqa: F405

# Webhooks are sent only where a test sends them itself (or starts a worker that does).
WEBHOOK_DELIVERY = "off"
