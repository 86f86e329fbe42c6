"""Small things a new user tripped over: the quick reply shortcut's rule in words, an order without notes,
the sandbox in the navigation with the shop's badge."""

import pytest
from django.urls import reverse

from orders import placing
from orders.placing import LineItem


@pytest.mark.parametrize("shortcut", ["opening hours", "hours!", "a/b"])
def test_a_quick_reply_shortcut_that_is_not_one_word_is_explained_in_words(seller, shortcut):
    response = seller.client.post(reverse("quick_replies"), {"shortcut": shortcut, "text": "We open at 9"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "letters, digits, - and _ only: no spaces" in page
    assert "slug" not in page.lower()


def test_an_order_without_notes_shows_nothing_for_them(seller, maria):
    from decimal import Decimal

    order = placing.create_order(seller.agent, maria, [LineItem("Mug", 1, Decimal("8"))], actor=seller.user)
    page = seller.client.get(reverse("order_detail", args=[order.pk])).content.decode()
    notes = page[page.index("<dt>Notes</dt>") :][:200]
    assert "None" not in notes
    edit = seller.client.get(reverse("order_edit", args=[order.pk])).content.decode()
    assert 'name="notes" rows="2" maxlength="2000" aria-describedby="order-notes-help"></textarea>' in edit


def test_the_sandbox_is_highlighted_in_the_navigation_and_the_shop_badge_stays(seller, settings):
    settings.WHATSAPP_SANDBOX = True
    page = seller.client.get(reverse("sandbox:page")).content.decode()
    assert f'<a href="{reverse("sandbox:page")}" aria-current="page">Customer sandbox</a>' in page
    assert '<span class="current-agent" title="Current agent">Shop A</span>' in page
    assert 'aria-current="page">Inbox<' not in page
