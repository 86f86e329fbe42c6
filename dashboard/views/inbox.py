"""The inbox and the conversation, with their live parts (polled by htmx, answered 204 when unchanged)."""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from agents.access import agent_required
from agents.customers import get_customer_or_404
from agents.quick_replies import quick_replies_of
from crm import paging
from crm.inputs import object_id
from dashboard.views.order import panel_context as order_panel_context
from whatsapp import send
from whatsapp.coexistence import history_progress

from ..aside import customer_aside
from ..inbox import SHOWS, inbox_with_filters
from ..polling import nothing_changed
from ..threads import thread_page, thread_tail
from .common import NO_SUCH_LABEL, bad_request, choice, label_asked, today_start
from .composer import composer_context, tail_url

NO_SUCH_FILTER = "There is no such inbox filter or label. Pick one from the inbox's filters."


def _inbox_query(request):
    """(show, search, cursor, label) from the query string, or None when `show` or `label` is not one we have."""
    show = choice(request, "show", SHOWS, "all")
    label = label_asked(request)
    if show is None or label is NO_SUCH_LABEL:
        return None
    return show, request.GET.get("q", "")[:200], request.GET.get("after", ""), label


def _inbox_context(request, show, search, cursor, label, current=None):
    queue, page = inbox_with_filters(
        request.agent, request.agent_tables, show=show, search=search, cursor=cursor, label=label, today=today_start()
    )
    keep = {"show": show if show != "all" else "", "q": search, "label": label.pk if label else ""}
    keep = {key: value for key, value in keep.items() if value}
    poll = {**keep, **({"after": cursor} if cursor else {}), **({"current": current.pk} if current else {})}
    return {
        "page": page,
        "filters": queue.filters,
        "label_filters": queue.label_filters,
        "label": label,
        "show": show,
        "search": search,
        "cursor": cursor,
        "current": current,
        "filter_query": urlencode(keep),
        "poll_url": reverse("inbox_rows") + "?" + urlencode({**poll, "v": page.token}),
        "next_url": (
            reverse("inbox") + "?" + urlencode({**keep, "after": page.next_cursor}) if page.next_cursor else None
        ),
        "poll_seconds": settings.DASHBOARD_POLL_SECONDS,
    }


@agent_required
def inbox(request):
    query = _inbox_query(request)
    if query is None:
        return bad_request(request, NO_SUCH_FILTER)
    try:
        context = _inbox_context(request, *query)
    except paging.InvalidCursor as error:
        return bad_request(request, str(error))
    history = history_progress(request.agent)
    return render(request, "agents/inbox.html", {"section": "inbox", "history": history, **context})


@agent_required
def inbox_rows(request):
    """The inbox list alone, for polling: 204 while the page's token is the one the browser has."""
    query = _inbox_query(request)
    if query is None:
        return bad_request(request, NO_SUCH_FILTER)
    current = object_id(request.GET.get("current", ""))
    current = request.agent_tables.Customer.objects.filter(pk=current).first() if current else None
    try:
        context = _inbox_context(request, *query, current=current)
    except paging.InvalidCursor as error:
        return bad_request(request, str(error))
    if context["page"].token == request.GET.get("v"):
        return nothing_changed()
    return render(request, "agents/_inbox_list.html", {**context, "filters_oob": True})


def _mark_read(request, customer):
    """Opening a conversation reads it; the read receipt to WhatsApp goes with it (in the background)."""
    if customer.unread_count:
        send.read_conversation(request.agent, customer)
        customer.unread_count = 0


@agent_required
def conversation(request, customer_id):
    customer = get_customer_or_404(request.agent_tables, customer_id)
    query = _inbox_query(request) or ("all", "", "", None)
    _mark_read(request, customer)
    thread = thread_page(request.agent_tables, customer)
    composer = composer_context(request, customer, template=_template_asked(request))
    context = {
        "section": "inbox",
        "thread": thread,
        "tail_url": tail_url(customer, thread, composer["window"]),
        "quick_replies": [{"shortcut": q.shortcut, "text": q.text} for q in quick_replies_of(request.agent)],
        **_inbox_context(request, query[0], query[1], "", query[3], current=customer),
        **customer_aside(request.agent, customer),
        **composer,
    }
    if request.GET.get("order") == "new":
        # The new-order panel beside the thread, for a browser without JavaScript (htmx loads it otherwise).
        context.update(order_panel_context(request, customer), order_panel=True)
    return render(request, "agents/conversation.html", context)


def _template_asked(request):
    """The template picked in the composer without JavaScript (?template=<id>), if it is one of ours."""
    template_id = object_id(request.GET.get("template", ""))
    return send.approved_templates(request.agent).filter(pk=template_id).first() if template_id else None


@agent_required
def conversation_older(request, customer_id):
    """The page of messages before the `before` cursor, and the next "Load older" button."""
    customer = get_customer_or_404(request.agent_tables, customer_id)
    if not request.GET.get("before"):
        return bad_request(request, "Say which messages to load: this link has no position.")
    try:
        thread = thread_page(request.agent_tables, customer, before=request.GET["before"])
    except paging.InvalidCursor as error:
        return bad_request(request, str(error))
    return render(request, "agents/_older.html", {"customer": customer, "thread": thread})


@agent_required
def conversation_tail(request, customer_id):
    """The live end of an open thread: 204 while nothing in it changed, else the tail anew.

    The browser says whether the agent is looking (`seen=1`, sent by app.js while the tab is
    visible): only then do new inbound messages count as read.
    """
    customer = get_customer_or_404(request.agent_tables, customer_id)
    if request.GET.get("seen") == "1":
        _mark_read(request, customer)
    try:
        tail, complete = thread_tail(request.agent_tables, customer, request.GET.get("since", ""))
    except paging.InvalidCursor as error:
        return bad_request(request, str(error))
    if not complete:
        return nothing_changed(reload=True)
    window = send.window(request.agent_tables, customer)
    window_changed = request.GET.get("open") != str(int(window.is_open))
    if tail.token == request.GET.get("v") and not window_changed:
        return nothing_changed()
    context = {
        "customer": customer,
        "thread": tail,
        "tail_url": tail_url(customer, tail, window),
        "poll_seconds": settings.DASHBOARD_POLL_SECONDS,
    }
    if window_changed:
        # The customer wrote after the window had closed (or it closed): the composer changes with it.
        context.update(composer_context(request, customer), oob=True)
    return render(request, "agents/_thread_tail.html", context)
