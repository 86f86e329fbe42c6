"""The order settings: which approved template tells a customer about each status when the 24-hour
window is closed (orders.models.StatusTemplate), with a preview of what the customer would read."""

from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import transaction

from agents.shop import shop_of
from whatsapp import send
from whatsapp.message_templates import render, unsupported_reason

from .models import StatusTemplate
from .notify import template_values
from .workflow import STATUS_LABELS

# The statuses an order moves to (a new order is pending from the start: nothing to tell then).
TOLD_STATUSES = ("confirmed", "processing", "shipped", "delivered", "cancelled", "refunded")
SAMPLE_CUSTOMER = SimpleNamespace(name="Maria Silva", phone="+5511987654321", wa_user_id=None)


@dataclass
class StatusChoice:
    status: str
    label: str
    template: object  # the chosen MessageTemplate, or None
    preview: str  # what the customer would read (for a sample order), "" without a template
    problem: str  # why the chosen template cannot be sent, "" when it can


def sample_order(status):
    return SimpleNamespace(pk=1042, status=status, total_amount=Decimal("36.50"), currency=None)


def usable_templates(agent):
    """[(template, reason it cannot tell customers about orders, or None)] of the agent's approved templates."""
    usable = []
    for template in send.approved_templates(agent):
        reason = unsupported_reason(template)
        if (
            reason is None
            and template_values(template, sample_order("shipped"), SAMPLE_CUSTOMER, shop_of(agent)) is None
        ):
            reason = "Its variables cannot all be filled from an order."
        usable.append((template, reason))
    return usable


def describe(template, status, shop):
    """(preview, problem) of telling a customer about `status` with `template`."""
    reason = unsupported_reason(template)
    if reason:
        return "", reason
    values = template_values(template, sample_order(status), SAMPLE_CUSTOMER, shop)
    if values is None:
        return "", "Its variables cannot all be filled from an order, so it would not be sent."
    return render(template, values), ""


def status_choices(agent):
    chosen = {c.status: c.template for c in StatusTemplate.objects.filter(agent=agent).select_related("template")}
    choices = []
    for status in TOLD_STATUSES:
        template = chosen.get(status)
        preview, problem = describe(template, status, shop_of(agent)) if template is not None else ("", "")
        choices.append(StatusChoice(status, STATUS_LABELS[status], template, preview, problem))
    return choices


def choose_status_templates(agent, chosen):
    """Save the agent's choice, {status: template id or None}, for the statuses given, in one transaction.

    Raises ValidationError (by status) for a template that is not one of the agent's approved ones;
    nothing is saved then.
    """
    allowed = {template.pk: template for template, reason in usable_templates(agent) if reason is None}
    errors = {}
    for status, template_id in chosen.items():
        if status not in TOLD_STATUSES:
            errors[status] = ValidationError(f"{status!r} is not a status customers are told about.")
        elif template_id is not None and template_id not in allowed:
            errors[status] = ValidationError(
                f"Choose one of your approved templates for {STATUS_LABELS[status].lower()} orders."
            )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for status, template_id in chosen.items():
            if template_id is None:
                StatusTemplate.objects.filter(agent=agent, status=status).delete()
            else:
                StatusTemplate.objects.update_or_create(
                    agent=agent, status=status, defaults={"template": allowed[template_id]}
                )


@dataclass
class MarketingWarning:
    label: str  # the status whose template it is
    template: object  # the MessageTemplate
    upcoming: bool  # Meta announced the move; it is not made yet


def marketing_warnings(agent):
    """The order-update templates Meta moved to MARKETING (or will soon): marketing templates cost more, reach
    customers who opted out of offers less, and are not what an order update is. The settings page warns."""
    warnings = []
    for chosen in StatusTemplate.objects.filter(agent=agent).select_related("template").order_by("id"):
        template = chosen.template
        moved = template.category == "MARKETING" and template.previous_category not in ("", "MARKETING")
        upcoming = template.upcoming_category == "MARKETING" and template.category != "MARKETING"
        if moved or upcoming:
            warnings.append(MarketingWarning(STATUS_LABELS.get(chosen.status, chosen.status), template, upcoming))
    return warnings
