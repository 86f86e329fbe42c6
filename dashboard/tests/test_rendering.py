"""Payloads come from outside: whatever shape they have, a message still reads as something."""

from types import SimpleNamespace

from django.template.loader import render_to_string
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import rendering
from dashboard.threads import Bubble

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)
TYPES = [
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "order",
    "reaction",
    "interactive",
    "button",
    "template",
    "system",
    "unsupported",
    "brand_new_type",
    None,
]


def row(**fields):
    defaults = {
        "pk": 1,
        "message": "stored text",
        "direction": "inbound",
        "media_type": "none",
        "media_url": None,
        "caption": None,
        "media_mime_type": None,
        "wa_type": None,
        "payload": None,
        "wamid": None,
        "context_wamid": None,
        "status": None,
        "error_code": None,
        "error_title": None,
        "error_detail": None,
        "timestamp": None,
    }
    defaults.update(fields)
    return SimpleNamespace(**defaults)


@settings(max_examples=300, deadline=None)
@given(wa_type=st.sampled_from(TYPES), body=json_values, extra=json_values)
def test_any_payload_describes_and_renders_without_error(wa_type, body, extra):
    payload = {"type": wa_type, wa_type or "x": body, "errors": extra}
    message = row(wa_type=wa_type, payload=payload, direction="outbound", status="failed")
    described = rendering.describe(message)
    assert isinstance(described.preview(), str)
    render_to_string(
        "agents/_bubbles.html",
        {
            "bubbles": [Bubble(message=message, described=described)],
            "customer": SimpleNamespace(name="Ana", pk=1),
        },
    )


def test_rows_without_payload_fall_back_to_the_contract_columns():
    assert rendering.describe(row(message="plain")).text == "plain"
    image = rendering.describe(row(message="nice view", media_type="image", media_url="/media/x.jpg"))
    assert (image.kind, image.text, image.media.available) == ("image", "nice view", True)
    assert rendering.describe(row(wa_type="brand_new_type", message="[brand_new_type]")).detail == "brand_new_type"


def test_only_web_and_local_urls_are_followed():
    assert rendering.safe_url("https://x.example/a.jpg") == "https://x.example/a.jpg"
    assert rendering.safe_url("/media/a.jpg") == "/media/a.jpg"
    for bad in ("javascript:alert(1)", "//evil.example/x", "data:text/html,x", "media/a.jpg", "", None, 5):
        assert rendering.safe_url(bad) is None


def test_a_location_out_of_range_is_not_a_map_link():
    described = rendering.describe(
        row(wa_type="location", message="somewhere", payload={"location": {"latitude": 123, "longitude": 0}})
    )
    assert described.location is None and described.text == "somewhere"


def test_long_previews_are_cut():
    assert rendering.describe(row(message="x" * 500)).preview(limit=20) == "x" * 19 + "…"
