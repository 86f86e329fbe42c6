"""Quick replies: an agent's saved snippets, inserted into the composer by typing "/" and a shortcut."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404

from .models import QuickReply


def quick_replies_of(agent):
    return QuickReply.objects.filter(agent=agent).order_by("shortcut")


def get_quick_reply_or_404(agent, quick_reply_id):
    return get_object_or_404(QuickReply, pk=quick_reply_id, agent=agent)


def save_quick_reply(agent, *, shortcut, text, quick_reply=None):
    """Create (or, given `quick_reply`, change) a quick reply; ValidationError when the shortcut is taken."""
    quick_reply = quick_reply or QuickReply(agent=agent)
    quick_reply.shortcut = shortcut
    quick_reply.text = text
    try:
        with transaction.atomic():
            quick_reply.save()
    except IntegrityError:
        raise ValidationError({"shortcut": "You already have a quick reply with this shortcut."}) from None
    return quick_reply


def delete_quick_reply(quick_reply):
    quick_reply.delete()
