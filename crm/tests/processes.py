"""The environment for a child process a test starts (manage.py, gunicorn, a settings probe)."""

import os


def child_env(**variables):
    """`variables`, PATH, and coverage's own variables, so that the child's lines count too."""
    inherited = {name: value for name, value in os.environ.items() if name.startswith("COVERAGE_")}
    return {"PATH": os.environ["PATH"], **inherited, **variables}
