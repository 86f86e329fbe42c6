"""Meta's payments in WhatsApp: an order sent as an `order_details` message the customer reviews and pays
("Review and pay"), and its later statuses as `order_status` messages, in Meta's published shapes
(documentation/whatsapp/payments/payments-in/pg: Step 1, Step 6)."""

from decimal import Decimal

from django.db import transaction

from agents import tables
from agents.shop import shop_of
from orders import notify
from orders.history import record_event
from payments import ledger
from whatsapp import send

from .models import PaymentRequest
from .ways import CheckoutError, settings_of

OFFSET = 100  # Meta's amounts are integers of the currency's smallest unit: value / offset
PAYABLE_STATUSES = ("pending", "confirmed", "processing")
# The order_status Meta knows for each of our statuses (pending is the order_details' own; a refund has none).
META_ORDER_STATUSES = {
    "confirmed": "processing",
    "processing": "processing",
    "shipped": "shipped",
    "delivered": "completed",
    "cancelled": "canceled",
}
MAX_ITEMS = 999


def amount_object(amount):
    """Meta's {value, offset} of an amount: 12.34 is {"value": 1234, "offset": 100}."""
    return {"value": int(Decimal(amount) * OFFSET), "offset": OFFSET}


def order_details_parameters(order, items, settings, reference_id, currency):
    """The `parameters` of a `review_and_pay` action for `order` and its items, checked to add up as Meta
    requires (total = subtotal + tax + shipping − discount; subtotal = the items' amounts x quantities)."""
    goods = [item for item in items if item.kind != "fee"]
    fees = [item for item in items if item.kind == "fee"]
    lines = []
    for item in goods[:MAX_ITEMS]:
        line = {"name": item.name[:60], "amount": amount_object(item.price), "quantity": item.quantity}
        if item.product_retailer_id:
            line = {"retailer_id": item.product_retailer_id, **line}
        lines.append(line)
    subtotal = sum(line["amount"]["value"] * line["quantity"] for line in lines)
    shipping = sum(amount_object(fee.total or 0)["value"] for fee in fees)
    discount = amount_object(order.discount_amount or 0)["value"]
    total = amount_object(order.total_amount)["value"]
    if len(goods) > MAX_ITEMS or subtotal + shipping - discount != total or total <= 0:
        raise CheckoutError("This order's items do not add up to its total, so WhatsApp cannot ask for it.")
    details = {"status": "pending", "items": lines, "subtotal": {"value": subtotal, "offset": OFFSET}}
    details["tax"] = {"value": 0, "offset": OFFSET}
    if shipping:
        details["shipping"] = {"value": shipping, "offset": OFFSET, "description": ", ".join(f.name for f in fees)[:60]}
    if discount:
        details["discount"] = {"value": discount, "offset": OFFSET}
    return {
        "reference_id": reference_id,
        "type": settings.goods_type,
        "payment_settings": [
            {
                "type": "payment_gateway",
                "payment_gateway": {"type": settings.meta_gateway, "configuration_name": settings.meta_configuration},
            }
        ],
        "currency": currency,
        "total_amount": {"value": total, "offset": OFFSET},
        "order": details,
    }


def reference_for(agent, order, n):
    """The reference_id of the order's n-th request. Meta wants it unique per business (a number may move to
    another agent of its owner): it names the agent as well as the order. At most 35 characters."""
    return f"a{agent.pk}-o{order.pk}-{n}"


def can_request_payment(agent, order):
    """Whether the order page offers "Send to review and pay": the shop set Meta payments up and the open
    order has had no payment (an order_details message asks for the whole total)."""
    return (
        bool(settings_of(agent).meta_configuration)
        and order.paid_at is None
        and order.status in PAYABLE_STATUSES
        and not ledger.balance(agent, order).paid
    )


def send_for_payment(agent, order, *, sent_by, idempotency_key):
    """Send the customer `order` as an `order_details` message to review and pay in WhatsApp, and keep its
    reference_id (PaymentRequest) to know Meta's payment notifications for it.

    Raises CheckoutError (no Meta payments set up, paid, closed, not adding up) or send.SendError.
    """
    settings = settings_of(agent)
    if not settings.meta_configuration:
        raise CheckoutError("Name your Meta payment configuration first (Orders → Ways to pay).")
    if order.paid_at is not None or order.status not in PAYABLE_STATUSES:
        raise CheckoutError(f"This order is {'paid' if order.paid_at else order.status}: there is nothing to pay.")
    if ledger.balance(agent, order).paid:
        raise CheckoutError(
            "Part of this order is paid already, and review and pay asks for the whole total: "
            "send the payment link, or record the rest when it comes."
        )
    agent_tables, shop = tables.for_agent(agent), shop_of(agent)
    items = list(agent_tables.OrderItem.objects.filter(order=order).order_by("id"))
    currency = order.currency or shop.currency
    body = notify.summary_text(order, order.customer, items, shop).rsplit("\n", 1)[0]
    with transaction.atomic(), transaction.atomic(using=agent_tables.database):
        # Locked: two requests sent at once for one order count the same requests before them otherwise.
        agent_tables.Order.objects.select_for_update().get(pk=order.pk)
        sent_before = PaymentRequest.objects.filter(agent=agent, order_id=order.pk).count()
        reference_id = reference_for(agent, order, sent_before + 1)
        parameters = order_details_parameters(order, items, settings, reference_id, currency)
        message = send.send_order_details(
            agent, order.customer, body, parameters, sent_by=sent_by, idempotency_key=idempotency_key
        )
        if not PaymentRequest.objects.filter(agent=agent, message_id=message.pk).exists():
            PaymentRequest.objects.create(
                agent=agent,
                order_id=order.pk,
                reference_id=reference_id,
                amount=order.total_amount,
                currency=currency,
                configuration=settings.meta_configuration,
                message_id=message.pk,
            )
            record_event(
                agent_tables,
                order,
                order.status,
                order.status,
                actor=sent_by,
                kind="payment_requested",
                note=f"Sent to review and pay in WhatsApp (reference {reference_id}).",
                message_id=message.pk,
            )
    return message


def notify_status_change(agent, order, event, *, sent_by):
    """Tell the customer about a status change: as an `order_status` message when the order was sent to
    review and pay (Meta shows the order's status from these alone), else as orders.notify does."""
    request = PaymentRequest.objects.filter(agent=agent, order_id=order.pk).order_by("-id").first()
    meta_status = META_ORDER_STATUSES.get(order.status)
    if order.status == "cancelled" and order.paid_at is not None:
        meta_status = None  # Meta refuses to cancel a paid order (error 2047): the customer gets a text
    agent_tables = tables.for_agent(agent)
    if request is None or meta_status is None or not send.window(agent_tables, order.customer).is_open:
        return notify.notify_status_change(agent, order, event, sent_by=sent_by)
    shop = shop_of(agent)
    parameters = {"reference_id": request.reference_id, "order": {"status": meta_status}}
    try:
        message = send.send_order_status(
            agent,
            order.customer,
            notify.status_text(order, order.customer, shop),
            parameters,
            sent_by=sent_by,
            idempotency_key=f"order-{order.pk}-event-{event.pk}",
        )
    except send.SendError as error:
        event.note = f"{event.note} Customer not told: {error}".strip()
        event.save(update_fields=["note"])
        return f"Customer not told: {error}"
    event.message_id = message.pk
    event.save(update_fields=["message_id"])
    return "The customer is being told on WhatsApp."
