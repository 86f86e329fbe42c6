"""Nobody sees another agent's data: every URL of the project, discovered from the resolver, is tried.

Agent A's session asks every page for agent B's object ids (and every page without ids is read for B's
data); an agent user tries every admin page; an admin tries what only super admins may do. New pages are
covered without editing this file: a parameter this file has no id for fails the test, so that whoever
adds one says what it names.
"""

import re
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site as admin_site
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import Role
from agents import conversations, tables
from agents.models import CustomerLabel, CustomerNote, Label, QuickReply
from alerts.models import AlertSettings, PushSubscription
from orders import placing
from orders.models import Product
from orders.placing import LineItem
from outreach.models import Broadcast, BroadcastRecipient
from payments import ledger
from whatsapp.configuration import save_configuration
from whatsapp.models import MessagePrice, MessageTemplate

B_MARKERS = (
    "Bea Zebra",
    "+15559990003",
    "B-SECRET-MESSAGE",
    "B-SECRET-ITEM",
    "B-SECRET-SNIPPET",
    "B-SECRET-PRODUCT",
    "b-secret-item-sku",
    "B-SECRET-SNIPPET-LABEL",
    "B-SECRET-SNIPPET-NOTE",
)
# URL parameter name -> which of B's objects it names.
PARAMETER_OBJECTS = {
    "customer_id": "customer",
    "message_id": "message",
    "order_id": "order",
    "quick_reply_id": "quick_reply",
    "item_id": "item",
    "event_id": "event",
    "product_id": "product",
    "broadcast_id": "broadcast",
    "label_id": "label",
    "note_id": "note",
    "message_price_id": "message_price",
    "payment_id": "payment",
}
# Pages outside the agent dashboard: the fake Graph API's media ids are not agent data.
NOT_AGENT_DATA = {"sandbox/media/<int:media_id>/"}
STATUS_OK_FOR_FOREIGN_IDS = {403, 404, 405}


