"""Demo data for `make run`: an admin, a seller with an agent, a WhatsApp number with its catalog and a few chats."""

from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from agents import conversations, tables
from agents.models import Agent
from agents.provisioning import create_agent
from fakegraph.server import DEMO_CATALOG
from orders import catalog_sync, placing, workflow
from orders.carts import draft_order_from_cart
from orders.placing import LineItem
from payments import ledger
from whatsapp.configuration import save_configuration

ADMIN = ("admin@example.com", "Ada Admin", "admin-demo-password")
SELLER = ("agent@example.com", "Sam Seller", "agent-demo-password")
DEMO_PHONE_NUMBER_ID = "100000000000001"
DEMO_CATALOG_ID = "100000000000009"

CHATS = [
    (
        "Maria Silva",
        "+5511987654321",
        [
            ("inbound", "Hi! Do you still have the blue ceramic mugs?", 190),
            ("outbound", "Hello Maria! Yes, we have 12 left. They are $8 each.", 185),
            ("inbound", "Great, I'd like 4 please. Can you deliver to Rua Augusta 500?", 180),
        ],
    ),
    (
        "John Carter",
        "+14155550123",
        [
            ("inbound", "Is the shop open on Sunday?", 60 * 26),
            ("outbound", "We open 10:00-16:00 on Sundays.", 60 * 25),
        ],
    ),
    (
        "Aisha Bello",
        "+2348031234567",
        [
            ("inbound", "Good morning, what sizes does the linen shirt come in?", 12),
        ],
    ),
]


class Command(BaseCommand):
    help = "Load demo users, an agent, a WhatsApp sandbox number and sample conversations (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            admin = self.user(*ADMIN, role=Role.SUPER_ADMIN)
            seller = self.user(*SELLER, role=Role.AGENT)
            agent = Agent.objects.filter(user=seller).first() or create_agent(
                created_by=admin, user=seller, name="Demo Shop"
            )
            save_configuration(
                user=seller,
                whatsapp_number="+15550100001",
                phone_number_id=DEMO_PHONE_NUMBER_ID,
                business_account_id="200000000000001",
                access_token="sandbox-access-token",
            )
            # The catalog the fake Graph API serves: products to send from the inbox and to order in the sandbox.
            catalog_sync.set_catalog_id(agent, DEMO_CATALOG_ID)
            catalog_sync.apply_items(agent, DEMO_CATALOG)
            self.chats(agent)
        self.stdout.write("Demo data ready.")

    def user(self, email, name, password, role):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, name=name, password=password, role=role)
        return user

    def chats(self, agent):
        t = tables.for_agent(agent)
        if t.Customer.objects.exists():
            return
        now = timezone.now()
        for name, phone, messages in CHATS:
            customer = t.Customer.objects.create(name=name, phone=phone)
            for direction, text, minutes_ago in messages:
                t.Message.objects.create(
                    customer=customer,
                    message=text,
                    direction=direction,
                    timestamp=now - timedelta(minutes=minutes_ago),
                    is_read=direction == "outbound",
                    status="read" if direction == "outbound" else None,
                )
            last = now - timedelta(minutes=messages[-1][2])
            unread = sum(1 for direction, *_ in messages if direction == "inbound")
            t.Customer.objects.filter(pk=customer.pk).update(last_message_at=last, unread_count=unread)
            conversations.refresh_reply_state(t, [customer.pk])
        self.orders(agent, t, now)

    def orders(self, agent, t, now):
        """Orders as the product makes them (items, totals, history): one confirmed, one delivered last
        week, and a cart Aisha sent on WhatsApp, waiting as a draft for the seller to review."""
        seller = agent.user
        maria = t.Customer.objects.get(phone="+5511987654321")
        order = placing.create_order(
            agent,
            maria,
            [LineItem("Blue ceramic mug", 4, Decimal("8.00"))],
            actor=seller,
            shipping_address="Rua Augusta 500, São Paulo",
        )
        workflow.change_status(agent, order, "confirmed", actor=seller)
        ledger.record_payment(agent, order, amount="12.00", method="bank_transfer", reference="DEMO-TR-1", actor=seller)

        john = t.Customer.objects.get(phone="+14155550123")
        earlier = placing.create_order(
            agent,
            john,
            [LineItem("Linen shirt", 1, Decimal("45.00")), LineItem("Gift wrap", 1, Decimal("2.50"))],
            actor=seller,
            shipping_address="500 Castro St, San Francisco",
        )
        for status in ("confirmed", "processing", "shipped", "delivered"):
            workflow.change_status(agent, earlier, status, actor=seller)
        ledger.record_payment(
            agent, earlier, amount=earlier.total_amount, method="link", reference="DEMO-LINK-1", actor=seller
        )
        t.Order.objects.filter(pk=earlier.pk).update(
            created_at=now - timedelta(days=6), updated_at=now - timedelta(days=4)
        )
        t.OrderEvent.objects.filter(order=earlier).update(created_at=now - timedelta(days=5))

        aisha = t.Customer.objects.get(phone="+2348031234567")
        cart = {
            "from": "2348031234567",
            "id": "wamid.DEMO-CART-1",
            "timestamp": str(int(now.timestamp())),
            "type": "order",
            "order": {
                "catalog_id": DEMO_CATALOG_ID,
                "text": "Size M please",
                "product_items": [
                    {"product_retailer_id": "linen-shirt-m", "quantity": 2, "item_price": 45, "currency": "USD"},
                ],
            },
        }
        message = t.Message.objects.create(
            customer=aisha,
            message="Order: 2 × linen-shirt-m at 45 USD. Total 90 USD. Note: Size M please",
            direction="inbound",
            timestamp=now - timedelta(minutes=10),
            wamid=cart["id"],
            wa_type="order",
            payload=cart,
        )
        conversations.note_new_message(t, message)
        draft_order_from_cart(agent, message)
