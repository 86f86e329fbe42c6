"""The order summary with the way to pay the seller chose: orders.notify writes and sends the summary,
this adds the lines that say how to pay."""

from agents.shop import shop_of
from orders import notify

from .ways import payment_lines, settings_of, way_for


def send_order_summary(agent, order, *, way="", sent_by, idempotency_key):
    """Send `order`'s summary (orders.notify.send_order_summary) saying how to pay it: `way` when it is on,
    else the shop's default way. Raises what that raises, and ways.CheckoutError for a link that cannot be
    made."""
    settings = settings_of(agent)
    currency = order.currency or shop_of(agent).currency
    lines = payment_lines(settings, way_for(settings, way), order=order, currency=currency)
    return notify.send_order_summary(
        agent, order, sent_by=sent_by, idempotency_key=idempotency_key, payment_lines=lines
    )
