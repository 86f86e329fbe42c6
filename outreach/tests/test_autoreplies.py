"""Business hours and automatic replies: open or closed in the shop's time zone (across a change of the clocks),
the greeting on a first message, the away message once per period, never twice for a re-delivered webhook,
never late, and shown as automatic in the thread."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.models import Shop
from crm.tests.fixtures import MARIA_WA_ID, PHONE_NUMBER_ID
from outreach import autoreplies
from outreach.models import OutreachSettings
from whatsapp.tests.payloads import text

LISBON = zoneinfo.ZoneInfo("Europe/Lisbon")
WEEKDAYS_9_TO_6 = {str(day): [["09:00", "18:00"]] for day in range(7)}


def at(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_open_and_closed_follow_the_shops_clock_across_the_change_to_summer_time():
    # Lisbon moves from UTC+0 to UTC+1 at 01:00 UTC on Sunday 29 March 2026.
    assert not autoreplies.is_open(WEEKDAYS_9_TO_6, [], at("2026-03-28T08:30"), LISBON)  # 08:30 in Lisbon
    assert autoreplies.is_open(WEEKDAYS_9_TO_6, [], at("2026-03-29T08:30"), LISBON)  # 09:30 in Lisbon
    assert autoreplies.is_open(WEEKDAYS_9_TO_6, [], at("2026-03-28T17:30"), LISBON)  # 17:30
    assert not autoreplies.is_open(WEEKDAYS_9_TO_6, [], at("2026-03-29T17:30"), LISBON)  # 18:30
    # And back to UTC+0 at 01:00 UTC on Sunday 25 October 2026.
    assert autoreplies.is_open(WEEKDAYS_9_TO_6, [], at("2026-10-25T17:30"), LISBON)  # 17:30


def test_weekdays_holidays_and_no_hours_at_all():
    weekdays = {str(day): [["09:00", "13:00"], ["14:00", "18:00"]] for day in range(5)}
    assert autoreplies.is_open(weekdays, [], at("2026-12-07T10:00"), LISBON)  # a Monday
    assert not autoreplies.is_open(weekdays, [], at("2026-12-07T13:30"), LISBON)  # lunch
    assert not autoreplies.is_open(weekdays, [], at("2026-12-06T10:00"), LISBON)  # a Sunday
    assert not autoreplies.is_open(weekdays, ["2026-12-08"], at("2026-12-08T10:00"), LISBON)  # a holiday
    assert autoreplies.is_open({}, [], at("2026-12-06T03:00"), LISBON)  # no hours given: always open


@pytest.mark.parametrize(
    ("written", "expected"),
    [("", []), ("closed", []), ("9:00-13:00, 14:00 - 18:30", [["09:00", "13:00"], ["14:00", "18:30"]])],
)
def test_a_day_is_written_as_ranges(written, expected):
    assert autoreplies.parse_day(written) == expected


@pytest.mark.parametrize(("written", "error"), [("9-5", "is not hours"), ("18:00-09:00", "ends before it starts")])
def test_a_day_that_is_no_hours_says_why(written, error):
    with pytest.raises(autoreplies.HoursError, match=error):
        autoreplies.parse_day(written)


@pytest.fixture
def closed_shop(connected_shop):
    """Agent A, in Lisbon, greeting first-time customers and answering while closed: open only three days
    from today, so closed now."""
    Shop.objects.create(agent=connected_shop.agent, currency="EUR", locale="pt_PT", time_zone="Europe/Lisbon")
    today = timezone.now().astimezone(LISBON).weekday()
    OutreachSettings.objects.create(
        agent=connected_shop.agent,
        opening_hours={str((today + 3) % 7): [["09:00", "18:00"]]},
        away_enabled=True,
        greeting_enabled=True,
    )
    return connected_shop


def written_now(body, wamid, ago=dt.timedelta(0)):
    return text(body, from_=MARIA_WA_ID, wamid=wamid, timestamp=str(int((timezone.now() - ago).timestamp())))


def replies(fake_graph):
    return [sent["text"]["body"] for sent in fake_graph.sent_messages(PHONE_NUMBER_ID) if sent["type"] == "text"]


def test_a_first_message_is_greeted_and_a_later_one_while_closed_gets_the_away_message_once(
    closed_shop, fake_graph, deliver_from_maria
):
    deliver_from_maria(written_now("Hello!", "wamid.FIRST"))
    assert replies(fake_graph) == ["Hi Maria, thanks for writing to Shop A! We will answer you shortly."]

    deliver_from_maria(written_now("Are you there?", "wamid.SECOND"))
    deliver_from_maria(written_now("Hello??", "wamid.THIRD"))
    deliver_from_maria(written_now("Are you there?", "wamid.SECOND"))  # Meta re-delivers

    assert replies(fake_graph)[1:] == [OutreachSettings._meta.get_field("away_message").default]


def test_the_away_message_goes_again_once_the_period_is_over(closed_shop, fake_graph, deliver_from_maria):
    deliver_from_maria(written_now("Hello!", "wamid.1"))
    deliver_from_maria(written_now("Anyone?", "wamid.2"))
    Message = closed_shop.tables.Message
    Message.objects.filter(direction="outbound").update(timestamp=timezone.now() - dt.timedelta(hours=25))

    deliver_from_maria(written_now("Still closed?", "wamid.3"))

    assert len(replies(fake_graph)) == 3


def test_an_old_message_the_intake_catches_up_on_gets_no_reply(closed_shop, fake_graph, deliver_from_maria):
    deliver_from_maria(written_now("Hello!", "wamid.OLD", ago=dt.timedelta(hours=1)))
    assert replies(fake_graph) == []


def test_an_open_shop_greets_but_sends_no_away_message(connected_shop, fake_graph, deliver_from_maria):
    OutreachSettings.objects.create(agent=connected_shop.agent, away_enabled=True, greeting_enabled=False)
    deliver_from_maria(written_now("Hello!", "wamid.OPEN"))
    assert replies(fake_graph) == []


def test_an_automatic_reply_says_so_in_the_thread(closed_shop, fake_graph, deliver_from_maria):
    deliver_from_maria(written_now("Hello!", "wamid.FIRST"))
    customer = closed_shop.tables.Customer.objects.get()
    page = closed_shop.client.get(reverse("conversation", args=[customer.pk])).content.decode()
    assert 'aria-label="Automatic reply, ' in page


def test_the_seller_sets_hours_holidays_and_replies(connected_shop):
    client = connected_shop.client
    url = reverse("business_hours")
    assert "Monday" in client.get(url).content.decode()
    form = {f"hours_{day}": "09:00-18:00" for day in range(5)} | {
        "hours_5": "closed",
        "hours_6": "",
        "holidays_text": "2026-12-25\n2026-12-24",
        "away_enabled": "on",
        "away_message": "Closed now, back at 9.",
        "greeting_message": "Hi!",
        "auto_reply_hours": "12",
        "cart_reminder_enabled": "on",
        "cart_reminder_hours": "4",
        "cart_reminder_text": "Your cart is waiting.",
    }
    assert client.post(url, form).status_code == 302
    saved = OutreachSettings.objects.get(agent=connected_shop.agent)
    assert saved.opening_hours == {str(day): [["09:00", "18:00"]] for day in range(5)}
    assert saved.holidays == ["2026-12-24", "2026-12-25"] and saved.away_enabled and not saved.greeting_enabled
    assert "09:00-18:00" in client.get(url).content.decode()

    bad = form | {"hours_2": "9 to 5", "holidays_text": "Christmas", "auto_reply_hours": "0"}
    page = client.post(url, bad).content.decode()
    assert "“9 to 5” is not hours like 09:00-18:00." in page
    assert "“Christmas” is not a day like 2026-12-25." in page and "Between 1 and 720 hours" in page
    no_hours = {**{f"hours_{day}": "" for day in range(7)}, **{k: v for k, v in form.items() if "hours_" not in k}}
    page = client.post(url, no_hours | {"auto_reply_hours": "12"}).content.decode()
    assert "Give the hours the shop is open" in page
    assert OutreachSettings.objects.get(agent=connected_shop.agent).auto_reply_hours == 12
