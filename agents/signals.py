"""What the agents layer announces to the apps above it, which it never imports."""

from django.dispatch import Signal

# adopt_database has added the app's columns to the contract's core tables, inside its transaction:
# each app that owns a core table brings its rows to the app's shape. Arguments: report (a print-like callable).
core_tables_adopted = Signal()

# agents.customer_data.erase_customer is deleting a customer, inside its transaction: each app deletes what
# it holds about them and returns {what: how many} (or None). Arguments: agent, customer, message_ids.
customer_erased = Signal()
