"""What the agents layer announces to the apps above it, which it never imports."""

from django.dispatch import Signal

# adopt_database has added the app's columns to the contract's core tables, inside its transaction:
# each app that owns a core table brings its rows to the app's shape. Arguments: report (a print-like callable).
core_tables_adopted = Signal()
