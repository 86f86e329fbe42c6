"""Customers: the list, adding one, the customer page (name, picture, orders, conversation), the CSV."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from agents import customers, labels
from agents.access import agent_required
from agents.shop import shop_of
from crm import paging
from crm.csv_export import csv_response
from crm.replicas import reads_from_replica
from outreach import consent
from payments import ledger

from .. import customers as customer_pages
from ..forms import BulkLabelForm, CustomerDetailsForm, CustomerForm, ProfilePictureForm
from ..threads import present
from .common import NO_SUCH_LABEL, bad_request, label_asked


@agent_required
@reads_from_replica
def customer_list(request):
    search, cursor, label = request.GET.get("q", "")[:200], request.GET.get("after", ""), label_asked(request)
    if label is NO_SUCH_LABEL:
        return bad_request(request, "There is no such label. Pick one from the list's labels.")
    try:
        page = customer_pages.customers_page(
            request.agent_tables, agent=request.agent, search=search, label=label, cursor=cursor
        )
    except paging.InvalidCursor as error:
        return bad_request(request, str(error))
    keep = {key: value for key, value in (("q", search), ("label", label and label.pk)) if value}
    return render(
        request,
        "agents/customers/list.html",
        {
            "section": "customers",
            "page": page,
            "search": search,
            "label": label,
            "labels": labels.labels_of(request.agent),
            "bulk_form": BulkLabelForm(request.agent),
            "cursor": cursor,
            "export_url": reverse("customer_export") + ("?" + urlencode(keep) if keep else ""),
            "first_url": reverse("customer_list") + ("?" + urlencode(keep) if keep else ""),
            "next_url": reverse("customer_list") + "?" + urlencode({**keep, "after": page.next_cursor})
            if page.next_cursor
            else None,
        },
    )


@agent_required
def customer_add(request):
    if request.method == "POST":
        form = CustomerForm(request.POST)
        if form.is_valid():
            try:
                customer = customers.add_customer(
                    request.agent_tables, name=form.cleaned_data["name"], phone=form.cleaned_data["phone"]
                )
            except customers.DuplicatePhone as error:
                form.add_error(None, error)
                return render(
                    request,
                    "agents/customers/add.html",
                    {
                        "section": "customers",
                        "form": form,
                        "existing": error.existing,
                    },
                    status=400,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"{customer.name} was added.")
                return redirect("customer_detail", customer.pk)
        return render(request, "agents/customers/add.html", {"section": "customers", "form": form}, status=400)
    form = CustomerForm(initial={"name": request.GET.get("name", ""), "phone": request.GET.get("phone", "")})
    return render(request, "agents/customers/add.html", {"section": "customers", "form": form})


def _detail(request, customer, *, details_form=None, picture_form=None, status=200):
    summary = customer_pages.customer_summary(request.agent_tables, customer, shop_of(request.agent).currency)
    return render(
        request,
        "agents/customers/detail.html",
        {
            "section": "customers",
            "customer": customer,
            "summary": summary,
            "bubbles": present(request.agent_tables, customer, summary.recent_messages),
            "details_form": details_form
            or CustomerDetailsForm(
                initial={
                    "name": customer.name,
                    "email": customer.email,
                    "address": customer.address,
                    "notes": customer.notes,
                }
            ),
            "picture_form": picture_form or ProfilePictureForm(),
            "marketing": consent.preference(request.agent, customer.pk),
            "balance": ledger.customer_balance(request.agent, customer),
        },
        status=status,
    )


@agent_required
def customer_detail(request, customer_id):
    customer = customers.get_customer_or_404(request.agent_tables, customer_id)
    return _detail(request, customer)


@require_POST
@agent_required
def customer_details(request, customer_id):
    customer = customers.get_customer_or_404(request.agent_tables, customer_id)
    form = CustomerDetailsForm(request.POST)
    if form.is_valid():
        try:
            customers.save_customer_details(request.agent_tables, customer, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{customer.name}'s details were saved.")
            return redirect("customer_detail", customer.pk)
    return _detail(request, customer, details_form=form, status=400)


@require_POST
@agent_required
def customer_picture(request, customer_id):
    customer = customers.get_customer_or_404(request.agent_tables, customer_id)
    if "remove" in request.POST:
        customers.remove_profile_picture(request.agent_tables, customer)
        messages.success(request, "The picture was removed.")
        return redirect("customer_detail", customer.pk)
    form = ProfilePictureForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            customers.set_profile_picture(request.agent_tables, customer, form.cleaned_data["picture"])
        except ValidationError as error:
            form.add_error("picture", error)
        else:
            messages.success(request, "The picture was saved.")
            return redirect("customer_detail", customer.pk)
    return _detail(request, customer, picture_form=form, status=400)


@agent_required
def customer_avatar(request, customer_id):
    """The customer's uploaded picture, served only to the agent who owns the customer."""
    customer = customers.get_customer_or_404(request.agent_tables, customer_id)
    name = customers.picture_storage_name(request.agent_tables, customer)
    if name is None or not default_storage.exists(name):
        raise Http404("No picture.")
    response = FileResponse(default_storage.open(name, "rb"), content_type="image/jpeg")
    # The URL changes with each upload (?v=...), so the browser may keep it.
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@agent_required
@reads_from_replica
def customer_export(request):
    search, label = request.GET.get("q", "")[:200], label_asked(request)
    if label is NO_SUCH_LABEL:
        return bad_request(request, "There is no such label. Pick one from the list's labels.")
    currency = shop_of(request.agent).currency
    lines = customer_pages.export_rows(request.agent_tables, currency, search, agent=request.agent, label=label)
    return csv_response(lines, "customers")
