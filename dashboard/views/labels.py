"""Labels: the Labels page (add, change, delete), and labels put on customers, one or many at a time."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from agents import labels
from agents.access import agent_required
from agents.customers import get_customer_or_404

from ..forms import BulkLabelForm, CustomerLabelsForm, LabelForm
from .common import back_to, bad_request


def _save(request, form, label=None):
    """Save a valid form through the domain; False (errors on the form) when refused."""
    if not form.is_valid():
        return False
    try:
        labels.save_label(request.agent, label=label, **form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True


@agent_required
def label_list(request):
    form = LabelForm(request.POST or None)
    if request.method == "POST" and _save(request, form):
        messages.success(request, f"The label “{form.cleaned_data['name']}” was saved.")
        return redirect("labels")
    found = list(labels.labels_of(request.agent))
    context = {"section": "labels", "form": form, "labels": found, "max_labels": labels.MAX_LABELS}
    return render(request, "agents/labels.html", context, status=400 if form.errors else 200)


@agent_required
def label_edit(request, label_id):
    label = labels.get_label_or_404(request.agent, label_id)
    name = label.name
    form = LabelForm(request.POST or None, instance=label)
    if request.method == "POST" and _save(request, form, label):
        messages.success(request, f"The label “{form.cleaned_data['name']}” was saved.")
        return redirect("labels")
    context = {"section": "labels", "form": form, "name": name}
    return render(request, "agents/label_edit.html", context, status=400 if form.errors else 200)


@require_POST
@agent_required
def label_delete(request, label_id):
    label = labels.get_label_or_404(request.agent, label_id)
    labels.delete_label(label)
    messages.success(request, f"The label “{label.name}” was deleted; it came off every customer it was on.")
    return redirect("labels")


@require_POST
@agent_required
def customer_labels(request, customer_id):
    """The labels ticked in a conversation (or on the customer page) become the customer's labels."""
    customer = get_customer_or_404(request.agent_tables, customer_id)
    form = CustomerLabelsForm(request.agent, request.POST)
    if not form.is_valid():
        return bad_request(request, "Those labels could not be read; reload the page and try again.")
    labels.set_customer_labels(request.agent, request.agent_tables, customer, form.cleaned_data["labels"])
    messages.success(request, f"Labels of {customer.name} saved.")
    return redirect(back_to(request, "conversation", customer.pk))


@require_POST
@agent_required
def customers_label(request):
    """Put a label on (or take it off) the customers ticked in the customers list."""
    form = BulkLabelForm(request.agent, request.POST)
    if not form.is_valid():
        return bad_request(request, " ".join(error for errors in form.errors.values() for error in errors))
    label, customer_ids = form.cleaned_data["label"], form.cleaned_data["customers"]
    if form.cleaned_data["action"] == "add":
        count = labels.add_label(request.agent, request.agent_tables, label, customer_ids)
        messages.success(request, f"“{label.name}” added to {count} customer{'s' if count != 1 else ''}.")
    else:
        count = labels.remove_label(request.agent, label, customer_ids)
        messages.success(request, f"“{label.name}” removed from {count} customer{'s' if count != 1 else ''}.")
    return redirect(back_to(request, "customer_list"))
