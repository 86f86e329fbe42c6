"""The composer: send text, a file, a template or products to the customer; resend a failed message.

Each view parses the form and calls one function of whatsapp.send, which writes the queued row and
enqueues the send (or refuses with a sentence for the agent, changing nothing). With htmx the answer
is the thread's live tail (the new message in it) and a fresh composer swapped out of band; without
it, a redirect back to the conversation.
"""

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from agents.access import agent_required
from agents.customers import first_name, get_customer_or_404
from crm.inputs import object_id
from orders import catalog
from whatsapp import send
from whatsapp.message_templates import render as render_template
from whatsapp.message_templates import template_fields, unsupported_reason

from ..forms import CatalogMessageForm, ProductMessageForm
from ..threads import thread_tail
from .common import is_htmx

# How many products the composer's picker lists (by name): a product message shows at most 30.
PRODUCT_PICKER_SIZE = 100


def window_left(window, now=None):
    """'23 h 12 min' of the 24-hour window left, or '' when it is closed."""
    if not window.is_open:
        return ""
    minutes = max(int((window.closes_at - (now or timezone.now())).total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def sendable_templates(agent):
    """[(template, reason it cannot be sent from here or None)] of the agent's approved templates."""
    return [(template, unsupported_reason(template)) for template in send.approved_templates(agent)]


def composer_context(request, customer, *, error="", text="", template=None, values=None):
    window = send.window(request.agent_tables, customer)
    templates = sendable_templates(request.agent)
    if template is None and not window.is_open:
        template = next((t for t, reason in templates if reason is None), None)
    fields = template_fields(template) if template is not None else []
    return {
        "customer": customer,
        "first_name": first_name(customer),
        "window": window,
        "window_left": window_left(window),
        "templates": templates,
        "chosen_template": template,
        "template_fields": [(f, (values or {}).get(f.key, "")) for f in fields],
        "template_preview": template_preview(template),
        "idempotency_key": uuid.uuid4().hex,
        "compose_error": error,
        "compose_text": text,
        "product_form": ProductMessageForm(products=catalog.products_of(request.agent).active()[:PRODUCT_PICKER_SIZE]),
        "catalog_form": CatalogMessageForm(),
    }


def template_preview(template):
    """The template's text with its variables still as {{1}}: what the customer will read."""
    return render_template(template, {}) if template is not None else ""


def _answer(request, customer, *, error="", text="", since="", template=None, values=None):
    """After a send: the live tail and a fresh composer (htmx), or back to the conversation."""
    if not is_htmx(request):
        if error:
            messages.error(request, error)
        return redirect("conversation", customer.pk)
    context = composer_context(request, customer, error=error, text=text, template=template, values=values)
    if error:
        response = render(request, "agents/_composer.html", {**context, "oob": True})
        response["HX-Reswap"] = "none"
        return response
    tail, _ = thread_tail(request.agent_tables, customer, since)
    return render(
        request,
        "agents/_thread_tail.html",
        {
            **context,
            "thread": tail,
            "oob": True,
            "tail_url": tail_url(customer, tail, context["window"]),
            "poll_seconds": settings.DASHBOARD_POLL_SECONDS,
        },
    )


def tail_url(customer, thread, window):
    """Where the open thread polls: its tail from `since`, the token of what it shows, the window state."""
    query = {"v": thread.token, "open": int(window.is_open)}
    if thread.tail_cursor:
        query["since"] = thread.tail_cursor
    return reverse("conversation_tail", args=[customer.pk]) + "?" + urlencode(query)


@require_POST
@agent_required
def send_message(request, customer_id):
    """Send the composer's text, or its attachment with the text as caption."""
    customer = get_customer_or_404(request.agent_tables, customer_id)
    text, key = request.POST.get("text", ""), request.POST.get("idempotency_key")
    upload = request.FILES.get("attachment")
    try:
        reply_to = send.reply_target(request.agent_tables, customer, request.POST.get("reply_to", ""))
        if upload is not None:
            send.send_media(
                request.agent,
                customer,
                upload,
                caption=text,
                sent_by=request.user,
                idempotency_key=key,
                reply_to_wamid=reply_to,
            )
        else:
            send.send_text(
                request.agent, customer, text, sent_by=request.user, idempotency_key=key, reply_to_wamid=reply_to
            )
    except send.SendError as error:
        return _answer(request, customer, error=str(error), text=text)
    return _answer(request, customer, since=request.POST.get("since", ""))


@require_POST
@agent_required
def react_to_message(request, message_id):
    """React to a customer's message (an emoji from the bubble's menu), or take the reaction back."""
    message = get_object_or_404(request.agent_tables.Message, pk=message_id)
    try:
        send.send_reaction(request.agent, message, request.POST.get("emoji", ""), sent_by=request.user)
    except send.SendError as error:
        return _answer(request, message.customer, error=str(error))
    return _answer(request, message.customer, since=request.POST.get("since", ""))


def _chosen_template(request, template_id):
    template_id = object_id(template_id)
    return send.approved_templates(request.agent).filter(pk=template_id).first() if template_id else None


@require_POST
@agent_required
def send_template_message(request, customer_id):
    customer = get_customer_or_404(request.agent_tables, customer_id)
    template = _chosen_template(request, request.POST.get("template", ""))
    values = {key[len("var-") :]: value for key, value in request.POST.items() if key.startswith("var-")}
    if template is None:
        return _answer(request, customer, error="Choose one of your approved templates.")
    try:
        send.send_template(
            request.agent,
            customer,
            template,
            values,
            sent_by=request.user,
            idempotency_key=request.POST.get("idempotency_key"),
        )
    except send.SendError as error:
        return _answer(request, customer, error=str(error), template=template, values=values)
    return _answer(request, customer, since=request.POST.get("since", ""))


@agent_required
def template_form(request, customer_id):
    """The composer with another template chosen (the picker asks for it when the choice changes)."""
    customer = get_customer_or_404(request.agent_tables, customer_id)
    template = _chosen_template(request, request.GET.get("template", ""))
    context = composer_context(request, customer, template=template)
    if not is_htmx(request):
        return redirect(reverse("conversation", args=[customer.pk]) + f"?template={template.pk if template else ''}")
    return render(request, "agents/_composer.html", context)


@require_POST
@agent_required
def resend_message(request, message_id):
    message = get_object_or_404(request.agent_tables.Message.objects.select_related("customer"), pk=message_id)
    try:
        send.resend(request.agent, message, sent_by=request.user)
    except send.SendError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Sending it again.")
    return redirect(reverse("conversation", args=[message.customer_id]) + f"#m{message.pk}")


@require_POST
@agent_required
def composer_typing(request, customer_id):
    """The seller is typing: the customer sees WhatsApp's typing indicator (throttled in whatsapp.send)."""
    customer = get_customer_or_404(request.agent_tables, customer_id)
    send.show_typing(request.agent, customer)
    return HttpResponse(status=204)


@require_POST
@agent_required
def send_products_message(request, customer_id):
    """Send one product (a product message) or several (a product list) from the agent's catalog."""
    customer = get_customer_or_404(request.agent_tables, customer_id)
    chosen = [object_id(pk) for pk in request.POST.getlist("product")]
    form = ProductMessageForm(request.POST, products=catalog.sendable_products(request.agent, chosen))
    if not form.is_valid():
        return _answer(request, customer, error="Choose one or more products of your catalog to send.")
    return _sent(
        request,
        customer,
        catalog.send_products,
        form.cleaned_data["product"],
        header=form.cleaned_data["header"],
        body=form.cleaned_data["body"],
        footer=form.cleaned_data["footer"],
    )


@require_POST
@agent_required
def send_catalog_message(request, customer_id):
    """Send the catalog message: a text and a View catalog button."""
    customer = get_customer_or_404(request.agent_tables, customer_id)
    form = CatalogMessageForm(request.POST)
    if not form.is_valid():
        return _answer(request, customer, error="Write a text of at most 1,024 characters to go with the catalog.")
    return _sent(request, customer, send.send_catalog, form.cleaned_data["catalog_text"])


def _sent(request, customer, send_function, *args, **kwargs):
    """Call `send_function(agent, customer, *args, **kwargs, sent_by, idempotency_key)` and answer as every
    send does: the new message in the tail, or the composer with WhatsApp's reason."""
    try:
        send_function(
            request.agent,
            customer,
            *args,
            **kwargs,
            sent_by=request.user,
            idempotency_key=request.POST.get("idempotency_key"),
        )
    except send.SendError as error:
        return _answer(request, customer, error=str(error))
    return _answer(request, customer, since=request.POST.get("since", ""))
