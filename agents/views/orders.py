"""The orders list: what the home page's "open orders" and "revenue this month" open."""

from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from .. import paging
from ..access import agent_required
from ..order_list import PERIODS, STATUS_FILTERS, orders_page
from ..tables import ORDER_STATUSES
from .common import bad_request, choice, month_start


@agent_required
def order_list(request):
    status = choice(request, "status", STATUS_FILTERS, "all")
    period = choice(request, "period", PERIODS, "all")
    if status is None or period is None:
        return bad_request(request, "There is no such order filter.")
    cursor = request.GET.get("after", "")
    try:
        page = orders_page(request.agent_tables, status=status, cursor=cursor,
                           since=month_start() if period == "month" else None)
    except paging.InvalidCursor as error:
        return bad_request(request, str(error))
    keep = {key: value for key, value in (("status", status), ("period", period)) if value != "all"}
    return render(request, "agents/orders.html", {
        "section": "orders",
        "page": page,
        "status": status,
        "period": period,
        "statuses": ORDER_STATUSES,
        "cursor": cursor,
        "first_url": reverse("order_list") + ("?" + urlencode(keep) if keep else ""),
        "next_url": reverse("order_list") + "?" + urlencode({**keep, "after": page.next_cursor})
        if page.next_cursor else None,
    })
