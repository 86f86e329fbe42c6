"""Labels: an agent's names for where a customer stands ("pending payment", "paid"), put on customers.

Labels and the customers they are on live in tables every agent shares (row security keyed on the agent);
every function here takes the agent and touches that agent's rows only.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404

from .models import Agent, CustomerLabel, Label

# WhatsApp Business allows 20 labels; sellers know the limit from there.
MAX_LABELS = 20


def labels_of(agent):
    """The agent's labels by name, each with `customer_count`."""
    return Label.objects.filter(agent=agent).annotate(customer_count=Count("assignments")).order_by("name", "id")


def get_label_or_404(agent, label_id):
    return get_object_or_404(Label, pk=label_id, agent=agent)


def save_label(agent, *, name, colour, label=None):
    """Create (or, given `label`, change) a label; ValidationError for a taken name or a 21st label."""
    name = " ".join(name.split())
    with transaction.atomic():
        if label is None:
            # The agent row's lock makes two concurrent creations count one after the other.
            Agent.objects.select_for_update().filter(pk=agent.pk).first()
            if Label.objects.filter(agent=agent).count() >= MAX_LABELS:
                raise ValidationError(
                    f"You have {MAX_LABELS} labels, the most you can have. Delete one you no longer use first."
                )
            label = Label(agent=agent)
        label.name, label.colour = name, colour
        try:
            with transaction.atomic():
                label.save()
        except IntegrityError:
            raise ValidationError({"name": "You already have a label with this name."}) from None
    return label


def delete_label(label):
    """Delete the label; it comes off every customer it was on."""
    label.delete()


def labels_by_customer(agent, customer_ids):
    """{customer id: [Label]} for the given customers, in one query."""
    found = {}
    assignments = CustomerLabel.objects.filter(agent=agent, customer_id__in=list(customer_ids)).select_related("label")
    for assignment in assignments.order_by("label__name", "label_id"):
        found.setdefault(assignment.customer_id, []).append(assignment.label)
    return found


def label_names_by_customer(agent):
    """{customer id: [label names]} for every labelled customer of the agent (the customers CSV)."""
    found = {}
    rows = CustomerLabel.objects.filter(agent=agent).order_by("label__name", "label_id")
    for customer_id, name in rows.values_list("customer_id", "label__name"):
        found.setdefault(customer_id, []).append(name)
    return found


def customer_ids_labelled(agent, agent_tables, label):
    """The ids of the agent's customers that carry `label`, for `pk__in` on the agent's customers: a subquery
    where the agent's tables share the labels' database, else the list of ids (no query spans databases)."""
    ids = CustomerLabel.objects.filter(agent=agent, label=label).values_list("customer_id", flat=True)
    return ids if ids.db == agent_tables.database else list(ids)


def _own_customer_ids(agent_tables, customer_ids):
    return list(agent_tables.Customer.objects.filter(pk__in=list(customer_ids)).values_list("pk", flat=True))


def set_customer_labels(agent, agent_tables, customer, labels):
    """Make `labels` (the agent's own) exactly the labels on `customer`."""
    wanted = {label.pk for label in labels if label.agent_id == agent.pk}
    with transaction.atomic():
        CustomerLabel.objects.filter(agent=agent, customer_id=customer.pk).exclude(label_id__in=wanted).delete()
        CustomerLabel.objects.bulk_create(
            [CustomerLabel(agent=agent, label_id=label_id, customer_id=customer.pk) for label_id in sorted(wanted)],
            ignore_conflicts=True,
        )


def add_label(agent, agent_tables, label, customer_ids):
    """Put `label` on each of the customers (ids of the agent's customers; others are ignored); returns how many."""
    own = _own_customer_ids(agent_tables, customer_ids)
    CustomerLabel.objects.bulk_create(
        [CustomerLabel(agent=agent, label=label, customer_id=customer_id) for customer_id in own],
        ignore_conflicts=True,
    )
    return len(own)


def remove_label(agent, label, customer_ids):
    """Take `label` off the customers; returns how many had it."""
    deleted, _ = CustomerLabel.objects.filter(agent=agent, label=label, customer_id__in=list(customer_ids)).delete()
    return deleted


def forget_customer(agent, customer_id):
    """The customer is erased: their labels go with them."""
    deleted, _ = CustomerLabel.objects.filter(agent=agent, customer_id=customer_id).delete()
    return deleted
