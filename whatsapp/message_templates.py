"""Message templates: synced from the business account, their variables, and the body that sends them.

A template's variables ("fields") are keyed "<component>.<name>": "body.1", "header.1",
"body.first_name", "button.0" (a URL button's suffix). The composer asks for one value per field;
template_components() turns those values into the `components` Meta expects, render() into the
text the conversation shows.
"""

import datetime as dt
import logging
import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import payloads
from .graph import client_for
from .models import MessageTemplate

logger = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")
MAX_PARAMETER_LENGTH = 1024


class TemplateError(ValueError):
    """A template that cannot be sent as asked (unsupported, or a variable missing or invalid)."""


@dataclass(frozen=True)
class TemplateField:
    key: str  # "body.1", "header.first_name", "button.0"
    component: str  # "header", "body" or "button"
    name: str  # the placeholder ("1", "first_name") or a button's index
    label: str  # what the composer shows beside the input
    example: str  # Meta's example value, a hint for the agent


def _components(template, kind):
    return [c for c in template.components if str(c.get("type", "")).upper() == kind]


def _placeholders(text):
    seen = []
    for name in PLACEHOLDER.findall(text or ""):
        if name not in seen:
            seen.append(name)
    return seen


def _examples(component, prefix):
    """Meta's example values of a HEADER or BODY component, by placeholder name."""
    example = component.get("example") or {}
    named = example.get(f"{prefix}_text_named_params") or []
    if named:
        return {item.get("param_name"): str(item.get("example", "")) for item in named}
    positional = example.get(f"{prefix}_text") or []
    if positional and isinstance(positional[0], list):  # body_text is a list of lists
        positional = positional[0]
    return {str(position): str(value) for position, value in enumerate(positional, start=1)}


def unsupported_reason(template):
    """Why this app cannot send `template`, or None when it can."""
    if template.category.upper() == "AUTHENTICATION":
        return "Authentication (one-time password) templates cannot be sent from the inbox."
    for header in _components(template, "HEADER"):
        header_format = str(header.get("format", "TEXT")).upper()
        if header_format != "TEXT":
            return f"Templates with a {header_format.lower()} header cannot be sent from the inbox yet."
    for buttons in _components(template, "BUTTONS"):
        for button in buttons.get("buttons", []):
            kind = str(button.get("type", "")).upper()
            if kind not in ("URL", "QUICK_REPLY", "PHONE_NUMBER"):
                return f"Templates with a {kind.lower().replace('_', ' ')} button cannot be sent from the inbox yet."
    return None


def template_fields(template):
    """The variables the agent fills in to send `template`, in the order they appear."""
    fields = []
    for kind, prefix in (("HEADER", "header"), ("BODY", "body")):
        for component in _components(template, kind):
            examples = _examples(component, prefix)
            for name in _placeholders(component.get("text")):
                label = f"{prefix.title()} variable {{{{{name}}}}}"
                fields.append(TemplateField(f"{prefix}.{name}", prefix, name, label, examples.get(name, "")))
    for component in _components(template, "BUTTONS"):
        for index, button in enumerate(component.get("buttons", [])):
            if str(button.get("type", "")).upper() == "URL" and PLACEHOLDER.search(button.get("url", "")):
                example = (button.get("example") or [""])[0]
                label = f"Link of the \u201c{button.get('text', '')}\u201d button (end of {button['url']})"
                fields.append(TemplateField(f"button.{index}", "button", str(index), label, str(example)))
    return fields


def clean_values(template, values):
    """The values for each field of `template`, stripped and checked; raises TemplateError."""
    reason = unsupported_reason(template)
    if reason:
        raise TemplateError(reason)
    values = values or {}
    cleaned = {}
    for field in template_fields(template):
        value = str(values.get(field.key) or "").strip()
        if not value:
            raise TemplateError(f"Fill in the {field.label}.")
        # Meta refuses parameters with new lines, tabs or runs of spaces (error 132018).
        if "\n" in value or "\t" in value or "     " in value:
            raise TemplateError(f"The {field.label} cannot contain line breaks, tabs or long runs of spaces.")
        if len(value) > MAX_PARAMETER_LENGTH:
            raise TemplateError(f"The {field.label} can be at most {MAX_PARAMETER_LENGTH} characters.")
        cleaned[field.key] = value
    return cleaned


def template_components(template, values):
    """Meta's `template.components` for the cleaned `values` (positional in order, or named)."""
    named = template.parameter_format.upper() == "NAMED"
    components = []
    for component in ("header", "body"):
        keys = [f.key for f in template_fields(template) if f.component == component]
        if keys:
            parameters = []
            for key in keys:
                parameter = {"type": "text", "text": values[key]}
                if named:
                    parameter["parameter_name"] = key.split(".", 1)[1]
                parameters.append(parameter)
            components.append({"type": component, "parameters": parameters})
    for field in template_fields(template):
        if field.component == "button":
            components.append(
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": field.name,
                    "parameters": [{"type": "text", "text": values[field.key]}],
                }
            )
    return components


