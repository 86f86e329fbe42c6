"""The orders list: filters, sort, keyset pages, the totals of the filtered set, and its CSV exports."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from agents.access import agent_required
from agents.shop import shop_of
from crm import paging
from crm.csv_export import csv_response
from crm.replicas import reads_from_replica
from orders.forms import OrderFilterForm
from orders.listing import export_items, export_orders, orders_page


def _filters(request):
    """(form, OrderFilters) from the query string; the filters are None when the form has errors."""
    form = OrderFilterForm(request.GET)
    return form, form.filters() if form.is_valid() else None


def _customer_named(request, customer_id):
    if not customer_id:
        return None
    return request.agent_tables.Customer.objects.filter(pk=customer_id).first()


@agent_required
def order_list(request):
    if request.GET.get("period") == "month":
        return _this_months_orders(request)
    form, filters = _filters(request)
    cursor = request.GET.get("after", "")
    context = {"section": "orders", "form": form, "cursor": cursor, "page": None}
    if filters is None:
        return render(request, "orders/list.html", context, status=400)
    try:
        page = orders_page(request.agent_tables, filters, cursor=cursor, currency=shop_of(request.agent).currency)
    except paging.InvalidCursor as error:
        context["cursor_error"] = str(error)
        return render(request, "orders/list.html", context, status=400)
    context.update(
        page=page,
        customer=_customer_named(request, filters.customer_id),
        **_links(form.query(), page.next_cursor),
    )
    return render(request, "orders/list.html", context)


def _this_months_orders(request):
    """The home page's "revenue this month" link: this month's orders, with the date shown in the form."""
    query = request.GET.copy()
    del query["period"]
    query["date_from"] = timezone.localdate().replace(day=1).isoformat()
    return redirect(reverse("order_list") + "?" + query.urlencode())


def _links(keep, next_cursor):
    """Whether the list is filtered, and its links that keep the filters `keep` (as query parameters)."""
    query = urlencode(keep)
    return {
        "filtered": bool(set(keep) - {"sort"}),
        "without_customer_url": reverse("order_list")
        + "?"
        + urlencode({key: value for key, value in keep.items() if key != "customer_id"}),
        "first_url": reverse("order_list") + ("?" + query if query else ""),
        "next_url": reverse("order_list") + "?" + urlencode({**keep, "after": next_cursor}) if next_cursor else None,
        "export_url": reverse("order_export") + ("?" + query if query else ""),
        "items_export_url": reverse("order_items_export") + ("?" + query if query else ""),
    }


@agent_required
@reads_from_replica
def order_export(request):
    return _export(request, export_orders, "orders")


@agent_required
@reads_from_replica
def order_items_export(request):
    return _export(request, export_items, "order-items")


def _export(request, export, name):
    """The orders the list's filters select, as CSV lines made by `export`; wrong filters: the list, 400."""
    form, filters = _filters(request)
    if filters is None:
        return render(request, "orders/list.html", {"section": "orders", "form": form, "page": None}, status=400)
    return csv_response(export(request.agent_tables, filters, shop_of(request.agent).currency), name)
