from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from agents.access import agent_required, choose_agent
from crm.inputs import object_id
from dashboard.views.reports import sales_this_month
from payments import ledger

from ..figures import home_figures
from ..inbox import inbox_page
from .common import month_start, today_start

HOME_INBOX_ROWS = 5
# Where the switcher lands for each section: its list, since ids on the page belonged to the other agent.
SECTION_LISTS = {
    "inbox": "inbox",
    "customers": "customer_list",
    "orders": "order_list",
    "reports": "reports",
    "quick_replies": "quick_replies",
    "shop": "shop_settings",
}


@agent_required
def home(request):
    figures = home_figures(request.agent_tables, today_start=today_start())
    waiting = inbox_page(request.agent_tables, agent=request.agent, show="needs_reply", size=HOME_INBOX_ROWS)
    return render(
        request,
        "agents/home.html",
        {
            "section": "home",
            "figures": figures,
            "waiting": waiting,
            "to_collect": ledger.waiting_to_be_collected(request.agent),
            **sales_this_month(request.agent, month_start()),
        },
    )


@require_POST
@agent_required
def switch_agent(request):
    """Make another of the user's agents the session's agent; anyone else's agent is refused."""
    agent_id = object_id(request.POST.get("agent", ""))
    if agent_id is None or not choose_agent(request, agent_id):
        return render(request, "agents/bad_request.html", {"message": "That agent is not one of yours."}, status=403)
    return redirect(SECTION_LISTS.get(request.POST.get("section"), "home"))