def render(template, values):
    """The template's text with the values put in: what the conversation shows for it."""
    parts = []
    for kind, prefix in (("HEADER", "header"), ("BODY", "body"), ("FOOTER", "footer")):
        for component in _components(template, kind):
            if component.get("text"):
                parts.append(
                    PLACEHOLDER.sub(
                        lambda match, p=prefix: values.get(f"{p}.{match.group(1)}", match.group(0)), component["text"]
                    )
                )
    return "\n\n".join(parts) or template.name


def sync_templates(configuration):
    """Replace the configuration's templates with the business account's list from Meta.

    Returns the number of templates kept. Raises GraphError when Meta cannot be asked, and
    TemplateError when the configuration has no business account id.
    """
    if not configuration.business_account_id:
        raise TemplateError("This WhatsApp number has no business account id, so its templates cannot be synced.")
    listed = client_for(configuration).list_message_templates(configuration.business_account_id)
    now = timezone.now()
    kept = set()
    with transaction.atomic():
        stored = {(t.name, t.language): t for t in configuration.templates.all()}
        for item in listed:
            name, language = item.get("name"), item.get("language")
            if not name or not language:
                continue
            category = str(item.get("category", "")).upper()
            known = stored.get((name, language))
            MessageTemplate.objects.update_or_create(
                configuration=configuration,
                name=name,
                language=language,
                defaults={
                    **(_moved(known, category, now) if known is not None and known.category else {}),
                    "meta_id": str(item.get("id", "")),
                    "status": str(item.get("status", "")).upper(),
                    "category": category,
                    "parameter_format": str(item.get("parameter_format") or "POSITIONAL").upper(),
                    "components": item.get("components") or [],
                    "synced_at": now,
                },
            )
            kept.add((name, language))
        stale = [t.pk for t in configuration.templates.all() if (t.name, t.language) not in kept]
        MessageTemplate.objects.filter(pk__in=stale).delete()
    logger.info("Synced %d templates for WhatsApp configuration %s", len(kept), configuration.pk)
    return len(kept)


# Meta's template webhooks (webhooks/reference/message_template_status_update, message_template_quality_update,
# template_category_update): what they change on the stored templates of the business account.
TEMPLATE_FIELDS = ("message_template_status_update", "message_template_quality_update", "template_category_update")
# A status event that is not itself a status a template can have.
STATUS_OF_EVENT = {"REINSTATED": MessageTemplate.APPROVED, "FLAGGED": None, "LOCKED": None, "UNLOCKED": None}


def _word(value, limit=32):
    return value.strip().upper()[:limit] if isinstance(value, str) and value.strip() else ""


def apply_template_webhook(business_account_id, value, at):
    """Apply one template webhook's value to the business account's stored templates; returns a notice.

    Matched by Meta's template id, else by name and language. Each kind (status, quality, category) keeps the
    time of the latest notification applied: a re-delivery, or an older one arriving late, changes nothing.
    """
    templates = MessageTemplate.objects.filter(configuration__business_account_id=business_account_id)
    template_id = value.get("message_template_id")
    name, language = value.get("message_template_name"), value.get("message_template_language")
    by_id = templates.filter(meta_id=str(template_id)) if isinstance(template_id, (int, str)) and template_id else None
    matched = by_id if by_id is not None and by_id.exists() else templates.filter(name=name, language=language)
    if "new_quality_score" in value:
        kind, changes = "quality", {"quality_score": _word(value.get("new_quality_score"), 16)}
    elif "new_category" in value:
        kind, changes = "category", _category_changes(value, at)
    elif "event" in value:
        kind, changes = "status", _status_changes(value)
    else:
        return f"template webhook for {name!r} not understood"
    stamp = f"{kind}_webhook_at"
    fresh = matched.filter(Q(**{f"{stamp}__isnull": True}) | Q(**{f"{stamp}__lte": at}))
    changed = 0
    for template in fresh:
        updates = changes(template) if callable(changes) else changes
        MessageTemplate.objects.filter(pk=template.pk).update(**updates, **{stamp: at})
        changed += 1
    return f"template {name!r} ({language}): {kind} updated on {changed} stored template{'s' if changed != 1 else ''}"


def _status_changes(value):
    event = _word(value.get("event"))
    status = STATUS_OF_EVENT.get(event, event)
    changes = {"status_reason": _word(value.get("reason"), 64).replace("NONE", "")}
    if status:
        changes["status"] = status
    category = _word(value.get("message_template_category"))
    return changes if not category else lambda template: {**changes, **_moved(template, category, None)}


def _category_changes(value, at):
    new = _word(value.get("new_category"))
    upcoming = _word(value.get("correct_category"))
    if upcoming:  # "new_category" is the current one; Meta moves it to "correct_category" at the time given
        when = payloads.whole_number(value.get("category_update_timestamp"))
        upcoming_at = dt.datetime.fromtimestamp(when, tz=dt.UTC) if when and 0 < when < 2**33 else None
        return lambda template: {
            **_moved(template, new, at),
            "upcoming_category": upcoming if upcoming != new else "",
            "upcoming_category_at": upcoming_at,
        }
    return lambda template: {**_moved(template, new, at), "upcoming_category": "", "upcoming_category_at": None}


def _moved(template, category, at):
    """The changes of a template whose category Meta says is `category` now."""
    if not category or category == template.category:
        return {}
    return {"category": category, "previous_category": template.category, "category_changed_at": at or timezone.now()}
