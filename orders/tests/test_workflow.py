"""Every allowed and every refused status move, and the history each move leaves."""

from decimal import Decimal
from itertools import product

import pytest

from agents import tables
from orders import placing, workflow
from orders.placing import LineItem, OrderError

STATUSES = list(workflow.STATUS_LABELS)
ALLOWED = {
    ("pending", "confirmed"),
    ("confirmed", "processing"),
    ("processing", "shipped"),
    ("shipped", "delivered"),
    ("pending", "cancelled"),
    ("confirmed", "cancelled"),
    ("processing", "cancelled"),
    ("shipped", "cancelled"),
    ("delivered", "refunded"),
}


def order_in(agent, customer, status, paid=False):
    t = tables.for_agent(agent)
    order = placing.create_order(agent, customer, [LineItem("Mug", 1, Decimal("8"))], actor=None)
    t.Order.objects.filter(pk=order.pk).update(status=status)
    if paid:
        workflow.mark_paid(agent, order, actor=None)
    return t.Order.objects.get(pk=order.pk)


@pytest.mark.parametrize("from_status, to_status", list(product(STATUSES, STATUSES)))
def test_each_transition_is_allowed_or_refused_as_the_workflow_says(agent_a, maria, from_status, to_status):
    agent, t = agent_a, tables.for_agent(agent_a)
    order = order_in(agent, maria, from_status)
    before = order.updated_at
    if (from_status, to_status) in ALLOWED:
        order, event = workflow.change_status(agent, order, to_status, actor=agent.user)
        assert t.Order.objects.get(pk=order.pk).status == to_status
        assert (event.from_status, event.to_status, event.changed_by) == (from_status, to_status, agent.user.pk)
        assert t.Order.objects.get(pk=order.pk).updated_at > before
    else:
        with pytest.raises(OrderError):
            workflow.change_status(agent, order, to_status, actor=agent.user)
        assert t.Order.objects.get(pk=order.pk).status == from_status
        assert order.events.count() == 1


def test_a_paid_cancelled_order_can_be_refunded_an_unpaid_one_cannot(agent_a, maria):
    agent, t = agent_a, tables.for_agent(agent_a)
    unpaid = order_in(agent, maria, "cancelled")
    with pytest.raises(OrderError, match="cancelled order that was paid"):
        workflow.change_status(agent, unpaid, "refunded", actor=None)
    paid = order_in(agent, maria, "cancelled", paid=True)
    workflow.change_status(agent, paid, "refunded", actor=None)
    assert t.Order.objects.get(pk=paid.pk).status == "refunded"


def test_the_refusal_says_what_comes_next(agent_a, maria):
    agent = agent_a
    with pytest.raises(OrderError, match="cannot move to shipped: next is confirmed, cancelled"):
        workflow.change_status(agent, order_in(agent, maria, "pending"), "shipped", actor=None)
    with pytest.raises(OrderError, match="not an order status"):
        workflow.change_status(agent, order_in(agent, maria, "pending"), "lost", actor=None)


def test_the_history_keeps_who_when_from_and_to(agent_a, maria):
    agent = agent_a
    order = order_in(agent, maria, "pending")
    for status in ("confirmed", "processing", "shipped", "delivered"):
        workflow.change_status(agent, order, status, actor=agent.user)
    history = list(order.events.order_by("created_at", "id").values_list("from_status", "to_status", "changed_by_name"))
    assert history[1:] == [
        ("pending", "confirmed", agent.user.name),
        ("confirmed", "processing", agent.user.name),
        ("processing", "shipped", agent.user.name),
        ("shipped", "delivered", agent.user.name),
    ]


def test_a_commit_hook_runs_only_after_a_successful_change(agent_a, maria, django_capture_on_commit_callbacks):
    agent = agent_a
    seen = []
    with django_capture_on_commit_callbacks(execute=True):
        workflow.change_status(
            agent,
            order_in(agent, maria, "pending"),
            "confirmed",
            actor=None,
            on_commit=lambda order, event: seen.append(event.to_status),
        )
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(OrderError):
        workflow.change_status(
            agent,
            order_in(agent, maria, "pending"),
            "delivered",
            actor=None,
            on_commit=lambda order, event: seen.append("never"),
        )
    assert seen == ["confirmed"]


def test_a_status_change_is_written_to_the_audit_log(agent_a, maria):
    from audit.models import AuditEvent

    agent = agent_a
    order = order_in(agent, maria, "pending")
    workflow.change_status(agent, order, "confirmed", actor=agent.user)
    event = AuditEvent.objects.get(action="order.status_changed")
    assert (event.actor, event.target_type, event.target_id) == (
        agent.user,
        f"{agent.agent_prefix}_orders",
        str(order.pk),
    )
    assert event.details == {"agent": agent.agent_prefix, "from_status": "pending", "to_status": "confirmed"}
