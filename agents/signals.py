"""What the agents layer announces to the apps above it, which it never imports."""

from django.dispatch import Signal

# adopt_database has added the app's columns to the contract's core tables, inside its transaction:
# each app that owns a core table brings its rows to the app's shape. Arguments: report (a print-like callable).
core_tables_adopted = Signal()

# agents.customer_data.erase_customer is deleting a customer, inside its transaction: each app deletes what
# it holds about them and returns {what: how many} (or None). Arguments: agent, customer, message_ids.
customer_erased = Signal()

# agents.moving is about to copy an agent's tables: each app answers what of the agent's work is still in
# flight (a sentence), or None; the move waits until none is. Arguments: agent.
agent_move_waiting = Signal()

# agents.moving has moved an agent's tables and lifted its hold: each app releases what it held (queued
# sends, webhook events left pending). May be sent again for the same move. Arguments: agent.
agent_move_released = Signal()
