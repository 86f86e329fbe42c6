"""What several dashboard views share: the day boundaries in the viewer's zone, bad-input answers."""

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from agents.models import Label
from crm.inputs import object_id


def today_start():
    """Midnight today in the viewer's time zone (see crm.timezones)."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def month_start():
    return today_start().replace(day=1)


def bad_request(request, message):
    """A clear 400 page for input we cannot use (a damaged page link, an unknown filter)."""
    return render(request, "agents/bad_request.html", {"message": message}, status=400)


def choice(request, name, allowed, default):
    """GET parameter `name` if it is one of `allowed`, the default when absent, None when invalid."""
    value = request.GET.get(name, "") or default
    return value if value in allowed else None


def is_htmx(request):
    """Whether htmx made the request (it then swaps the answer into the page)."""
    return request.headers.get("HX-Request") == "true"


def back_to(request, name, *args):
    """Where a form sends the seller back: the page it was on (POST `next`, a path on this site), else `name`."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse(name, args=args)


NO_SUCH_LABEL = object()


def label_asked(request):
    """The agent's label named by GET `label`; None without one, NO_SUCH_LABEL for an id that is not one."""
    if not request.GET.get("label"):
        return None
    label_id = object_id(request.GET["label"])
    found = Label.objects.filter(agent=request.agent, pk=label_id).first() if label_id else None
    return found or NO_SUCH_LABEL
