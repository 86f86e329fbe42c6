"""Order settings: which approved template tells a customer about each status outside the 24-hour window."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from agents.access import agent_required
from crm.inputs import object_id
from orders.status_templates import (
    TOLD_STATUSES,
    choose_status_templates,
    marketing_warnings,
    status_choices,
    usable_templates,
)
from whatsapp.configuration import configuration_for_agent


def _page(request, *, errors=None, status=200):
    return render(
        request,
        "orders/settings.html",
        {
            "section": "orders",
            "choices": status_choices(request.agent),
            "templates": usable_templates(request.agent),
            "errors": errors or {},
            "connected": configuration_for_agent(request.agent) is not None,
            "marketing_warnings": marketing_warnings(request.agent),
        },
        status=status,
    )


@agent_required
def order_settings(request):
    if request.method != "POST":
        return _page(request)
    chosen = {}
    for status in TOLD_STATUSES:
        chosen[status] = object_id(request.POST.get(f"template-{status}", ""))
    try:
        choose_status_templates(request.agent, chosen)
    except ValidationError as error:
        return _page(request, errors={key: value[0] for key, value in error.message_dict.items()}, status=400)
    messages.success(request, "Saved. Customers are told about each status with the template you chose.")
    return redirect("order_settings")
