"""Automatic replies: a greeting on a customer's first message ever, and the away message outside the shop's
business hours (its time zone, weekdays and holidays).

Each goes at most once per customer per `auto_reply_hours`, only in answer to a message that has just
arrived (never to a backlog, never into a closed 24-hour window), and once per message whatever Meta
re-delivers: the intake calls this for new messages only, and the reply's idempotency key is the message's.
An automatic message's idempotency key starts with AUTOMATIC, which the thread shows as "Automatic reply".
"""

import datetime as dt
import logging
import re
import zoneinfo

from django.conf import settings
from django.utils import timezone

from agents import tables
from agents.customers import first_name
from agents.shop import shop_of, zone_named
from whatsapp.send import AUTOMATIC, SendError, send_text

from . import consent

logger = logging.getLogger(__name__)

# Message kinds a customer writes (reactions, system notices and what WhatsApp could not show are no message
# to greet or answer).
MESSAGE_TYPES = (
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "order",
)
# An answer to a message older than this would arrive out of the blue: the intake is catching up.
FRESH = dt.timedelta(minutes=30)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_RANGE = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])\s*[-–]\s*([01]?[0-9]|2[0-4]):([0-5][0-9])$")


class HoursError(ValueError):
    pass


def parse_day(text):
    """[["09:00", "13:00"], ...] of a day written as "9:00-13:00, 14:00-18:00"; [] for "" or "closed"."""
    text = (text or "").strip()
    if not text or text.casefold() == "closed":
        return []
    ranges = []
    for part in text.split(","):
        match = _RANGE.match(part.strip())
        if not match:
            raise HoursError(f"“{part.strip()[:30]}” is not hours like 09:00-18:00.")
        start = f"{int(match[1]):02d}:{match[2]}"
        end = f"{int(match[3]):02d}:{match[4]}"
        if end <= start:
            raise HoursError(f"{start}-{end} ends before it starts.")
        ranges.append([start, end])
    return sorted(ranges)


def day_text(ranges):
    return ", ".join(f"{start}-{end}" for start, end in ranges) if ranges else "closed"


def shop_zone(agent):
    return zone_named(shop_of(agent).time_zone) or zoneinfo.ZoneInfo(settings.TIME_ZONE)


def is_open(opening_hours, holidays, moment, zone):
    """Whether the shop is open at `moment` (aware), by its hours in `zone`: always, when it set none."""
    if not opening_hours:
        return True
    local = moment.astimezone(zone)
    if local.date().isoformat() in set(holidays or ()):
        return False
    clock = local.strftime("%H:%M")
    return any(start <= clock < end for start, end in opening_hours.get(str(local.weekday()), []))


def act_on_stored_message(agent, message):
    """The intake's handler (whatsapp.hooks): greet a customer's first message, or answer one that arrives
    while the shop is closed."""
    if message.direction != "inbound":
        return None
    now = timezone.now()
    if message.timestamp is None or message.timestamp < now - FRESH:
        return None
    shop = consent.settings_read_once(agent)
    if not (shop.greeting_enabled or shop.away_enabled):
        return None
    agent_tables = tables.for_agent(agent)
    Message = agent_tables.Message
    customer = agent_tables.Customer.objects.get(pk=message.customer_id)
    if (
        shop.greeting_enabled
        and not Message.objects.filter(customer=customer, direction="inbound").exclude(pk=message.pk).exists()
    ):
        kind, text = "greeting", shop.greeting_message
    elif shop.away_enabled and not is_open(shop.opening_hours, shop.holidays, now, shop_zone(agent)):
        kind, text = "away", shop.away_message
    else:
        return None
    since = now - dt.timedelta(hours=shop.auto_reply_hours)
    if Message.objects.filter(
        customer=customer, idempotency_key__startswith=f"{AUTOMATIC}{kind}:", timestamp__gte=since
    ).exists():
        return None
    text = text.replace("{first_name}", first_name(customer)).replace("{shop}", agent.name or "us")
    try:
        send_text(agent, customer, text, sent_by=None, idempotency_key=f"{AUTOMATIC}{kind}:{message.wamid}")
    except SendError as error:
        logger.warning("the %s reply to %s was not sent: %s", kind, message.wamid, error)
    return None
