"""The customer sandbox: a person plays a customer of a shop's WhatsApp number, against the fake Graph API.

Only where settings.WHATSAPP_SANDBOX is on (the `make run` demo); elsewhere every page is a 404.
"""

import hashlib
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from agents import tables
from agents.access import current_agent
from crm import rls
from crm.inputs import object_id
from whatsapp.configuration import WEBHOOK_PATH, agent_for_configuration
from whatsapp.models import WhatsAppConfiguration

from . import simulator
from .forms import CartForm, CartItemForm, CustomerForm, FailureForm, MessageForm

KNOWN_CUSTOMERS_SHOWN = 12


def sandbox_view(view):
    """404 unless the sandbox is on; then log-in required."""
    protected = login_required(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.WHATSAPP_SANDBOX:
            raise Http404("The sandbox is off.")
        # A person plays the customers of any shop here (a development page): every agent's rows.
        with rls.unrestricted():
            if request.user.is_authenticated:
                request.agent = current_agent(request)  # the header's navigation and shop badge, as elsewhere
            return protected(request, *args, **kwargs)

    return wrapper


def _configurations(user):
    """The numbers this user may play a customer of: their own; every active one for admins."""
    configurations = WhatsAppConfiguration.objects.routable().select_related("user").order_by("whatsapp_number")
    return configurations if user.is_staff else configurations.filter(user=user)


def _chosen(request, data):
    """The customer form, and (configuration, phone, name) when it is filled in right."""
    form = CustomerForm(data or None, configurations=_configurations(request.user))
    if not form.is_valid():
        return form, None
    return form, (form.cleaned_data["number"], form.cleaned_data["phone"], form.cleaned_data["name"])


def _chat_query(configuration, phone, name):
    return urlencode({"number": configuration.pk, "phone": phone, "name": name})


def _known_customers(configuration):
    agent = agent_for_configuration(configuration)
    if agent is None or not agent.table_version:
        return []
    Customer = tables.for_agent(agent).Customer
    return list(Customer.objects.order_by("-last_message_at", "-id")[:KNOWN_CUSTOMERS_SHOWN])


def _cart_key(configuration, phone):
    return f"sandbox_cart:{configuration.pk}:{phone}"


def _cart(request, configuration, phone):
    """The customer's cart for this shop, kept in the session as WhatsApp keeps it on the phone: {sku: quantity}."""
    cart = request.session.get(_cart_key(configuration, phone))
    return dict(cart) if isinstance(cart, dict) else {}


def _cart_lines(request, configuration, phone):
    cart = _cart(request, configuration, phone)
    if not cart:
        return []
    products = simulator.catalog(configuration)
    return [(products[sku], quantity) for sku, quantity in cart.items() if sku in products]


def _chat_context(request, configuration, phone, name):
    """Open the customer's chat: connect the number to this app's webhook, read what the phone shows."""
    simulator.connect_number(configuration, request.build_absolute_uri(WEBHOOK_PATH))
    chat = simulator.conversation(configuration, phone)
    simulator.mark_seen(configuration, phone)
    token = hashlib.blake2b(
        repr([(m.wamid, m.status, m.review_and_pay) for m in chat]).encode(), digest_size=10
    ).hexdigest()
    return {
        "cart_lines": _cart_lines(request, configuration, phone),
        "cart_form": CartForm(),
        "chat": chat,
        "chat_token": token,
        "chat_query": _chat_query(configuration, phone, name),
        "who": {"number": configuration.pk, "phone": phone, "name": name},
    }


@sandbox_view
def page(request):
    return _render_page(request, request.GET)


def _render_page(request, data, message_form=None):
    configurations = _configurations(request.user)
    form, chosen = _chosen(request, data if "phone" in data else None)
    if chosen:
        selected = chosen[0]
    else:
        number = object_id(str(data.get("number", "")))
        selected = configurations.filter(pk=number).first() if number else None
        selected = selected or configurations.first()
        form.initial["number"] = selected.pk if selected else None
    context = {
        "section": "sandbox",
        "form": form,
        "has_numbers": selected is not None,
        "chosen": chosen,
        "message_form": message_form or MessageForm(),
        "failure_form": FailureForm(),
        "known_customers": [
            (customer, _chat_query(selected, customer.phone, customer.name)) for customer in _known_customers(selected)
        ]
        if selected
        else [],
    }
    try:
        if chosen:
            context.update(_chat_context(request, *chosen))
        context["pending_failures"] = simulator.pending_failures()
    except simulator.SandboxError as error:
        context["error"] = str(error)
    return render(request, "sandbox/page.html", context)


@sandbox_view
def chat(request):
    """The chat alone, which the page polls: the customer keeps it open, so the shop's replies turn read."""
    _, chosen = _chosen(request, request.GET)
    if chosen is None:
        raise Http404("Choose a number and a customer first.")
    try:
        context = _chat_context(request, *chosen)
    except simulator.SandboxError as error:
        return HttpResponse(str(error), status=502, content_type="text/plain; charset=utf-8")
    if context["chat_token"] == request.GET.get("v"):
        return HttpResponse(status=204)  # nothing new: the page keeps what it shows (and a button being tapped)
    return render(request, "sandbox/_chat.html", context)


@sandbox_view
@require_POST
def send(request):
    form, chosen = _chosen(request, request.POST)
    message_form = MessageForm(request.POST, request.FILES)
    if chosen is None:
        messages.error(request, "Choose a business number and your phone number first.")
        return redirect("sandbox:page")
    if not message_form.is_valid():
        return _render_page(request, request.POST, message_form)  # the same chat again, with the errors
    configuration, phone, name = chosen
    try:
        simulator.connect_number(configuration, request.build_absolute_uri(WEBHOOK_PATH))
        simulator.send_as_customer(
            configuration, phone, name, text=message_form.cleaned_data["text"], image=message_form.cleaned_data["image"]
        )
    except simulator.SandboxError as error:
        messages.error(request, str(error))
    return redirect(reverse("sandbox:page") + "?" + _chat_query(configuration, phone, name))


@sandbox_view
@require_POST
def tap(request):
    """The customer taps one of the reply buttons under a message from the shop."""
    _, chosen = _chosen(request, request.POST)
    wamid, button_id = request.POST.get("wamid", ""), request.POST.get("button", "")
    if chosen is None or not wamid or not button_id:
        messages.error(request, "Choose a business number, your phone number and a button first.")
        return redirect("sandbox:page")
    configuration, phone, name = chosen
    try:
        simulator.connect_number(configuration, request.build_absolute_uri(WEBHOOK_PATH))
        simulator.tap_button(configuration, phone, wamid, button_id)
    except simulator.SandboxError as error:
        messages.error(request, str(error))
    return redirect(reverse("sandbox:page") + "?" + _chat_query(configuration, phone, name))


PAYMENT_OUTCOMES = ("success", "failed")


@sandbox_view
@require_POST
def pay(request):
    """The customer pays (or fails to pay) an order the shop sent to review and pay."""
    _, chosen = _chosen(request, request.POST)
    wamid, outcome = request.POST.get("wamid", ""), request.POST.get("outcome", "")
    if chosen is None or not wamid or outcome not in PAYMENT_OUTCOMES:
        messages.error(request, "Choose a business number, your phone number and Pay or Fail first.")
        return redirect("sandbox:page")
    configuration, phone, name = chosen
    try:
        simulator.connect_number(configuration, request.build_absolute_uri(WEBHOOK_PATH))
        simulator.pay(configuration, phone, wamid, outcome)
    except simulator.SandboxError as error:
        messages.error(request, str(error))
    return redirect(reverse("sandbox:page") + "?" + _chat_query(configuration, phone, name))


def _back_to_chat(chosen):
    """Back to the page, with the chat of `chosen` (configuration, phone, name) open when there is one."""
    return redirect(reverse("sandbox:page") + ("?" + _chat_query(*chosen) if chosen else ""))


@sandbox_view
@require_POST
def cart_add(request):
    """The customer adds a product of a product message to their cart (WhatsApp's Add to cart)."""
    _, chosen = _chosen(request, request.POST)
    form = CartItemForm(request.POST)
    if chosen is None or not form.is_valid():
        messages.error(request, "Choose a product and a quantity from 1 to 99.")
        return _back_to_chat(chosen)
    configuration, phone, name = chosen
    sku, quantity = form.cleaned_data["product"], form.cleaned_data["quantity"]
    try:
        product = simulator.catalog(configuration).get(sku)
    except simulator.SandboxError as error:
        messages.error(request, str(error))
        product = None
    if product is not None:
        cart = _cart(request, configuration, phone)
        cart[sku] = min(cart.get(sku, 0) + quantity, 99)
        request.session[_cart_key(configuration, phone)] = cart
        messages.success(request, f"{product.name} is in your cart ({cart[sku]}).")
    return _back_to_chat(chosen)


@sandbox_view
@require_POST
def cart_send(request):
    """The customer sends their cart to the shop, as Meta's `order` message; or empties it."""
    _, chosen = _chosen(request, request.POST)
    form = CartForm(request.POST)
    if chosen is None or not form.is_valid():
        messages.error(
            request, "Choose a business number and your phone number, and keep the note under 1,024 characters."
        )
        return _back_to_chat(chosen)
    configuration, phone, name = chosen
    cart = _cart(request, configuration, phone)
    back = _back_to_chat(chosen)
    if "empty" in request.POST or not cart:
        request.session.pop(_cart_key(configuration, phone), None)
        return back
    try:
        simulator.connect_number(configuration, request.build_absolute_uri(WEBHOOK_PATH))
        simulator.send_cart(configuration, phone, name, list(cart.items()), text=form.cleaned_data["note"])
    except simulator.SandboxError as error:
        messages.error(request, str(error))
        return back
    request.session.pop(_cart_key(configuration, phone), None)
    messages.success(request, "Your cart was sent to the shop.")
    return back


@sandbox_view
@require_POST
def failures(request):
    back = (
        reverse("sandbox:page")
        + "?"
        + urlencode({key: request.POST[key] for key in ("number", "phone", "name") if request.POST.get(key)})
    )
    try:
        if "clear" in request.POST:
            simulator.clear_failures()
            messages.success(request, "Meta answers normally again.")
            return redirect(back)
        form = FailureForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose what Meta answers and for how many messages (1 to 10).")
            return redirect(back)
        choice, count = form.cleaned_data["failure"], form.cleaned_data["messages"]
        simulator.make_sends_fail(choice, count)
    except simulator.SandboxError as error:
        messages.error(request, str(error))
        return redirect(back)
    label = simulator.FAILURE_CHOICES[choice].label
    noun = "message" if count == 1 else f"{count} messages"
    messages.success(request, f"The next {noun} the shop sends: {label}.")
    return redirect(back)


@sandbox_view
def media(request, media_id):
    try:
        content, mime_type = simulator.media(str(media_id))
    except simulator.SandboxError:
        raise Http404("No such media.") from None
    response = HttpResponse(content, content_type=mime_type)
    response["Content-Disposition"] = "inline"
    return response
