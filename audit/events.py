"""Writing audit events: one function, called by whoever performs a security-relevant action.

Action names are `<subject>.<verb>` in the past tense (`login.failed`, `agent.created`,
`order.status_changed`). Details are JSON; never put a password, token or key in them.
"""

from crm.proxies import client_ip


def _describe_target(target):
    if target is None:
        return "", "", ""
    return target._meta.db_table, str(target.pk), str(target)[:255]


def record(action, *, actor, target, request=None, **details):
    """Add one event to the audit log and return it.

    actor: the user who acted (None, or an anonymous user, for nobody logged in or the command line).
    target: the model instance acted on (any core or agent-table object), or None.
    request: the HTTP request, for the source IP; None outside a request.
    details: JSON-serialisable facts about the action (old and new values, counts, reasons).

    Call it inside the transaction of the action it records, so that both happen or neither.
    """
    from .models import AuditEvent  # models cannot be imported while Django loads this app

    if actor is not None and not actor.is_authenticated:
        actor = None
    target_type, target_id, target_label = _describe_target(target)
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=actor.get_username() if actor else "",
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        ip_address=client_ip(request) if request is not None else None,
        details=details,
    )
