"""The product catalog: the list with search and pages, adding and editing a product, archiving it, the CSV
export and import (a preview first, then the import on confirmation), and syncing from the Meta catalog."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from agents.access import agent_required
from crm import paging
from crm.csv_export import csv_response
from orders import catalog, catalog_import, catalog_sync

from ..forms import CatalogIdForm, ProductForm, ProductImportConfirmForm, ProductImportForm, ProductSearchForm
from .common import bad_request


@agent_required
def product_list(request):
    form = ProductSearchForm(request.GET)
    if not form.is_valid():
        return render(request, "orders/products.html", {"section": "products", "form": form}, status=400)
    query, archived = form.cleaned_data["q"], form.cleaned_data["archived"]
    try:
        page = catalog.products_page(request.agent, query=query, archived=archived, cursor=request.GET.get("after", ""))
    except paging.InvalidCursor as error:
        return bad_request(request, str(error))
    status = catalog_sync.sync_status(request.agent)
    keep = {key: value for key, value in (("q", query), ("archived", "on" if archived else "")) if value}
    return render(
        request,
        "orders/products.html",
        {
            "section": "products",
            "form": form,
            "page": page,
            "archived": archived,
            "searched": bool(query),
            "first_url": reverse("product_list") + ("?" + urlencode(keep) if keep else ""),
            "next_url": reverse("product_list") + "?" + urlencode({**keep, "after": page.next_cursor})
            if page.next_cursor
            else None,
            "paged": bool(request.GET.get("after")),
            "catalog_id_form": CatalogIdForm(initial={"catalog_id": status["catalog_id"]}),
            **status,
        },
    )


def _save(request, form, product=None):
    """Save a valid form through the catalog; False (errors on the form) when it is not valid or the SKU is taken."""
    if not form.is_valid():
        return False
    try:
        catalog.save_product(request.agent, product=product, **form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True


@agent_required
def product_add(request):
    form = ProductForm(request.POST or None)
    if request.method == "POST" and _save(request, form):
        messages.success(request, f"{form.cleaned_data['name']} was added to your catalog.")
        return redirect("product_list")
    return render(
        request, "orders/product_edit.html", {"section": "products", "form": form}, status=400 if form.errors else 200
    )


@agent_required
def product_edit(request, product_id):
    product = catalog.get_product_or_404(request.agent, product_id)
    initial = {name: getattr(product, name) for name in catalog.EDITABLE_FIELDS}
    form = ProductForm(request.POST or None, initial=initial)
    if request.method == "POST" and _save(request, form, product):
        messages.success(request, f"{form.cleaned_data['name']} was saved.")
        return redirect("product_list")
    return render(
        request,
        "orders/product_edit.html",
        {"section": "products", "form": form, "product": product},
        status=400 if form.errors else 200,
    )


@require_POST
@agent_required
def product_archive(request, product_id):
    product = catalog.archive_product(catalog.get_product_or_404(request.agent, product_id))
    messages.success(request, f"{product.name} was archived: it is hidden from the catalog and from sending.")
    return redirect("product_list")


@require_POST
@agent_required
def product_unarchive(request, product_id):
    product = catalog.unarchive_product(catalog.get_product_or_404(request.agent, product_id))
    messages.success(request, f"{product.name} is back in your catalog.")
    return redirect(reverse("product_list") + "?archived=on")


@agent_required
def product_export(request):
    return csv_response(catalog.export_products(request.agent), "products")


@agent_required
def product_import(request):
    """Upload a CSV file: the preview of what it would do, written nowhere until confirmed."""
    form = ProductImportForm(request.POST or None, request.FILES or None)
    context = {"section": "products", "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            preview = catalog_import.preview_import(request.agent, form.cleaned_data["file"].read())
        except catalog_import.CatalogImportError as error:
            form.add_error("file", str(error))
        else:
            context.update(preview=preview, confirm_form=ProductImportConfirmForm(initial={"token": preview.token}))
            return render(request, "orders/product_import.html", context)
    return render(request, "orders/product_import.html", context, status=400 if form.errors else 200)


@require_POST
@agent_required
def product_import_confirm(request):
    form = ProductImportConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The preview is missing; upload the file again.")
        return redirect("product_import")
    try:
        result = catalog_import.apply_import(request.agent, form.cleaned_data["token"])
    except catalog_import.CatalogImportError as error:
        messages.error(request, str(error))
        return redirect("product_import")
    messages.success(request, f"Imported: {result.added} added, {result.updated} updated.")
    return redirect("product_list")


@require_POST
@agent_required
def catalog_link(request):
    """Link (or unlink) the Meta commerce catalog the products are synced from."""
    form = CatalogIdForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["catalog_id"]))
        return redirect("product_list")
    catalog_id = form.cleaned_data["catalog_id"]
    try:
        catalog_sync.set_catalog_id(request.agent, catalog_id, actor=request.user, request=request)
    except catalog_sync.CatalogSyncError as error:
        messages.error(request, str(error))
        return redirect("product_list")
    messages.success(
        request, f"Linked to Meta catalog {catalog_id}." if catalog_id else "The Meta catalog is unlinked."
    )
    return redirect("product_list")


@require_POST
@agent_required
def catalog_sync_now(request):
    try:
        catalog_sync.request_sync(request.agent)
    except catalog_sync.CatalogSyncError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The sync with your Meta catalog has started; this page shows how it went.")
    return redirect("product_list")
