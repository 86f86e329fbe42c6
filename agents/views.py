from django.shortcuts import render

from . import tables
from .access import agent_required


@agent_required
def home(request):
    agent_tables = tables.for_agent(request.agent)
    context = {
        "customer_count": agent_tables.Customer.objects.count(),
        "unread_count": agent_tables.Message.objects.unread().count(),
        "open_order_count": agent_tables.Order.objects.open().count(),
    }
    return render(request, "agents/home.html", context)
