"""Settings for the WhatsApp CRM, read from the environment through django-environ.

Defaults make `make run` work on a fresh machine; with DEBUG off, a missing secret stops start-up.
"""

import base64
import hashlib
import os
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

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
# Former secret keys, still accepted for sessions and signatures while a new SECRET_KEY takes over.
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
    "accounts",
    "agents",
    "whatsapp",
]

MIDDLEWARE = [
    "crm.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

# Minutes, not forever: a PostgreSQL backend's catalog cache grows with every agent it touches.
# A connection is also closed at the end of the request or task in which it has touched
# AGENT_CONNECTION_MAX_AGENTS distinct agents since it opened (agents/connections.py).
CONN_MAX_AGE = env.int("CONN_MAX_AGE", default=300)
AGENT_CONNECTION_MAX_AGENTS = env.int("AGENT_CONNECTION_MAX_AGENTS", default=1000)
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

DATABASE_ROUTERS = ["crm.routers.AgentTablesRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# How many agents' generated model classes one process keeps (least recently used are dropped).
AGENT_TABLES_CACHE_SIZE = env.int("AGENT_TABLES_CACHE_SIZE", default=500)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
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

# The WhatsApp Cloud API (Meta's Graph API); the demo and the tests point it at the local fake one.
WHATSAPP_GRAPH_URL = env.str("WHATSAPP_GRAPH_URL", default="https://graph.facebook.com")
WHATSAPP_GRAPH_VERSION = env.str("WHATSAPP_GRAPH_VERSION", default="v24.0")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"

# LOG_FORMAT=json: one JSON object per line (crm/jsonlog.py), for a log collector.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}.")
LOGGING = django_logging(LOG_FORMAT, env.str("LOG_LEVEL", default="INFO").upper())

# Where this app is reached from outside (webhook URLs shown to admins and written to configurations).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
