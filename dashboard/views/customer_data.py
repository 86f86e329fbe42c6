"""A customer's data on request: everything about them as one archive, or erased (with a confirmation)."""

from django import forms
from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from agents import customer_data
from agents.access import agent_required
from agents.customers import get_customer_or_404


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand: the customer, their messages, orders and files are deleted for good.",
        error_messages={"required": "Tick the box to confirm: erasing cannot be undone."},
    )


@agent_required
def customer_archive(request, customer_id):
    customer = get_customer_or_404(request.agent_tables, customer_id)
    archive = customer_data.customer_archive(request.agent_tables, customer, actor=request.user, request=request)
    return FileResponse(archive, as_attachment=True, filename=f"customer-{customer.pk}.zip")


@agent_required
@require_http_methods(["GET", "POST"])
def customer_erase(request, customer_id):
    customer = get_customer_or_404(request.agent_tables, customer_id)
    form = EraseForm(request.POST if request.method == "POST" else None)
    if not form.is_valid():
        return render(
            request, "agents/customers/erase.html", {"customer": customer, "form": form, "section": "customers"}
        )
    erased = customer_data.erase_customer(
        request.agent, request.agent_tables, customer, actor=request.user, request=request
    )
    messages.success(
        request,
        f"{customer.name} was erased, with {erased['messages']} message(s), {erased['orders']} order(s) "
        f"and {erased['media_files']} file(s).",
    )
    return redirect("customer_list")
