"""Settings for the WhatsApp CRM, read from the environment through django-environ.

Defaults make `make run` work on a fresh machine; with DEBUG off, a missing secret stops start-up.
"""

import base64
import hashlib
import os
import re
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from crm.jsonlog import django_logging

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

# Development values: accepted while DEBUG is on, refused at start-up otherwise.
DEVELOPMENT_SECRETS = {
    "SECRET_KEY": "development-only-secret-key-do-not-use-in-production",
    "WHATSAPP_APP_SECRET": "development-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "development-verify-token",
}

SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRETS["SECRET_KEY"])
# Former secret keys, still accepted for signatures (sessions, password-reset links) while they expire.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
WHATSAPP_APP_SECRET = env.str("WHATSAPP_APP_SECRET", default=DEVELOPMENT_SECRETS["WHATSAPP_APP_SECRET"])
WHATSAPP_VERIFY_TOKEN = env.str("WHATSAPP_VERIFY_TOKEN", default=DEVELOPMENT_SECRETS["WHATSAPP_VERIFY_TOKEN"])

# Fernet keys that encrypt stored WhatsApp access tokens. The first key encrypts; every key
# decrypts, so a new key is put first and the old ones kept until `rotate_api_keys` has run.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])


def _development_encryption_key(secret_key):
    digest = hashlib.sha256(("field-encryption:" + secret_key).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _refuse_insecure_production_settings():
    problems = [
        f"{name} is not set (or still has its development value)"
        for name, development_value in DEVELOPMENT_SECRETS.items()
        if not globals()[name] or globals()[name] == development_value
    ]
    if not FIELD_ENCRYPTION_KEYS:
        problems.append("FIELD_ENCRYPTION_KEYS is not set (generate one with `make key`)")
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start with DEBUG off: " + "; ".join(problems) + ". "
            "Set them in the environment, or set DEBUG=true for local development."
        )


if DEBUG:
    FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [_development_encryption_key(SECRET_KEY)]
else:
    _refuse_insecure_production_settings()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Index expressions with operator classes (the trigram index of message search) need its ready().
    "django.contrib.postgres",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # axes before audit: its login-failure receiver must count a failure before audit records it.
    "axes",
    # The product's apps, lowest layer first (docs/architecture.md): each imports only those above it here.
    "audit",
    "accounts",
    "agents",
    "whatsapp",
    "orders",
    "payments",
    "checkout",
    "invoices",
    "outreach",
    "alerts",
    "dashboard",
    "fakegraph",
    "sandbox",
]

MIDDLEWARE = [
    "crm.health.HealthCheckMiddleware",
    # Each request works on no agent's rows until a view says whose (PostgreSQL Row Level Security).
    "crm.rls.RowScopeMiddleware",
    # A session that has just written reads the primary, not a replica that may not have its write yet.
    "crm.replicas.ReadYourWritesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The live check every open page asks every 700 ms, answered from a signed ticket before sessions and users.
    "alerts.middleware.LiveCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A NUL character in a query string or form is refused (400) before any view or query sees it.
    "crm.inputs.RefuseNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "crm.timezones.BrowserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: turns a locked-out login attempt into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "sandbox.context_processors.sandbox",
            ],
        },
    },
]

# SQLite by default so that `make run` needs nothing installed; PostgreSQL in production and CI.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}

# The shard map: every database that holds agents' tables. The core tables (users, agents,
# configurations, sessions, tasks) live on `default` only; each other alias takes its URL from
# DATABASE_URL_<ALIAS>. New agents go to the least-loaded of NEW_AGENT_DATABASES (crm/routers.py).
AGENT_DATABASES = env.list("AGENT_DATABASES", default=["default"])
NEW_AGENT_DATABASES = env.list("NEW_AGENT_DATABASES", default=list(AGENT_DATABASES))


def _configure_agent_databases():
    for alias in AGENT_DATABASES + NEW_AGENT_DATABASES:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", alias):
            raise ImproperlyConfigured(
                f"AGENT_DATABASES: {alias!r} is not a database alias (lower-case letters, digits, _)."
            )
        if alias not in AGENT_DATABASES:
            raise ImproperlyConfigured(f"NEW_AGENT_DATABASES names {alias!r}, which AGENT_DATABASES does not list.")
        if alias != "default" and alias not in DATABASES:
            variable = f"DATABASE_URL_{alias.upper()}"
            if variable not in os.environ:
                raise ImproperlyConfigured(f"AGENT_DATABASES lists {alias!r}: set {variable} to its URL.")
            DATABASES[alias] = env.db(variable)
    if "default" not in AGENT_DATABASES:
        AGENT_DATABASES.insert(0, "default")  # agents created before a change of map may still live there


_configure_agent_databases()

