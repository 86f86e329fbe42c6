"""WhatsApp's formatting in bubbles: bold, italic, strike-through, monospace and links, never markup injected."""

import pytest
from django.urls import reverse

from agents.tests.factories import customer, message
from dashboard.rendering import whatsapp_markup


@pytest.mark.parametrize(
    "text, html",
    [
        ("*bold*", "<strong>bold</strong>"),
        ("_italic_ and ~gone~", "<em>italic</em> and <s>gone</s>"),
        ("```x = *y*```", "<code>x = *y*</code>"),
        ("*_both_*", "<strong><em>both</em></strong>"),
        ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
        ("* not bold *", "* not bold *"),
        ("line one\nline two", "line one<br>line two"),
        (
            "see https://shop.example/a?b=1&c=2.",
            'see <a href="https://shop.example/a?b=1&amp;c=2" target="_blank" rel="noopener nofollow">'
            "https://shop.example/a?b=1&amp;c=2</a>.",
        ),
    ],
)
def test_whatsapp_formatting_becomes_html(text, html):
    assert whatsapp_markup(text) == html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "*<img src=x onerror=alert(1)>*",
        "_<b>_",
        "```</code><script>alert(1)</script>```",
        'https://x.example/"onmouseover="alert(1)',
        "https://x.example/<script>",
        "javascript:alert(1)",
        "*a* <a href='javascript:alert(1)'>x</a>",
        "~&lt;script&gt;~",
    ],
)
def test_no_text_becomes_markup_of_its_own(hostile):
    html = whatsapp_markup(hostile)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert 'href="javascript' not in html and 'onmouseover="' not in html
    for tag in ("<strong>", "<em>", "<s>", "<code>", "<a href=", "<br>"):
        html = html.replace(tag, "")
    for tag in ("</strong>", "</em>", "</s>", "</code>", "</a>"):
        html = html.replace(tag, "")
    assert "<" not in html.replace('target="_blank" rel="noopener nofollow">', "")


def test_a_customers_formatted_message_shows_formatted_in_the_thread(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    message(t, ana, "Is the *blue* one in stock? <b>now</b> https://shop.example/blue")
    page = seller.client.get(reverse("conversation", args=[ana.pk])).content.decode()
    assert "Is the <strong>blue</strong> one in stock? &lt;b&gt;now&lt;/b&gt;" in page
    assert '<a href="https://shop.example/blue" target="_blank" rel="noopener nofollow">' in page
