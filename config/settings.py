"""Settings, all from the environment (django-environ): DJANGO_SETTINGS_MODULE=config.settings.

Embedded default: SQLite and no Redis (Celery tasks run in-process after commit).
DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis; MIGRATE_DATABASE_URL names the owner migrations run as.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from aftersales.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "access.pages.csrf_failure"  # an expired form: the back office's refusal page, translated

INSTALLED_APPS = [
    # Staff logins and API tokens: before the admin, so its login and base templates are the admin's.
    "access",
    "access.apps.BackOfficeAdminConfig",  # django.contrib.admin, with the back office's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # DRF's own tokens are no longer used (knox's are, access.tokens): the app stays installed only so
    # the migration that moved its tokens to knox (aftersales 0006) can read its table; its admin is removed.
    "rest_framework.authtoken",
    "knox",
    "django_filters",
    "rangefilter",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, not a CDN
    "csp",
    "django_celery_beat",
    "pgtrigger",
    "pghistory",
    "aftersales",
    "policies",
    "reasons",
    "orders",
    "tickets",
    "refunds",
    "warehouse",
    "events",
    "demo",
]

MIDDLEWARE = [
    "aftersales.middleware.RequestIdMiddleware",
    # One access-log line and one metrics observation per request, timed around everything below (#14).
    "aftersales.middleware.AccessMiddleware",
    "aftersales.middleware.PermissionsPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "aftersales.middleware.ContentSecurityPolicyMiddleware",  # the policy: see "Content-Security-Policy" below
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Each change a request makes is recorded in the history with its user and path (aftersales.history).
    "aftersales.middleware.HistoryContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Each part carries its screens: templates under <app>/templates/, found in INSTALLED_APPS order (the
        # logins' app, first, holds the overrides of the admin's own templates).
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A persistent connection is checked before each request reuses it: a restarted PostgreSQL is survived.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The demo's SQLite serves requests while the in-process scheduler writes (aftersales.scheduler): WAL lets
    # readers go on beside the one writer; every transaction takes the write lock when it begins (IMMEDIATE),
    # so two never both read and then deadlock upgrading to write (SQLite answers that "database is locked" at
    # once, whatever the timeout); a writer waits up to SQLITE_BUSY_SECONDS for the other to finish.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        transaction_mode="IMMEDIATE", timeout=env.float("SQLITE_BUSY_SECONDS", default=20.0))
if IS_POSTGRES:
    # Prepared statements: psycopg binds parameters on the server and prepares a query the second time a
    # connection runs it, so PostgreSQL stops planning it on every request (the planning of the claim's
    # joins cost more than running them). Turn off behind a pooler in transaction mode older than
    # PgBouncer 1.21, which cannot keep prepared statements.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2)
    # Named after the database, so runs against different DATABASE_URLs never share a test database.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env("TEST_DATABASE_NAME",
                                                           default=f"test_{DATABASES['default']['NAME']}")
# Two roles (README "Database roles", aftersales.db_roles): the app connects as DATABASE_URL's user, which owns
# nothing and only reads and writes rows; `manage.py migrate` connects as MIGRATE_DATABASE_URL's user, the
# owner of the tables and their triggers, and grants the runtime role its rights. Unset: one user does both.
# Only the user and password are taken from it: the database is DATABASE_URL's (the test run's own, in tests).
DATABASE_OWNER = None
if env.str("MIGRATE_DATABASE_URL", default=""):
    _owner = environ.Env.db_url_config(env.str("MIGRATE_DATABASE_URL"))
    if any(_owner.get(key) != DATABASES["default"].get(key) for key in ("ENGINE", "NAME", "HOST", "PORT")):
        raise ImproperlyConfigured("MIGRATE_DATABASE_URL must name the same database as DATABASE_URL (the same "
                                   "host, port and name), as its owner.")
    DATABASE_OWNER = {"USER": _owner["USER"], "PASSWORD": _owner.get("PASSWORD") or ""}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# ---- Staff logins (issue #14): lockout after repeated failures, optional two-factor -------------------
# Lockout (django-axes, counted in the database: works with Redis down). The Nth wrong password for an
# account from one address locks that account at that address; failures from one address over all
# accounts (a spray) lock the address. Either lasts LOGIN_LOCKOUT_MINUTES after the last failure, or until
# an administrator unlocks it (admin: Users → "Unlock logins", Access attempts; `manage.py axes_reset*`).
INSTALLED_APPS += ["axes", "django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static"]
AUTHENTICATION_BACKENDS = ["access.lockout.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=20)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=30)
# Reverse proxies in front of gunicorn that append the client's address to X-Forwarded-For: 0 reads the
# peer's address (REMOTE_ADDR); behind one proxy (nginx, a load balancer) set 1. The API's rate limits read
# the client's address the same way (REST_FRAMEWORK NUM_PROXIES): an X-Forwarded-For the client wrote
# itself never names a fresh address to count against.
LOGIN_TRUSTED_PROXIES = env.int("LOGIN_TRUSTED_PROXIES", default=0)
# After the user is known: django-otp marks a session verified by a code, ours sends staff who need a
# second factor to set one up (access.two_factor); last, axes turns a lockout into its page.
_after_auth = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
MIDDLEWARE[_after_auth:_after_auth] = ["django_otp.middleware.OTPMiddleware", "access.two_factor.TwoFactorMiddleware"]
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AXES_HANDLER = "access.lockout.LockoutHandler"  # the two limits above
AXES_FAILURE_LIMIT = LOGIN_FAILURES_PER_ACCOUNT
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the wait the page names is the wait
AXES_CLIENT_IP_CALLABLE = "access.lockout.client_address"
AXES_USERNAME_CALLABLE = "access.lockout.attempted_username"
AXES_LOCKOUT_CALLABLE = "access.lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
AXES_VERBOSE = False
# Two-factor (django-otp, TOTP): any staff user may set it up; with STAFF_2FA_REQUIRED the finance group
# and superusers must (the demo leaves it off). Who has set it up must give a code at each login.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=False)
OTP_TOTP_ISSUER = "After-sales back office"
# API tokens (django-rest-knox, access.tokens): the database keeps only their hashes. A staff member's
# token lapses after STAFF_TOKEN_IDLE_DAYS unused (each use pushes its expiry out); a buyer's never lapses.
# A user's tokens are revoked when their password or their two-factor device changes.
STAFF_TOKEN_IDLE_DAYS = env.int("STAFF_TOKEN_IDLE_DAYS", default=30)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=STAFF_TOKEN_IDLE_DAYS),  # a staff token's; buyers' are issued without
    "AUTH_HEADER_PREFIX": "Token",  # API.md: `Authorization: Token <token>`
    "MIN_REFRESH_INTERVAL": 60,  # a used staff token's new expiry is written at most once a minute
}
# ---- end of staff logins --------------------------------------------------------------------------------

LANGUAGE_CODE = "en"
# The language is kept on the account too (access.languages): the switcher saves it, login applies it.
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["aftersales.formats"]  # times to the minute in every language

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": env("FILE_STORAGE", default="django.core.files.storage.FileSystemStorage")},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Uploads: claim photos. Checked by decoding, re-encoded, size and pixel limits.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=8 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env.int("UPLOAD_MAX_PIXELS", default=40_000_000)  # JPEG: decoded in draft mode
# PNG and WebP have no draft mode: every pixel is decoded and re-encoded, so fewer are accepted: 6 Mi pixels (3072 ×
# 2048: every phone's screenshot fits, a 4K desktop's does not). Three at once within 1 s and 300 MB (WebP decoding
# holds three copies of the pixels): bench/uploads.py, docs/benchmarks.md.
UPLOAD_MAX_PIXELS_LOSSLESS = env.int("UPLOAD_MAX_PIXELS_LOSSLESS", default=6_291_456)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # Redis down is survived (aftersales.cache): short timeouts, then this process's memory answers.
    CACHES = {"default": {"BACKEND": "aftersales.cache.ResilientRedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: without a broker the tasks run in-process (the services queue them on commit).
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Without Redis there is no `celery beat`: `runserver` runs the periodic tasks in a thread of its own, on the
# same schedules (aftersales.scheduler).
IN_PROCESS_BEAT = env.bool("IN_PROCESS_BEAT", default=not REDIS_URL)
# Threads of the deadline sweep task, each taking its own batches (FOR UPDATE SKIP LOCKED): mostly waiting on
# the database, so two go faster than one when many tickets fall due at once.
DEADLINE_SWEEP_WORKERS = env.int("DEADLINE_SWEEP_WORKERS", default=2)

# Redis hands a message not acknowledged within the visibility timeout to another worker: it stays well
# above the refund task's hard time limit and its retries' countdowns, so a slow run is not run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300)}

# Refunds (docs/design.md, "Paying refunds"): the payment provider's adapter (a class path), and for the
# HTTP sandbox its address and the socket timeout of every call. A run of the refund task is killed after
# REFUND_TASK_TIME_LIMIT seconds; its lease on the refund lasts as long.
# The shop's currency (ISO code): amounts are shown with its sign (aftersales.money.format_money).
CURRENCY = env("CURRENCY", default="CNY")
REFUND_GATEWAY = env("REFUND_GATEWAY", default="refunds.sandbox.InProcessGateway")
REFUND_GATEWAY_URL = env("REFUND_GATEWAY_URL", default="http://127.0.0.1:8765")
REFUND_GATEWAY_TIMEOUT = env.float("REFUND_GATEWAY_TIMEOUT", default=10.0)
REFUND_TASK_TIME_LIMIT = env.int("REFUND_TASK_TIME_LIMIT", default=60)

# Events for the shop's systems (docs/webhooks.md): who sends the webhooks (``celery``: a worker; ``thread``: a
# thread of this process, the demo without Redis; ``off``: nobody, the tests that send themselves); every POST's
# limits; https only and public addresses only in production (a local setup may allow http and private or
# loopback addresses); how long a rotated secret still signs beside the new one.
WEBHOOK_DELIVERY = env("WEBHOOK_DELIVERY", default="celery" if REDIS_URL else "thread")
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_RESPONSE_EXCERPT = env.int("WEBHOOK_RESPONSE_EXCERPT", default=1000)
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=not DEBUG)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
WEBHOOK_SECRET_GRACE_HOURS = env.int("WEBHOOK_SECRET_GRACE_HOURS", default=24)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "access.authentication.RecordedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "aftersales.api.CursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "aftersales.api.exception_handler",
    # JSON in (API.md; uploads declare multipart themselves): the schema then tells generators so.
    "DEFAULT_PARSER_CLASSES": ["aftersales.parsers.JsonParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "aftersales.throttles.UserBurstThrottle",
        "aftersales.throttles.IPBurstThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env("THROTTLE_USER", default="600/min"),
        "ip": env("THROTTLE_IP", default="1200/min"),
        "login": env("THROTTLE_LOGIN", default="10/min"),
    },
    "NUM_PROXIES": LOGIN_TRUSTED_PROXIES,
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "After-sales back office API",
    "DESCRIPTION": "Refund, return and exchange claims: buyer, staff and integration endpoints.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar's static files (no CDN), started by a script file of its own
    # (SpectacularSwaggerSplitView): the docs work under the Content-Security-Policy.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The event catalogue (events.schema): one webhook per event type, under x-webhooks while the document
    # is OpenAPI 3.0, each body a component schema of its own (Event_ticket_approved, ...).
    "WEBHOOKS": "events.schema.WEBHOOKS",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "events.schema.postprocess_webhooks"],
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.Ticket.Status",
        "TicketTypeEnum": "tickets.models.Ticket.Type",
    },
}

# --- Operability (issue #14): logs, metrics -------------------------------------------------------------
# Logs: one JSON object per line in production (LOG_FORMAT=json, the default with DEBUG off), short text
# lines for the demo (text, the default with DEBUG on); every line carries its request id, inside a Celery
# task the task's name and id too (aftersales.logs). One access-log line per request (aftersales.access).
LOG_FORMAT = env("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env("LOG_LEVEL", default="INFO"))
# Prometheus metrics at /metrics, for whoever sends `Authorization: Bearer <METRICS_TOKEN>`; without a
# token set, /metrics answers 404 (aftersales.metrics). Under gunicorn with several workers, set
# PROMETHEUS_MULTIPROC_DIR (README, "Production"). The database figures are read at most every
# METRICS_CACHE_SECONDS.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_CACHE_SECONDS = env.int("METRICS_CACHE_SECONDS", default=30)
# --- end of operability ------------------------------------------------------------------------------------
# --- Content-Security-Policy (issue #14) -------------------------------------------------------------------
# django-csp 4.0, through aftersales.middleware.ContentSecurityPolicyMiddleware. Pages run scripts only from
# this site or carrying the response's nonce: no inline script, no onclick="..." handler, no eval; inline
# code goes into a static file. Styles likewise (issue #20): our styles are files under <app>/static/<app>/,
# and no template or HTML written in Python carries a style element or a style attribute (a test keeps it
# so), so style-src has no 'unsafe-inline'. It allows this site's files; style elements carrying the
# response's nonce (django-admin-rangefilter's, on the queues' date and amount filters); and the one style
# element of drf-spectacular's Swagger UI page (/api/docs/) by its hash, which a test recomputes from the
# installed template, so an upgrade that changes it fails there first. Scripts that set styles through the
# DOM (the admin's, Swagger UI's, our frozen columns) are not inline styles and are not blocked; Django's
# admin writes a style element of its own only on a list whose ModelAdmin turns off both action bars; none of
# ours does.
# data: images are the admin's and Swagger UI's inline icons; claim photos come from the API, same origin.
# The admin's related-object popups are windows, so no page of ours is ever framed. Responses that are not
# HTML (the API's JSON, photos, the schema) get default-src 'none'; style-src 'unsafe-inline' (the browser's
# own image and JSON viewers); frame-ancestors 'none' instead.
# CSP_REPORT_ONLY=1 sends the same policy as Content-Security-Policy-Report-Only (browsers report, block
# nothing: to try a new source first); CSP_REPORT_URI is where browsers send reports (none by default).
# A new source (say a CDN for images) goes in its directive below; README "Production" says how.
# (No setting of ours is named CSP_*: django-csp's check takes those for its pre-4.0 settings.)
SWAGGER_UI_STYLE = "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"  # drf_spectacular/swagger_ui.html
_CSP_POLICY = {"DIRECTIVES": {
    "default-src": [SELF],
    "script-src": [SELF, NONCE],
    "style-src": [SELF, NONCE, SWAGGER_UI_STYLE],
    "img-src": [SELF, "data:"],
    "object-src": [NONE],
    "base-uri": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
    "report-uri": env("CSP_REPORT_URI", default="") or None,
}}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP_POLICY
else:
    CONTENT_SECURITY_POLICY = _CSP_POLICY
# --- end of Content-Security-Policy ------------------------------------------------------------------------


# Production hardening: `manage.py check --deploy` is clean when DEBUG is off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    # Probes and the scraper speak plain HTTP to the container (compose's health check, a load balancer,
    # Prometheus on the internal network): they are answered, not redirected to HTTPS.
    SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