# Read replicas (docs/operations.md): DATABASE_URL_REPLICA names `default`'s, DATABASE_URL_<ALIAS>_REPLICA
# a shard's, each becoming the alias `<alias>_replica`. Reports, CSV exports and the customers list read
# agents' tables there (crm/replicas.py), except for a session that wrote within READ_YOUR_WRITES_SECONDS,
# and except while the replica is down or more than REPLICA_MAX_LAG_SECONDS behind (measured at most every
# REPLICA_CHECK_SECONDS per process).
DATABASE_REPLICAS = {}
READ_YOUR_WRITES_SECONDS = env.float("READ_YOUR_WRITES_SECONDS", default=10.0)
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=5.0)
REPLICA_CHECK_SECONDS = env.float("REPLICA_CHECK_SECONDS", default=1.0)


def _configure_replicas():
    for alias in AGENT_DATABASES:
        variable = "DATABASE_URL_REPLICA" if alias == "default" else f"DATABASE_URL_{alias.upper()}_REPLICA"
        if not os.environ.get(variable):
            continue
        replica = f"{alias}_replica"
        if replica in DATABASES:
            raise ImproperlyConfigured(f"{variable}: the alias {replica!r} is already a database of the shard map.")
        # A replica is read-only: the test runner must never try to create a database on it.
        DATABASES[replica] = {**env.db(variable), "TEST": {"MIRROR": alias}}
        DATABASE_REPLICAS[alias] = replica


_configure_replicas()

# How long `move_agent` waits for an agent's sends already under way before it gives up (run it again).
AGENT_MOVE_WAIT_SECONDS = env.float("AGENT_MOVE_WAIT_SECONDS", default=120.0)

# The PostgreSQL role the app works as, when the login role is a superuser (which Row Level Security
# does not hold back): each connection starts with SET ROLE to it. Best is to log in as an ordinary
# role that owns the tables, and leave this empty (docs/security.md).
DATABASE_ROLE = env.str("DATABASE_ROLE", default="")
for _database in DATABASES.values():
    if DATABASE_ROLE and "postgresql" in _database["ENGINE"]:
        _database["ROLE"] = DATABASE_ROLE

# Minutes, not forever: a PostgreSQL backend's catalog cache grows with every agent it touches.
# A connection is also closed at the end of the request or task in which it has touched
# AGENT_CONNECTION_MAX_AGENTS distinct agents since it opened (agents/connections.py).
CONN_MAX_AGE = env.int("CONN_MAX_AGE", default=300)
AGENT_CONNECTION_MAX_AGENTS = env.int("AGENT_CONNECTION_MAX_AGENTS", default=500)
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        _database.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
            }
        )
    else:
        _database["CONN_MAX_AGE"] = CONN_MAX_AGE
        _database["CONN_HEALTH_CHECKS"] = True
        # An unreachable server fails a request (and /readyz) in seconds, not after TCP's minutes.
        _database.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)

# Behind PgBouncer in transaction mode (docs/operations.md): consecutive transactions of one client may
# run on different server connections, so nothing may outlive a transaction there: no server-side cursor
# (Django's are WITH HOLD outside a transaction) and no named prepared statement (psycopg prepares a query
# run 5 times; PgBouncer before 1.21 cannot follow it). The row scope is per transaction already.
DATABASE_TRANSACTION_POOLING = env.bool("DATABASE_TRANSACTION_POOLING", default=False)
if DATABASE_TRANSACTION_POOLING and DATABASE_ROLE:
    raise ImproperlyConfigured(
        "DATABASE_ROLE cannot work behind transaction pooling (a SET ROLE stays on one server connection): "
        "log in as the ordinary role itself."
    )
for _database in DATABASES.values():
    if DATABASE_TRANSACTION_POOLING and "postgresql" in _database["ENGINE"]:
        _database["DISABLE_SERVER_SIDE_CURSORS"] = True
        _database["OPTIONS"]["prepare_threshold"] = None

DATABASE_ROUTERS = ["crm.routers.AgentTablesRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# How many agents' generated model classes one process keeps (least recently used are dropped).
AGENT_TABLES_CACHE_SIZE = env.int("AGENT_TABLES_CACHE_SIZE", default=500)

AUTH_USER_MODEL = "accounts.User"
# Axes first: it refuses any attempt on a locked account before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "after_login"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# In development whitenoise serves straight from the app folders, without collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Media files (attachments) live on the file system under MEDIA_ROOT unless AWS_STORAGE_BUCKET_NAME
# names an S3 bucket (django-storages + boto3; credentials from boto3's usual sources, e.g.
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or an instance role). Objects are written without an ACL,
# so they stay as private as the bucket; pages reach them through presigned URLs that expire after
# MEDIA_URL_EXPIRY seconds (crm/media.py).
MEDIA_URL_EXPIRY = env.int("MEDIA_URL_EXPIRY", default=300)
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "location": env.str("AWS_LOCATION", default="media"),
            "default_acl": None,
            "querystring_auth": True,
            "signature_version": "s3v4",
            "querystring_expire": MEDIA_URL_EXPIRY,
            "file_overwrite": False,
        },
    }
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# A shop that has not chosen its own (Shop settings) writes amounts in this currency and locale.
SHOP_DEFAULT_CURRENCY = env.str("SHOP_DEFAULT_CURRENCY", default="USD")
SHOP_DEFAULT_LOCALE = env.str("SHOP_DEFAULT_LOCALE", default="en_US")

