"""Settings for the benchmarks: the production settings, with static files found without collectstatic,
and one more route (bench/urls.py): a bare one-INSERT view the webhook is compared with.

Each benchmark script sets the environment (a throwaway database, bench secrets, DEBUG off).
"""

from crm.settings import *  # noqa: F403

STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
ROOT_URLCONF = "bench.urls"