def walk(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def project_routes():
    return sorted({route for route in walk(get_resolver()) if not route.startswith(("admin/", "^static", "static/"))})


def admin_routes():
    return sorted(route for route in walk(get_resolver()) if route.startswith("admin/"))


PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def fill(route, values):
    """The route with each <converter:name> replaced by values[name]; regex routes are skipped (None)."""
    if route.startswith("^") or "(?P" in route:
        return None
    return "/" + PARAMETER.sub(lambda match: str(values[match.group(2)]), route)


def add_agent_data(agent, *, name, phone, text, item, snippet, count):
    """`count` customers with a message and an order each, plus a quick reply, a label on the last customer and
    a note on it (named after the snippet), and `count` products; returns the last of each."""
    t = tables.for_agent(agent)
    last = {}
    for n in range(1, count + 1):
        customer = t.Customer.objects.create(name=f"{name} {n}", phone=f"{phone[:-1]}{n}")
        message = t.Message.objects.create(
            customer=customer,
            message=f"{text}-{n}",
            direction="inbound",
            wamid=f"wamid.{phone}.{n}",
            media_type="image",
            media_url=f"whatsapp/inbound/{agent.agent_prefix}/{n}.jpg",
            wa_type="image",
        )
        conversations.note_new_message(t, message)
        order = placing.create_order(agent, customer, [LineItem(f"{item}-{n}", 1, Decimal("5"))], actor=None)
        last = {
            "customer": customer,
            "message": message,
            "order": order,
            "item": order.items.get(),
            "event": order.events.get(),
        }
    last["payment"] = ledger.record_payment(
        agent,
        last["order"],
        amount="1",
        method="bank_transfer",
        reference=f"{snippet}-REF",
        proof_message_id=last["message"].pk,
    )
    last["quick_reply"] = QuickReply.objects.create(agent=agent, shortcut=f"s{count}", text=snippet)
    last["message_price"] = MessagePrice.objects.create(agent=agent, category="marketing", price=Decimal(count))
    last["broadcast"] = add_broadcast(agent, last["customer"], snippet)
    for n in range(count):
        last["label"] = Label.objects.create(agent=agent, name=f"{snippet}-LABEL-{n}", colour="red")
    CustomerLabel.objects.create(agent=agent, label=last["label"], customer_id=last["customer"].pk)
    last["note"] = CustomerNote.objects.create(
        agent=agent, customer_id=last["customer"].pk, author=agent.user, author_name="Someone", text=f"{snippet}-NOTE"
    )
    PushSubscription.objects.create(
        agent=agent, user=agent.user, endpoint=f"https://push.example.com/{snippet}", p256dh="key", auth="secret"
    )
    AlertSettings.objects.create(agent=agent, user=agent.user, show_message_text=True)
    for n in range(1, count + 1):
        last["product"] = Product.objects.create(
            agent=agent, name=f"{item.replace('ITEM', 'PRODUCT')}-{n}", retailer_id=f"{item.lower()}-sku-{n}", price=5
        )
    return last


def add_broadcast(agent, customer, name):
    """A finished broadcast of the agent, named `name`, that reached `customer`."""
    configuration, _ = save_configuration(
        user=agent.user,
        whatsapp_number=customer.phone[:-1] + "9",
        phone_number_id=f"pn-{agent.pk}",
        access_token="t" * 20,
    )
    template = MessageTemplate.objects.create(
        configuration=configuration,
        meta_id=f"m{agent.pk}",
        name=f"{name}-template",
        language="en",
        status="APPROVED",
        category="MARKETING",
        synced_at=timezone.now(),
    )
    broadcast = Broadcast.objects.create(agent=agent, name=name, template=template, status="finished")
    BroadcastRecipient.objects.create(
        broadcast=broadcast,
        agent=agent,
        customer_id=customer.pk,
        name=customer.name,
        phone=customer.phone,
        state="sent",
    )
    return broadcast


@pytest.fixture
def world(agent_a, agent_b):
    """Agents A and B of the permission matrix, each with customers, messages, orders and a quick reply."""
    add_agent_data(
        agent_a, name="Alice Own", phone="+15558880001", text="A-MESSAGE", item="A-ITEM", snippet="A-SNIPPET", count=1
    )
    # B has more of everything, so B's highest ids exist in B only: A asking for them is asking for B's rows.
    b_objects = add_agent_data(
        agent_b,
        name="Bea Zebra",
        phone="+15559990003",
        text="B-SECRET-MESSAGE",
        item="B-SECRET-ITEM",
        snippet="B-SECRET-SNIPPET",
        count=3,
    )
    return agent_a, agent_b, b_objects


def b_snapshot(agent_b):
    t = tables.for_agent(agent_b)
    return (
        list(t.Customer.objects.order_by("id").values_list("id", "name", "phone")),
        list(t.Message.objects.order_by("id").values_list("id", "message", "is_read", "status")),
        list(t.Order.objects.order_by("id").values_list("id", "status", "total_amount")),
        list(QuickReply.objects.filter(agent=agent_b).values_list("id", "text")),
        list(Product.objects.filter(agent=agent_b).values_list("id", "name", "price", "archived_at")),
        list(Broadcast.objects.filter(agent=agent_b).values_list("id", "status")),
        list(Label.objects.filter(agent=agent_b).values_list("id", "name", "colour")),
        list(CustomerLabel.objects.filter(agent=agent_b).values_list("label_id", "customer_id")),
        list(CustomerNote.objects.filter(agent=agent_b).values_list("id", "text")),
        list(PushSubscription.objects.filter(agent=agent_b).values_list("id", "endpoint", "user_id")),
        list(AlertSettings.objects.filter(agent=agent_b).values_list("id", "show_message_text")),
        list(MessagePrice.objects.filter(agent=agent_b).values_list("id", "price")),
    )


def assert_no_b_data(response, what):
    if response.streaming:
        body = b"".join(response.streaming_content).decode(errors="replace")
    else:
        body = response.content.decode(errors="replace")
    for marker in B_MARKERS:
        assert marker not in body, f"{what} shows B's data ({marker!r})"


def test_agent_a_never_reaches_agent_bs_objects_on_any_page(client, world):
    agent_a, agent_b, b_objects = world
    client.force_login(agent_a.user)
    before = b_snapshot(agent_b)
    tried = 0
    for route in project_routes():
        names = PARAMETER.findall(route)
        if not names:
            continue
        if route in NOT_AGENT_DATA:
            continue
        unknown = [name for _, name in names if name not in PARAMETER_OBJECTS]
        assert not unknown, f"{route}: say in PARAMETER_OBJECTS which object {unknown} names"
        url = fill(route, {name: b_objects[PARAMETER_OBJECTS[name]].pk for _, name in names})
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in STATUS_OK_FOR_FOREIGN_IDS, f"{method.upper()} {url}: {response.status_code}"
            assert_no_b_data(response, f"{method.upper()} {url}")
            tried += 1
    assert tried >= 20, "the walk found too few pages with ids: is the resolver walk broken?"
    assert b_snapshot(agent_b) == before, "a request of A's changed B's data"


def test_pages_without_ids_show_agent_a_none_of_bs_data(client, world):
    agent_a, agent_b, _ = world
    client.force_login(agent_a.user)
    before = b_snapshot(agent_b)
    pages = [route for route in project_routes() if not PARAMETER.findall(route) and fill(route, {}) is not None]
    for route in pages:
        url = fill(route, {})
        response = client.get(url)
        assert response.status_code < 500, f"GET {url}: {response.status_code}"
        assert_no_b_data(response, f"GET {url}")
        for query in ("?q=Zebra", "?q=B-SECRET", "?q=%2B1555999"):
            assert_no_b_data(client.get(url + query), f"GET {url}{query}")
    assert len(pages) >= 10
    assert b_snapshot(agent_b) == before


def test_the_agent_switcher_refuses_another_users_agent(client, world):
    agent_a, agent_b, _ = world
    client.force_login(agent_a.user)
    client.post(reverse("switch_agent"), {"agent": agent_b.pk})
    assert_no_b_data(client.get(reverse("inbox")), "the inbox after switching to B")
    assert "Shop A" in client.get(reverse("home")).content.decode()


def admin_urls(b_objects, agent_b, other_user):
    """Every admin page, with ids filled in from real objects where the page names one."""
    urls = []
    for route in admin_routes():
        if "<path:object_id>" in route:
            for model, _model_admin in admin_site._registry.items():
                prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
                if route.startswith(prefix):
                    obj = model._default_manager.order_by("pk").first()
                    if obj is not None:
                        urls.append(fill(route, {"object_id": obj.pk}))
        elif "<" not in route:
            url = fill(route, {})
            if url:
                urls.append(url)
        elif "<app_label>" in route:
            for app_label in {model._meta.app_label for model in admin_site._registry}:
                urls.append(f"/admin/{app_label}/")
        elif "<int:user_id>" in route or "<id>" in route:
            urls.append(fill(route, {name: other_user.pk for _, name in PARAMETER.findall(route)}))
    return sorted({url for url in urls if url})


def test_an_agent_user_is_kept_out_of_every_admin_page(client, world, make_user):
    agent_a, agent_b, b_objects = world
    urls = admin_urls(b_objects, agent_b, make_user())
    assert len(urls) >= 20
    client.force_login(agent_a.user)
    for url in urls:
        if url.rstrip("/").endswith(("logout", "login")) or "jsi18n" in url:
            continue
        response = client.get(url)
        assert response.status_code in (302, 403, 404), f"GET {url}: {response.status_code}"
        if response.status_code == 302:
            # To a login page, or to the user's own password page (the admin's password change sends there).
            assert response.url.startswith(("/admin/login", "/accounts/login", reverse("password_change"))), (
                f"GET {url} redirects to {response.url}"
            )
        assert_no_b_data(response, f"GET {url}")


def test_an_admin_cannot_do_what_only_super_admins_may(client, admin_user, super_admin, make_user):
    admin = admin_user
    other_admin = make_user(role=Role.ADMIN)
    boss = super_admin
    client.force_login(admin)
    for target in (other_admin, boss):
        change = reverse("admin:accounts_user_change", args=[target.pk])
        response = client.post(change, {"email": target.email, "name": "Taken over", "role": "agent", "is_active": ""})
        assert response.status_code == 403, change
        password = reverse("admin:auth_user_password_change", args=[target.pk])
        response = client.post(password, {"password1": "x-new-long-pass-1", "password2": "x-new-long-pass-1"})
        assert response.status_code in (403, 404), password
        delete = reverse("admin:accounts_user_delete", args=[target.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403, delete
        target.refresh_from_db()
        assert target.name != "Taken over" and target.is_active and target.check_password("correct-horse-battery")
    # Super-admin-only parts of the admin: sessions, the task queue, the lock-outs.
    for model, _model_admin in admin_site._registry.items():
        if model._meta.app_label not in {"accounts", "agents", "whatsapp", "orders", "audit"}:
            response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
            assert response.status_code == 403, f"{model._meta.label}: {response.status_code}"
