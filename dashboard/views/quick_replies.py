"""Quick replies: the agent's saved snippets, listed, added, changed and deleted on one page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from agents import quick_replies
from agents.access import agent_required

from ..forms import QuickReplyForm


def _save(request, form, quick_reply=None):
    """Save a valid form through the domain; False (errors on the form) when the shortcut is taken."""
    if not form.is_valid():
        return False
    try:
        quick_replies.save_quick_reply(request.agent, quick_reply=quick_reply, **form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True


@agent_required
def quick_reply_list(request):
    form = QuickReplyForm(request.POST or None)
    if request.method == "POST" and _save(request, form):
        messages.success(request, f"Quick reply /{form.cleaned_data['shortcut']} was saved.")
        return redirect("quick_replies")
    return render(
        request,
        "agents/quick_replies.html",
        {
            "section": "quick_replies",
            "form": form,
            "quick_replies": quick_replies.quick_replies_of(request.agent),
        },
        status=400 if form.errors else 200,
    )


@agent_required
def quick_reply_edit(request, quick_reply_id):
    quick_reply = quick_replies.get_quick_reply_or_404(request.agent, quick_reply_id)
    shortcut = quick_reply.shortcut
    form = QuickReplyForm(request.POST or None, instance=quick_reply)
    if request.method == "POST" and _save(request, form, quick_reply):
        messages.success(request, f"Quick reply /{form.cleaned_data['shortcut']} was saved.")
        return redirect("quick_replies")
    return render(
        request,
        "agents/quick_reply_edit.html",
        {
            "section": "quick_replies",
            "form": form,
            "shortcut": shortcut,
        },
        status=400 if form.errors else 200,
    )


@require_POST
@agent_required
def quick_reply_delete(request, quick_reply_id):
    quick_reply = quick_replies.get_quick_reply_or_404(request.agent, quick_reply_id)
    quick_replies.delete_quick_reply(quick_reply)
    messages.success(request, f"Quick reply /{quick_reply.shortcut} was deleted.")
    return redirect("quick_replies")
