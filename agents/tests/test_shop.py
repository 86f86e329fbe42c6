"""The shop: one formatter for amounts and dates (Babel, in the shop's currency and locale), and the checks
on what a seller may choose."""

import datetime as dt
import re
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from agents import shop
from agents.models import Shop
from audit.models import AuditEvent

NBSP = "\xa0"


def a_shop(currency, locale, time_zone=""):
    return Shop(currency=currency, locale=locale, time_zone=time_zone)


@pytest.mark.parametrize(
    "currency, locale, written",
    [
        ("EUR", "de_DE", f"1.234,50{NBSP}€"),
        ("USD", "en_US", "$1,234.50"),
        ("JPY", "ja_JP", "￥1,234"),  # no minor unit: Babel rounds to the yen (half to even)
        ("BRL", "pt_BR", f"R${NBSP}1.234,50"),
    ],
)
def test_amounts_are_written_in_the_shops_currency_and_locale(currency, locale, written):
    assert shop.format_money(Decimal("1234.5"), a_shop(currency, locale)) == written


def test_an_amount_in_another_currency_keeps_its_own_and_the_shops_locale():
    assert shop.format_money("90", a_shop("EUR", "de_DE"), "USD") == f"90,00{NBSP}$"
    assert shop.format_money("not a number", a_shop("EUR", "de_DE")) == ""
    assert shop.format_number("1234.5", a_shop("EUR", "de_DE")) == "1.234,50"


def test_dates_are_written_in_the_shops_locale_and_the_current_time_zone():
    from django.utils import timezone

    moment = dt.datetime(2026, 12, 7, 13, 5, tzinfo=dt.UTC)
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        assert shop.format_datetime(moment, a_shop("EUR", "de_DE")) == "07.12.2026, 14:05"
        assert shop.format_date(moment, a_shop("EUR", "de_DE"), "long") == "7. Dezember 2026"
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        assert shop.format_datetime(moment, a_shop("USD", "en_US")) == "Dec 7, 2026, 8:05\u202fAM"


def test_a_shop_without_settings_has_the_defaults(agent_a, settings):
    assert (shop.shop_of(agent_a).currency, shop.shop_of(agent_a).locale) == ("USD", "en_US")
    assert not Shop.objects.filter(agent=agent_a).exists()


def test_saving_the_shop_checks_each_value_and_records_the_change(agent_a):
    saved = shop.save_shop(
        agent_a, name="  Lisbon   Linen ", currency="eur", locale="de-DE", time_zone="Europe/Berlin", actor=None
    )
    agent_a.refresh_from_db()
    assert agent_a.name == "Lisbon Linen" and str(agent_a) == "Lisbon Linen"
    assert (saved.currency, saved.locale, saved.time_zone) == ("EUR", "de_DE", "Europe/Berlin")
    event = AuditEvent.objects.get(action="shop.changed")
    assert event.details["changed"]["currency"] == ["USD", "EUR"]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("currency", "ABC", "Choose a currency from the list"),
        ("currency", "", "Choose a currency from the list"),
        ("locale", "zz_QQ", "Choose a language and country"),
        ("time_zone", "Mars/Olympus_Mons", "Choose a time zone"),
        ("name", "x" * 121, "at most 120 characters (this one has 121)"),
        ("name", "   ", "Enter the shop's name"),
    ],
)
def test_a_value_the_shop_cannot_have_is_refused_with_a_sentence(agent_a, field, value, message):
    values = {"name": "Lisbon Linen", "currency": "EUR", "locale": "de_DE", "time_zone": ""}
    values[field] = value
    with pytest.raises(ValidationError, match=re.escape(message)):
        shop.save_shop(agent_a, **values, actor=None)
    assert not Shop.objects.filter(agent=agent_a).exists()


def test_every_currency_offered_is_one_babel_writes():
    codes = [code for code, _ in shop.currency_choices()]
    assert "EUR" in codes and "USD" in codes and len(codes) > 150
    assert dict(shop.currency_choices())["EUR"] == "EUR – Euro"
    assert ("de_DE", "German (Germany)") in shop.locale_choices()