# How often the dashboard's live parts (inbox, open conversation) ask for news, in seconds.
DASHBOARD_POLL_SECONDS = env.int("DASHBOARD_POLL_SECONDS", default=4)
# How often an open page asks whether anything changed (alerts/live.py: a 204 while nothing did), in
# milliseconds, while it is visible and while it is hidden (browsers wait at least a second then anyway).
LIVE_POLL_MILLISECONDS = env.int("LIVE_POLL_MILLISECONDS", default=700)
LIVE_POLL_HIDDEN_MILLISECONDS = env.int("LIVE_POLL_HIDDEN_MILLISECONDS", default=5000)

# Web Push (alerts/push.py), off while the keys are unset: `manage.py generate_vapid_keys` makes a pair.
# The subject is how a push service reaches the operator ("mailto:ops@example.com" or an https URL).
WEBPUSH_VAPID_PUBLIC_KEY = env.str("WEBPUSH_VAPID_PUBLIC_KEY", default="")
WEBPUSH_VAPID_PRIVATE_KEY = env.str("WEBPUSH_VAPID_PRIVATE_KEY", default="")
WEBPUSH_SUBJECT = env.str("WEBPUSH_SUBJECT", default="")
if bool(WEBPUSH_VAPID_PUBLIC_KEY) != bool(WEBPUSH_VAPID_PRIVATE_KEY):
    raise ImproperlyConfigured("Set both WEBPUSH_VAPID_PUBLIC_KEY and WEBPUSH_VAPID_PRIVATE_KEY, or neither.")
if WEBPUSH_VAPID_PRIVATE_KEY and not WEBPUSH_SUBJECT.startswith(("mailto:", "https://")):
    raise ImproperlyConfigured('WEBPUSH_SUBJECT must be a "mailto:" address or an https:// URL when push is on.')
# Push services speak https; only the tests' local stand-in is reached over plain http.
WEBPUSH_ALLOW_HTTP_ENDPOINTS = env.bool("WEBPUSH_ALLOW_HTTP_ENDPOINTS", default=False)
WEBPUSH_TIMEOUT = env.float("WEBPUSH_TIMEOUT", default=10.0)

# The WhatsApp Cloud API (Meta's Graph API); the demo and the tests point it at the local fake one.
WHATSAPP_GRAPH_URL = env.str("WHATSAPP_GRAPH_URL", default="https://graph.facebook.com")
WHATSAPP_GRAPH_VERSION = env.str("WHATSAPP_GRAPH_VERSION", default="v24.0")
# Seconds to connect and to wait for each answer; attempts per call and the backoff between them.
WHATSAPP_GRAPH_CONNECT_TIMEOUT = env.float("WHATSAPP_GRAPH_CONNECT_TIMEOUT", default=5.0)
WHATSAPP_GRAPH_READ_TIMEOUT = env.float("WHATSAPP_GRAPH_READ_TIMEOUT", default=30.0)
WHATSAPP_GRAPH_MAX_ATTEMPTS = env.int("WHATSAPP_GRAPH_MAX_ATTEMPTS", default=5)
WHATSAPP_GRAPH_BACKOFF_BASE = env.float("WHATSAPP_GRAPH_BACKOFF_BASE", default=0.5)
WHATSAPP_GRAPH_BACKOFF_MAX = env.float("WHATSAPP_GRAPH_BACKOFF_MAX", default=8.0)

# Background work (sending, read receipts, template sync) runs on Django's tasks framework:
# "database" keeps tasks in the database for `manage.py db_worker` (the Procfile's worker; production),
# "immediate" runs each task in the process that enqueues it (the test suite and the `make run` demo).
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
TASKS_BACKEND = env.str("TASKS_BACKEND", default="database")
if TASKS_BACKEND not in TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {', '.join(TASK_BACKENDS)}, not {TASKS_BACKEND!r}.")
TASKS = {"default": {"BACKEND": TASK_BACKENDS[TASKS_BACKEND]}}
# The customer sandbox (/sandbox/): a page where a person plays a customer against the fake Graph API
# (`run_fake_graph`). Only for demos and development: `make run` turns it on; elsewhere it answers 404.
WHATSAPP_SANDBOX = env.bool("WHATSAPP_SANDBOX", default=False)
if WHATSAPP_SANDBOX and "graph.facebook.com" in WHATSAPP_GRAPH_URL:
    raise ImproperlyConfigured(
        "WHATSAPP_SANDBOX needs WHATSAPP_GRAPH_URL pointed at the fake Graph API (manage.py run_fake_graph), "
        "never at Meta's."
    )

