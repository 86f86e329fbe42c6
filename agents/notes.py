"""Private notes on a customer: what the people working the inbox tell each other; never sent to WhatsApp."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404

from .models import CustomerNote

MAX_NOTE_LENGTH = 4000


def notes_on(agent, customer):
    """The notes on `customer`, oldest first."""
    return CustomerNote.objects.filter(agent=agent, customer_id=customer.pk).order_by("created_at", "id")


def add_note(agent, customer, *, author, text):
    """Write a note; ValidationError when it is empty or too long."""
    text = (text or "").strip()
    if not text:
        raise ValidationError("Write the note first.")
    if len(text) > MAX_NOTE_LENGTH:
        raise ValidationError(f"A note can be at most {MAX_NOTE_LENGTH:,} characters; this one has {len(text):,}.")
    return CustomerNote.objects.create(
        agent=agent, customer_id=customer.pk, author=author, author_name=author.name or author.email, text=text
    )


def get_note_or_404(agent, note_id):
    return get_object_or_404(CustomerNote, pk=note_id, agent=agent)


def delete_note(note):
    note.delete()


def forget_customer(agent, customer_id):
    """The customer is erased: the notes about them go too."""
    deleted, _ = CustomerNote.objects.filter(agent=agent, customer_id=customer_id).delete()
    return deleted
