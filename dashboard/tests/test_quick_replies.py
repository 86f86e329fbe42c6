"""Quick replies: managed on their page, offered to the composer of every conversation."""

import json
import re

from django.urls import reverse

from agents.models import QuickReply
from agents.tests.factories import customer


def test_adding_editing_and_deleting_quick_replies(seller):
    response = seller.client.post(reverse("quick_replies"), {"shortcut": "Hours", "text": "Open 9-18, Mon-Sat."})
    assert response.status_code == 302
    saved = QuickReply.objects.get(agent=seller.agent)
    assert (saved.shortcut, saved.text) == ("hours", "Open 9-18, Mon-Sat.")
    assert "/hours" in seller.client.get(reverse("quick_replies")).content.decode()

    seller.client.post(reverse("quick_reply_edit", args=[saved.pk]), {"shortcut": "hours", "text": "Open 9-20."})
    saved.refresh_from_db()
    assert saved.text == "Open 9-20."

    seller.client.post(reverse("quick_reply_delete", args=[saved.pk]))
    assert not QuickReply.objects.exists()


def test_a_shortcut_is_unique_per_agent_and_must_be_a_word(seller, seller_b):
    seller.client.post(reverse("quick_replies"), {"shortcut": "hours", "text": "A"})
    taken = seller.client.post(reverse("quick_replies"), {"shortcut": "hours", "text": "B"})
    assert taken.status_code == 400 and "already have a quick reply with this shortcut" in taken.content.decode()
    bad = seller.client.post(reverse("quick_replies"), {"shortcut": "two words", "text": "B"})
    assert bad.status_code == 400
    empty = seller.client.post(reverse("quick_replies"), {"shortcut": "x", "text": ""})
    assert empty.status_code == 400
    # Another agent may use the same shortcut.
    assert seller_b.client.post(reverse("quick_replies"), {"shortcut": "hours", "text": "C"}).status_code == 302
    assert QuickReply.objects.filter(shortcut="hours").count() == 2

    second = QuickReply.objects.create(agent=seller.agent, shortcut="pay", text="IBAN ...")
    clash = seller.client.post(reverse("quick_reply_edit", args=[second.pk]), {"shortcut": "hours", "text": "x"})
    assert clash.status_code == 400


def test_the_conversation_page_hands_quick_replies_to_the_composer(seller):
    QuickReply.objects.create(agent=seller.agent, shortcut="hours", text="Hi {name}, we open at 9.")
    ana = customer(seller.tables, "Ana Lima")
    body = seller.client.get(reverse("conversation", args=[ana.pk])).content.decode()
    data = json.loads(re.search(r'<script id="quick-replies" type="application/json">(.*?)</script>', body).group(1))
    assert data == [{"shortcut": "hours", "text": "Hi {name}, we open at 9."}]


def test_an_empty_list_explains_quick_replies(seller):
    assert "No quick replies yet." in seller.client.get(reverse("quick_replies")).content.decode()
