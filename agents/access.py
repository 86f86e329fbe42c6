"""Which agent the logged-in user is working as: from the session, checked on every request.

An agent is never taken from a URL; other agents' objects are simply not reachable.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.crypto import salted_hmac

from crm import rls

from . import shop, tables
from .models import Agent

SESSION_KEY = "current_agent_id"
# Names the agent a browser works for, hashed, so that a proxy in front of several web processes can send
# each agent's requests to the same one (`hash $cookie_crm_route consistent` in deploy/nginx.conf): that
# process keeps the agent's classes and its connections keep the agent's tables warm (docs/operations.md).
ROUTE_COOKIE = "crm_route"
ROUTE_KEYS = 4096


def route_key(agent_id):
    """The routing key of an agent's requests: stable, and telling nothing of the agent's id (keyed by SECRET_KEY)."""
    digest = salted_hmac("agents.access.route_key", str(agent_id), algorithm="sha256").digest()
    return str(int.from_bytes(digest[:4], "big") % ROUTE_KEYS)


def agents_of(user):
    return Agent.objects.filter(user=user).order_by("id")


def current_agent(request):
    """The agent chosen in this session if it still belongs to the user, else the user's first one."""
    agents = list(agents_of(request.user))
    chosen = request.session.get(SESSION_KEY)
    agent = next((a for a in agents if a.id == chosen), agents[0] if agents else None)
    if agent is not None and chosen != agent.id:
        request.session[SESSION_KEY] = agent.id
    request.user_agents = agents
    return agent


def choose_agent(request, agent_id):
    """Make `agent_id` the session's agent if it is one of the user's; return whether it was."""
    # Asked about the user, not as the current agent (whose row scope shows only itself).
    with rls.scope(rls.NOBODY):
        mine = agents_of(request.user).filter(id=agent_id).exists()
    if mine:
        request.session[SESSION_KEY] = agent_id
        return True
    return False


def agent_required(view):
    """Log-in required, and `request.agent` set to the user's current agent (or a help page).

    Also sets `request.agent_tables`, that agent's model classes: every object a view reaches
    through them belongs to the session's agent, so another agent's id in a URL finds nothing; and runs
    the view for the agent's shop (amounts in its currency and locale, times in its time zone).
    """

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.agent = current_agent(request)
        if request.agent is None:
            return render(request, "agents/no_agent.html", status=403)
        request.agent_tables = tables.for_agent(request.agent)
        rls.work_as(request.agent)
        # Read in the agent's row scope: the shop's row is visible only there.
        with shop.working_for(shop.shop_of(request.agent)):
            response = view(request, *args, **kwargs)
        key = route_key(request.agent.id)
        if request.COOKIES.get(ROUTE_COOKIE) != key:
            response.set_cookie(
                ROUTE_COOKIE,
                key,
                max_age=settings.SESSION_COOKIE_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    return wrapper
