"""Settings for the benchmark's server: the production settings, plus a bare one-INSERT view to compare with.

bench/webhook.py sets the environment (a throwaway database, bench secrets, DEBUG off, no inline processing).
"""

from crm.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
