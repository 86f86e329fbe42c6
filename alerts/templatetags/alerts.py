from django import template
from django.conf import settings
from django.templatetags.static import static

register = template.Library()

# The favicon with a badge of 1 to 9 unread conversations, then "9+" (static/img/favicon-unread-*.svg).
BADGES = [*(str(n) for n in range(1, 10)), "many"]


@register.simple_tag
def favicon_badges():
    """The badged favicons' URLs, space separated, for alerts.js: index n-1 shows n unread conversations."""
    return " ".join(static(f"img/favicon-unread-{badge}.svg") for badge in BADGES)


@register.simple_tag
def live_poll_milliseconds(hidden=False):
    """How often an open page asks alerts.live what changed, visible or hidden (the settings say)."""
    return settings.LIVE_POLL_HIDDEN_MILLISECONDS if hidden else settings.LIVE_POLL_MILLISECONDS