# Seconds between template syncs of every WhatsApp number (`run_periodic_tasks`, the Procfile's clock).
WHATSAPP_TEMPLATE_SYNC_INTERVAL = env.int("WHATSAPP_TEMPLATE_SYNC_INTERVAL", default=6 * 60 * 60)
# Seconds between the clock's syncs of each agent's Meta catalog (orders.catalog_sync).
CATALOG_SYNC_INTERVAL = env.int("CATALOG_SYNC_INTERVAL", default=6 * 60 * 60)

# The webhook refuses bodies over this many bytes (Meta documents notifications of up to 3 MB).
WHATSAPP_WEBHOOK_MAX_BODY_BYTES = env.int("WHATSAPP_WEBHOOK_MAX_BODY_BYTES", default=4 * 1024 * 1024)
# Process each stored event inside the request that received it (the demo and the tests). Off in
# production: the `intake` worker (`manage.py process_webhook_events`) processes events in batches.
WHATSAPP_PROCESS_INLINE = env.bool("WHATSAPP_PROCESS_INLINE", default=DEBUG)
# How many events the worker claims per transaction.
WHATSAPP_EVENT_BATCH_SIZE = env.int("WHATSAPP_EVENT_BATCH_SIZE", default=200)
# Intake workers share the events by slices of the business numbers (whatsapp/slices.py): a worker renews
# its slices every fifth of this many seconds; those of a worker that died go to the others after it.
WHATSAPP_INTAKE_LEASE_SECONDS = env.float("WHATSAPP_INTAKE_LEASE_SECONDS", default=15.0)
# Processed webhook events are deleted after this many days (failed and unroutable ones are kept).
WHATSAPP_WEBHOOK_EVENT_RETENTION_DAYS = env.int("WHATSAPP_WEBHOOK_EVENT_RETENTION_DAYS", default=30)

# Login throttling (django-axes, counted in the database so every process sees the same count):
# the LOGIN_FAILURE_LIMIT-th wrong password for an account within LOGIN_LOCKOUT_MINUTES locks it, and
# every attempt on it, right password included, is refused until that long after the last failure.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=6)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=5)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "accounts.throttling.attempted_email"
AXES_CLIENT_IP_CALLABLE = "crm.proxies.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout do not extend it: the lockout ends when the page says it does.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Logins are in the audit log already; and no start-up banner on every command.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# axes.W006 asks to lock by IP address too. Deliberately not: sellers behind one office or carrier
# NAT share an address, and anyone could then lock them all out with six wrong passwords. The
# per-account lock above cannot be dodged by changing address, browser or cookies.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Two-factor login (TOTP, django-otp) for admins and super admins who turn it on.
OTP_TOTP_ISSUER = "WhatsApp CRM"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# How long the second step of a login may wait for its code.
TWO_FACTOR_LOGIN_TIMEOUT = timedelta(minutes=5)

# Cookies only over https in production; the session cookie never readable by scripts.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG

# https only in production. Behind a proxy that terminates TLS, Django sees plain http: set
# TRUST_X_FORWARDED_PROTO only when that proxy sets X-Forwarded-Proto and strips the client's own.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("TRUST_X_FORWARDED_PROTO", default=False) else None
)
# How many proxies of ours append to X-Forwarded-For (crm/proxies.py); 0 believes REMOTE_ADDR only.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy (Django's own): scripts only from our static files, never inline nor eval;
# styles from our files, plus the admin's few inline <style> blocks, which carry the request's nonce.
# CSP_MEDIA_SOURCES adds origins that serve media (e.g. the S3 bucket) to img-src and media-src.
CSP_MEDIA_SOURCES = env.list("CSP_MEDIA_SOURCES", default=[])
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, *CSP_MEDIA_SOURCES],
    "media-src": [CSP.SELF, *CSP_MEDIA_SOURCES],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# LOG_FORMAT=json: one JSON object per line (crm/jsonlog.py), for a log collector.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}.")
LOGGING = django_logging(LOG_FORMAT, env.str("LOG_LEVEL", default="INFO").upper())

# Where this app is reached from outside (webhook URLs shown to admins and written to configurations).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
