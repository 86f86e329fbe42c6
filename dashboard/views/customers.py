"""Customers: the list, adding one, the customer page (name, picture, orders, conversation), the CSV."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from agents import customers
from agents.access import agent_required
from crm import paging
from crm.csv_export import csv_response
from outreach import consent

from .. import customers as customer_pages
from ..forms import CustomerForm, ProfilePictureForm, RenameCustomerForm
from ..threads import present
from .common import bad_request


@agent_required
def customer_list(request):
    search = request.GET.get("q", "")[:200]
    cursor = request.GET.get("after", "")
    try:
        page = customer_pages.customers_page(request.agent_tables, search=search, cursor=cursor)
    except paging.InvalidCursor as error:
        return bad_request(request, str(error))
    keep = {"q": search} if search else {}
    return render(
        request,
        "agents/customers/list.html",
        {
            "section": "customers",
            "page": page,
            "search": search,
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
    form = CustomerForm(initial={"name": request.GET.get("name", "")[:200], "phone": request.GET.get("phone", "")[:40]})
    return render(request, "agents/customers/add.html", {"section": "customers", "form": form})


def _detail(request, customer, *, rename_form=None, picture_form=None, status=200):
    summary = customer_pages.customer_summary(request.agent_tables, customer)
    return render(
        request,
        "agents/customers/detail.html",
        {
            "section": "customers",
            "customer": customer,
            "summary": summary,
            "bubbles": present(request.agent_tables, customer, summary.recent_messages),
            "rename_form": rename_form or RenameCustomerForm(initial={"name": customer.name}),
            "picture_form": picture_form or ProfilePictureForm(),
            "marketing": consent.preference(request.agent, customer.pk),
        },
        status=status,
    )


@agent_required
def customer_detail(request, customer_id):
    customer = customers.get_customer_or_404(request.agent_tables, customer_id)
    return _detail(request, customer)


@require_POST
@agent_required
def customer_rename(request, customer_id):
    customer = customers.get_customer_or_404(request.agent_tables, customer_id)
    form = RenameCustomerForm(request.POST)
    if form.is_valid():
        try:
            customers.rename_customer(request.agent_tables, customer, form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error("name", error)
        else:
            messages.success(request, "The name was saved.")
            return redirect("customer_detail", customer.pk)
    return _detail(request, customer, rename_form=form, status=400)


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
def customer_export(request):
    search = request.GET.get("q", "")[:200]
    # This download has always been sent as bare text/csv (no charset): kept as it is.
    return csv_response(customer_pages.export_rows(request.agent_tables, search), "customers")
