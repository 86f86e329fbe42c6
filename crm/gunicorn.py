"""gunicorn's settings for the web process: `gunicorn --config crm/gunicorn.py crm.wsgi` (the Procfile's).

Workers and threads follow the CPU count unless WEB_CONCURRENCY / WEB_THREADS say otherwise. Each
thread keeps one persistent connection per database it touches, so one web process opens up to
workers x threads connections to each database: docs/operations.md shows how to keep that, summed
over every process, inside PostgreSQL's max_connections.
"""

import os

from crm.jsonlog import gunicorn_logconfig


def _int(name, default):
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


cpu_count = os.cpu_count() or 1

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{_int('PORT', 8000)}"
# Requests mostly wait on PostgreSQL: a worker per core, a few threads each.
workers = _int("WEB_CONCURRENCY", max(2, cpu_count))
threads = _int("WEB_THREADS", 4)
# gthread, except that the main loop reads each request whole before a thread serves it, and answers 408 to
# one that has not arrived in WEB_READ_TIMEOUT seconds (10, plus a second per WEB_READ_MIN_RATE bytes
# received, 8192): slow or stalled clients cost a socket, not a thread (crm/buffering_worker.py).
worker_class = "crm.buffering_worker.BufferingWorker"

timeout = _int("WEB_TIMEOUT", 30)  # a request running longer than this kills its worker
graceful_timeout = 30  # on restart, in-flight requests get this long to finish
keepalive = 5  # seconds an idle keep-alive connection from the proxy stays open

# Replace each worker after this many requests (jittered so they do not all restart together):
# bounds the slow growth of Python's heap after it has served many agents.
max_requests = _int("WEB_MAX_REQUESTS", 10000)
max_requests_jitter = max_requests // 10

# The heartbeat file in memory, not on a possibly slow container disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# No runtime control socket: several servers on one machine would share its default path.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = gunicorn_logconfig(os.environ.get("LOG_FORMAT", "text"), loglevel)


def on_starting(server):
    """Collect the static files once, in the master before it forks: every web process has the
    manifest that CompressedManifestStaticFilesStorage needs, however the platform builds."""
    if os.environ.get("COLLECTSTATIC_ON_START", "true").lower() in ("0", "false", "no", "off"):
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("collectstatic", interactive=False, verbosity=0)
