"""Settings for the test suite: the production settings with test secrets and an in-process task runner."""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-for-the-suite-0123456789")
os.environ.setdefault("WHATSAPP_APP_SECRET", "test-app-secret")
os.environ.setdefault("WHATSAPP_VERIFY_TOKEN", "test-verify-token")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "NejQWpXUO3BYuAX3x1oMulr0AQ2DCswxsrd76avtGro=")
os.environ.setdefault("TASKS_BACKEND", "immediate")
# A live server answers each request on a new thread: its connection must close with the request,
# or it outlives the test and keeps the test database from being dropped.
os.environ.setdefault("CONN_MAX_AGE", "0")
# The test client speaks plain http; tests of the https redirect turn it back on.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from crm.settings import *  # noqa: E402,F403

# A second agent database (a shard) beside the test database, on the same server: shard tests
# (marked `postgres`) put agents there; the others keep theirs on `default`.
DATABASES["shard2"] = {  # noqa: F405
    **DATABASES["default"],  # noqa: F405
    "NAME": (
        f"{DATABASES['default']['NAME']}_shard2"  # noqa: F405
        if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"  # noqa: F405
        else str(BASE_DIR / ".test-db-shard2.sqlite3")  # noqa: F405
    ),
    "TEST": {},
}
# On SQLite the test databases are files, not Django's shared in-memory database: a live server's threads
# (pages, the fake Graph API's webhooks) then each have a connection of their own, as in production, instead
# of all sharing the test thread's one, where two requests at once broke each other's transactions.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    for _alias, _file in (("default", ".test-db-run.sqlite3"), ("shard2", ".test-db-run-shard2.sqlite3")):
        DATABASES[_alias]["TEST"] = {"NAME": str(BASE_DIR / _file)}  # noqa: F405
        DATABASES[_alias]["OPTIONS"] = {  # noqa: F405
            **DATABASES[_alias].get("OPTIONS", {}),  # noqa: F405
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA busy_timeout=30000;",
        }
AGENT_DATABASES = ["default", "shard2"]
NEW_AGENT_DATABASES = ["default"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHATSAPP_PROCESS_INLINE = True
# The Graph client's retries wait milliseconds, not seconds, against the local fake Graph API.
WHATSAPP_GRAPH_BACKOFF_BASE = 0.01
WHATSAPP_GRAPH_BACKOFF_MAX = 0.5
WHATSAPP_GRAPH_READ_TIMEOUT = 2.0
