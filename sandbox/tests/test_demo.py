from django.core.management import call_command
from django.urls import reverse

from agents import tables
from agents.models import Agent
from sandbox.management.commands.load_demo import SELLER


def test_the_demo_loads_twice_and_its_seller_can_log_in(client, db):
    call_command("load_demo")
    call_command("load_demo")

    agent = Agent.objects.get()
    assert tables.for_agent(agent).Customer.objects.count() == 3
    email, _, password = SELLER
    response = client.post(reverse("login"), {"username": email, "password": password}, follow=True)
    assert "Demo Shop" in response.content.decode()
