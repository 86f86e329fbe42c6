"""What whatsapp forgets when the shop erases a customer (agents.customer_data.erase_customer): the raw webhook
events that name the customer's number or user id on the shop's numbers, and the media downloads of their
messages."""

from django.db.models import Q

from crm import rls

from .models import MediaDownload, WebhookEvent, WhatsAppConfiguration


def forget_customer(agent, customer, message_ids, **kwargs):
    downloads, _ = MediaDownload.objects.filter(agent=agent, message_id__in=message_ids).delete()
    numbers = WhatsAppConfiguration.objects.filter(Q(agent=agent) | Q(agent__isnull=True, user_id=agent.user_id))
    phone_number_ids = [number for number in numbers.values_list("phone_number_id", flat=True) if number]
    # Meta names the customer as "wa_id" / "from" (the number's digits) or "user_id": quoted, so that
    # one number is never found inside a longer one.
    names = [f'"{value}"' for value in (customer.phone.lstrip("+"), customer.wa_user_id) if value]
    events = WebhookEvent.objects.filter(phone_number_id__in=phone_number_ids)
    match = Q()
    for name in names:
        match |= Q(body__contains=name)
    # Unrestricted: events on the shop's numbers that were never routed to it (unroutable, or not processed
    # yet) name the customer as well; the filter above keeps to the shop's own numbers.
    with rls.unrestricted():
        erased_events = events.filter(match).delete()[0] if names and phone_number_ids else 0
    return {"webhook_events": erased_events, "media_downloads": downloads}
