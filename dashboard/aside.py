"""What the conversation shows beside the thread: where it stands in the queue, its labels, private notes."""

from django.utils import timezone

from agents import conversations, labels, notes

from .forms import NoteForm


def customer_aside(agent, customer):
    """The template context of the conversation's side panel (three queries: labels, the customer's, notes)."""
    state = conversations.queue_state(customer)
    on = {label.pk for label in labels.labels_by_customer(agent, [customer.pk]).get(customer.pk, [])}
    all_labels = list(labels.labels_of(agent))
    return {
        "queue_state": state,
        "needs_reply": state == "open" and customer.awaiting_reply_since is not None,
        "snoozed_until": timezone.localtime(customer.snoozed_until) if state == "snoozed" else None,
        "snooze_presets": conversations.SNOOZE_PRESETS,
        "agent_labels": [(label, label.pk in on) for label in all_labels],
        "customer_labels": [label for label in all_labels if label.pk in on],
        "notes": list(notes.notes_on(agent, customer)),
        "note_form": NoteForm(),
    }
