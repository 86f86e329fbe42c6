"""The live check, answered before sessions, users and the rest of the stack (alerts.live.check).

Every open page asks it every 700 ms: all it needs is the signed ticket the page was given by a
logged-in request, and one statement of the agent's tables.
"""

from django.http import HttpResponse, JsonResponse
from django.urls import reverse

from . import live


def check_answer(query):
    """The HTTP answer to a check whose query string is `query`: 204 same, 200 changed, 403 for a ticket
    to renew (alerts.js then asks the logged-in way), 400 for a token we never gave."""
    try:
        outcome = live.check(query.get("ticket", ""), query.get("since", ""))
    except live.InvalidToken as error:
        return JsonResponse({"error": str(error)}, status=400)
    if outcome is None:
        response = JsonResponse({"error": "This page's live-update ticket has expired."}, status=403)
    elif outcome == "same":
        response = HttpResponse(status=204)
    else:
        response = JsonResponse({"changed": True})
    response["Cache-Control"] = "no-store"
    return response


class LiveCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.path = None

    def __call__(self, request):
        if self.path is None:
            self.path = reverse("live_check")
        if request.path == self.path and request.method == "GET":
            return check_answer(request.GET)
        return self.get_response(request)
