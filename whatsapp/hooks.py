"""What the apps above whatsapp do with a newly stored inbound message, what they may refuse to send, and
what they do in the clock's rounds, without whatsapp importing them.

An app registers a handler for the message types it cares about (orders: carts and taps on an order
summary's buttons) from its AppConfig.ready(); intake calls it once per newly stored message, never
for a re-delivery. An app may also register a guard that refuses a template before it is queued
(outreach: no marketing to a customer who opted out), and periodic work the clock (`run_periodic_tasks`)
runs each round (outreach: broadcasts due; orders: catalog syncs due).
"""

from collections import defaultdict

_handlers = defaultdict(list)


def register_inbound_handler(wa_types, handler):
    """Call `handler(agent, message)` for each newly stored inbound message of one of `wa_types`.

    It runs inside the intake's transaction; it returns a notice for the event's summary when the message
    could not act ("cart ... did not become a draft order"), else None.
    """
    for wa_type in wa_types:
        if handler not in _handlers[wa_type]:
            _handlers[wa_type].append(handler)


def inbound_handlers(wa_type):
    return tuple(_handlers.get(wa_type, ()))


_template_guards = []


def register_template_guard(guard):
    """Call `guard(agent, customer, template)` before a template is queued; it raises whatsapp.send.SendError
    to refuse it."""
    if guard not in _template_guards:
        _template_guards.append(guard)


def template_guards():
    return tuple(_template_guards)


_periodic_work = {}


def register_periodic_work(name, work):
    """Call `work(now)` in each round of the clock (`run_periodic_tasks`); it returns how many things it did."""
    _periodic_work[name] = work


def periodic_work():
    return dict(_periodic_work)


_change_handlers = {}
_status_handlers = []


def register_change_handler(field, handler):
    """Call `handler(agent, value)` for each change of webhook field `field` (one the intake does not handle
    itself, "user_preferences" say) on a number of `agent`, in the agent's row scope and a transaction of its
    own; it returns notices for the event's summary ([] for none). Re-deliveries reach it again: it must
    change nothing the second time."""
    _change_handlers[field] = handler


def change_handlers():
    return dict(_change_handlers)


def register_status_handler(handler):
    """Call `handler(agent_tables, message, status)` when a status changed a message (not for a late or
    repeated one), in the intake's transaction: `status` is Meta's object (its `errors` say why it failed)."""
    if handler not in _status_handlers:
        _status_handlers.append(handler)


def status_handlers():
    return tuple(_status_handlers)


_status_type_handlers = {}


def register_status_type_handler(status_type, handler):
    """Call `handler(agent_tables, status)` for each status of `type` `status_type` (Meta's "payment"
    statuses of an order_details message say nothing of a message's delivery), instead of applying it to a
    message, in the intake's transaction and the agent's row scope. It returns a notice for the event's
    summary. Re-deliveries reach it again: it must change nothing the second time."""
    _status_type_handlers[status_type] = handler


def status_type_handlers():
    return dict(_status_type_handlers)
