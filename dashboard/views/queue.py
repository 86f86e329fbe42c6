"""The conversation in the seller's work queue: mark it done, snooze it, open it again; private notes."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from agents import conversations, notes
from agents.access import agent_required
from agents.customers import get_customer_or_404

from ..forms import NoteForm
from .common import back_to, bad_request


@require_POST
@agent_required
def conversation_done(request, customer_id):
    customer = get_customer_or_404(request.agent_tables, customer_id)
    conversations.mark_done(request.agent_tables, customer)
    messages.success(request, f"The conversation with {customer.name} is done. It opens again when they write.")
    return redirect(back_to(request, "conversation", customer.pk))


@require_POST
@agent_required
def conversation_reopen(request, customer_id):
    customer = get_customer_or_404(request.agent_tables, customer_id)
    conversations.reopen(request.agent_tables, customer)
    messages.success(request, f"The conversation with {customer.name} is open again.")
    return redirect(back_to(request, "conversation", customer.pk))


@require_POST
@agent_required
def conversation_snooze(request, customer_id):
    customer = get_customer_or_404(request.agent_tables, customer_id)
    until = conversations.snooze_until(request.POST.get("until", ""))
    if until is None:
        return bad_request(request, "Choose how long to snooze: for 1 hour, until tomorrow or until next week.")
    conversations.snooze(request.agent_tables, customer, until)
    when = timezone.localtime(until).strftime("%a %d %b, %H:%M")
    messages.success(request, f"Snoozed until {when}, or until {customer.name} writes.")
    return redirect(back_to(request, "conversation", customer.pk))


@require_POST
@agent_required
def note_add(request, customer_id):
    customer = get_customer_or_404(request.agent_tables, customer_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return bad_request(request, " ".join(form.errors["text"]))
    try:
        notes.add_note(request.agent, customer, author=request.user, text=form.cleaned_data["text"])
    except ValidationError as error:
        return bad_request(request, " ".join(error.messages))
    messages.success(request, "Note saved. Only people working this inbox see it.")
    return redirect(back_to(request, "conversation", customer.pk))


@require_POST
@agent_required
def note_delete(request, note_id):
    note = notes.get_note_or_404(request.agent, note_id)
    notes.delete_note(note)
    messages.success(request, "Note deleted.")
    return redirect(back_to(request, "conversation", note.customer_id))
