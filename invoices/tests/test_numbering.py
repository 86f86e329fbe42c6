"""Invoice numbers: one per order, given in turn, never repeated or skipped, each shop its own."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from agents import tables
from crm import rls
from invoices import numbering
from invoices.models import Invoice, InvoiceCounter
from orders import placing
from orders.placing import LineItem


def new_order(agent, customer, name="Blue mug"):
    return placing.create_order(agent, customer, [LineItem(name, 1, Decimal("8.00"))], actor=None)


@pytest.fixture
def customer(agent_a):
    return tables.for_agent(agent_a).Customer.objects.create(name="Maria Silva", phone="+5511987654321")


def test_orders_get_the_next_numbers_in_turn_and_keep_them(agent_a, customer):
    first, second = new_order(agent_a, customer), new_order(agent_a, customer)

    assert numbering.issue(agent_a, second).number == 1
    assert numbering.issue(agent_a, first).number == 2
    assert numbering.issue(agent_a, second).number == 1
    assert Invoice.objects.filter(agent=agent_a).count() == 2
    assert numbering.next_label(agent_a) == "0003"


def test_each_shop_counts_its_own_numbers(agent_a, agent_b, customer):
    other = tables.for_agent(agent_b).Customer.objects.create(name="Bo", phone="+14155550000")

    assert numbering.issue(agent_a, new_order(agent_a, customer)).number == 1
    assert numbering.issue(agent_b, new_order(agent_b, other)).number == 1
    assert numbering.issue(agent_a, new_order(agent_a, customer)).number == 2


def test_a_new_prefix_writes_new_numbers_and_leaves_given_ones_as_they_were(agent_a, customer, make_user):
    before = numbering.issue(agent_a, new_order(agent_a, customer))

    numbering.set_prefix(agent_a, " INV-2026- ", actor=agent_a.user)
    after = numbering.issue(agent_a, new_order(agent_a, customer))

    before.refresh_from_db()
    assert (before.label, after.label) == ("0001", "INV-2026-0002")
    assert numbering.prefix_of(agent_a) == "INV-2026-"


@pytest.mark.parametrize("prefix", ["x" * 21, "INV\x00", "<b>", "IN\nV", "ÜBER", "INV-1", "2026"])
def test_a_prefix_that_would_not_print_plainly_is_refused(agent_a, prefix):
    with pytest.raises(ValidationError):
        numbering.set_prefix(agent_a, prefix, actor=agent_a.user)
    assert numbering.prefix_of(agent_a) == ""


@pytest.mark.postgres
def test_concurrent_orders_get_numbers_one_to_n_without_a_gap_or_a_repeat(committed_db, agent_a, customer):
    orders = [new_order(agent_a, customer, f"Mug {index}") for index in range(24)]
    # Every order asked for twice at once: the second request must get the first one's number.
    work = [order for order in orders for _ in range(2)]
    start = threading.Barrier(len(work), timeout=60)
    given, errors = {}, []

    def issue(order):
        try:
            start.wait()
            invoice = numbering.issue(agent_a, order)
            given.setdefault(order.pk, set()).add(invoice.number)
        except Exception as error:  # surfaced by the assertions below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(order,)) for order in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert all(len(numbers) == 1 for numbers in given.values()) and len(given) == len(orders)
    assert sorted(number for (number,) in given.values()) == list(range(1, len(orders) + 1))
    stored = Invoice.objects.filter(agent=agent_a).values_list("order_id", "number")
    assert {order_id: {number} for order_id, number in stored} == given


@pytest.mark.postgres
def test_each_agent_sees_only_its_own_counter_and_invoices(agent_a, agent_b, customer):
    other = tables.for_agent(agent_b).Customer.objects.create(name="Bo", phone="+14155550000")
    numbering.issue(agent_a, new_order(agent_a, customer))
    numbering.issue(agent_b, new_order(agent_b, other))

    with rls.agent_scope(agent_a):
        assert list(Invoice.objects.values_list("agent_id", flat=True)) == [agent_a.pk]
        assert list(InvoiceCounter.objects.values_list("agent_id", flat=True)) == [agent_a.pk]
        assert InvoiceCounter.objects.filter(agent=agent_b).update(last_number=0) == 0
