"""The audit log: what record() stores, who may read it in the admin, and the actions that write it."""

import io
import sys
from datetime import UTC, datetime
from decimal import Decimal

from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

import audit
from accounts.models import Role
from accounts.tests.test_login import PASSWORD, log_in
from accounts.tests.test_two_factor import log_in_with_code, set_up_two_factor
from agents import tables
from agents.models import Agent
from audit.models import AuditEvent
from crm.proxies import client_ip
from whatsapp.models import WhatsAppConfiguration

TOKEN = "EAAGm0PX4ZCpsBAKaudit-token-value-77aa"


def actions():
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def test_record_keeps_who_what_when_the_object_and_the_source_address(make_agent, admin_user):
    agent = make_agent(name="Rosa's Bakery")
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7")
    event = audit.record("agent.renamed", actor=admin_user, target=agent, request=request, old="Rosa", new="Rosa's")

    event.refresh_from_db()
    assert event.action == "agent.renamed" and event.at is not None
    assert (event.actor, event.actor_label) == (admin_user, admin_user.email)
    assert (event.target_type, event.target_id, event.target_label) == ("agents", str(agent.pk), "Rosa's Bakery")
    assert event.ip_address == "198.51.100.7"
    assert event.details == {"old": "Rosa", "new": "Rosa's"}


def test_record_names_agent_table_objects_by_their_table(make_agent):
    agent = make_agent()
    customer = tables.for_agent(agent).Customer.objects.create(name="Ana", phone="+14155550100")
    event = audit.record("customer.transferred", actor=None, target=customer, to_agent=7)
    assert (event.target_type, event.target_id) == (f"{agent.agent_prefix}_customers", str(customer.pk))
    assert event.actor is None and event.actor_label == "" and event.ip_address is None


def test_the_actor_keeps_its_name_after_the_user_is_deleted(make_user):
    user = make_user()
    event = audit.record("login.succeeded", actor=user, target=None)
    user.delete()
    event.refresh_from_db()
    assert event.actor is None and event.actor_label == user.email


def test_details_may_hold_decimals_dates_and_uuids(make_user):
    user = make_user()
    event = audit.record(
        "order.status_changed",
        actor=user,
        target=None,
        total=Decimal("12.50"),
        at=datetime(2026, 1, 2, tzinfo=UTC),
        user_id=user.pk,
    )
    event.refresh_from_db()
    assert event.details == {"total": "12.50", "at": "2026-01-02T00:00:00Z", "user_id": str(user.pk)}


class TestClientAddress:
    def test_forwarded_for_is_ignored_unless_proxies_are_trusted(self, settings):
        settings.TRUSTED_PROXY_COUNT = 0
        request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4")
        assert client_ip(request) == "10.0.0.2"

    def test_with_one_trusted_proxy_the_rightmost_forwarded_address_is_the_client(self, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
        assert client_ip(request) == "203.0.113.9"

    def test_with_two_trusted_proxies_the_second_from_the_right(self, settings):
        settings.TRUSTED_PROXY_COUNT = 2
        request = RequestFactory().get(
            "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9, 10.0.0.1"
        )
        assert client_ip(request) == "203.0.113.9"

    def test_missing_or_garbage_forwarded_for_falls_back_to_the_peer(self, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        assert client_ip(RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"
        garbage = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="<script>")
        assert client_ip(garbage) == "10.0.0.2"


class TestAdmin:
    def test_admins_read_the_log(self, client, admin_user):
        audit.record("login.failed", actor=None, target=admin_user, email=admin_user.email)
        client.force_login(admin_user)
        page = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
        assert "login.failed" in page
        event = AuditEvent.objects.get(action="login.failed")
        detail = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
        assert detail.status_code == 200 and admin_user.email in detail.content.decode()

    def test_nobody_adds_edits_or_deletes_events(self, client, super_admin):
        event = audit.record("login.failed", actor=None, target=None)
        client.force_login(super_admin)
        assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
        assert (
            client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
        )
        client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "edited"})
        client.post(
            reverse("admin:audit_auditevent_changelist"),
            {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
        )
        assert AuditEvent.objects.get(pk=event.pk).action == "login.failed"

    def test_agents_cannot_see_it(self, client, make_agent):
        client.force_login(make_agent().user)
        response = client.get(reverse("admin:audit_auditevent_changelist"))
        assert response.status_code == 302 and "/login/" in response.url


class TestLogins:
    def test_a_login_and_a_logout(self, client, make_user):
        user = make_user()
        log_in(client, user.email, PASSWORD)
        client.post(reverse("logout"))
        login, logout = AuditEvent.objects.order_by("id")
        assert (login.action, login.actor, login.ip_address) == ("login.succeeded", user, "127.0.0.1")
        assert (logout.action, logout.actor) == ("logout", user)

    def test_failures_then_the_lock_then_refused_attempts(self, client, make_user):
        user = make_user()
        for _ in range(6):
            log_in(client, user.email.upper(), "wrong")
        log_in(client, user.email, PASSWORD)
        assert actions() == ["login.failed"] * 5 + ["login.locked_out", "login.throttled"]
        locked = AuditEvent.objects.get(action="login.locked_out")
        assert locked.details["email"] == user.email and locked.details["failures"] == 6
        assert locked.target_id == str(user.pk) and locked.actor is None

    def test_a_failure_for_an_unknown_email(self, client, db):
        log_in(client, "nobody@example.com", "whatever")
        event = AuditEvent.objects.get()
        assert (event.action, event.target_id, event.details["email"]) == ("login.failed", "", "nobody@example.com")
        assert "whatever" not in str(event.details)


class TestAgentsAndUsers:
    def test_creating_and_deleting_an_agent_in_the_admin(self, client, super_admin, make_user):
        owner = make_user()
        client.force_login(super_admin)
        client.post(reverse("admin:agents_agent_add"), {"name": "Shop", "user": owner.pk})
        agent = Agent.objects.get(name="Shop")
        client.post(reverse("admin:agents_agent_delete", args=[agent.pk]), {"post": "yes"})

        created, deleted = AuditEvent.objects.filter(action__startswith="agent.").order_by("id")
        assert (created.action, created.actor, created.target_id) == ("agent.created", super_admin, str(agent.pk))
        assert created.details["user"] == owner.email and created.ip_address == "127.0.0.1"
        assert (deleted.action, deleted.actor, deleted.target_label) == ("agent.deleted", super_admin, "Shop")
        assert deleted.details["rows_dropped"] == {
            "customers": 0,
            "messages": 0,
            "orders": 0,
            "orders_items": 0,
            "order_events": 0,
        }

    def test_bulk_deleting_agents_records_each(self, client, super_admin, make_agent):
        agents = [make_agent(), make_agent()]
        client.force_login(super_admin)
        client.post(
            reverse("admin:agents_agent_changelist"),
            {"action": "delete_selected", "_selected_action": [a.pk for a in agents], "post": "yes"},
        )
        assert not Agent.objects.exists()
        assert AuditEvent.objects.filter(action="agent.deleted").count() == 2

    def test_the_create_agent_command_records_who_created_it(self, make_user, admin_user):
        call_command("create_agent", user=make_user().email, created_by=admin_user.email, stdout=io.StringIO())
        assert AuditEvent.objects.get(action="agent.created").actor == admin_user

    def test_reassigning_an_agent_to_another_user(self, client, super_admin, make_agent, make_user):
        agent, new_owner = make_agent(name="Shop"), make_user()
        client.force_login(super_admin)
        client.post(reverse("admin:agents_agent_change", args=[agent.pk]), {"name": "Shop", "user": new_owner.pk})
        event = AuditEvent.objects.get(action="agent.changed")
        assert event.details["changes"]["user"] == {"from": str(agent.user), "to": str(new_owner)}

    def test_creating_a_user_and_changing_a_role_in_the_admin(self, client, super_admin):
        client.force_login(super_admin)
        client.post(
            reverse("admin:accounts_user_add"),
            {
                "email": "new@example.com",
                "name": "New",
                "role": "agent",
                "password1": "x-long-pass-1",
                "password2": "x-long-pass-1",
            },
        )
        created = AuditEvent.objects.get(action="user.created")
        assert created.actor == super_admin and created.details["role"] == "agent"

        user_id = created.target_id
        client.post(
            reverse("admin:accounts_user_change", args=[user_id]),
            {"email": "new@example.com", "name": "New", "role": "admin", "is_active": "on"},
        )
        changed = AuditEvent.objects.get(action="user.role_changed")
        assert changed.details["changes"] == {"role": {"from": "agent", "to": "admin"}}

        client.post(
            reverse("admin:accounts_user_change", args=[user_id]),
            {"email": "new@example.com", "name": "New", "role": "admin"},
        )
        assert AuditEvent.objects.get(action="user.changed").details["changes"] == {
            "is_active": {"from": True, "to": False}
        }

    def test_deleting_a_user_in_the_admin(self, client, super_admin, make_user):
        user = make_user(role=Role.AGENT)
        client.force_login(super_admin)
        client.post(reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"})
        event = AuditEvent.objects.get(action="user.deleted")
        assert event.target_label == str(user) and event.actor == super_admin

    def test_the_create_user_command(self, db):
        call_command(
            "create_user", email="c@example.com", name="C", role="admin", password=PASSWORD, stdout=io.StringIO()
        )
        event = AuditEvent.objects.get(action="user.created")
        assert event.actor is None and event.details == {"role": "admin", "source": "create_user command"}


class TestTwoFactorEvents:
    def test_setting_up_and_logging_in_with_a_code(self, client, admin_user):
        set_up_two_factor(client, admin_user)
        client.post(reverse("login_verify"), {"code": "000000"})  # no login pending: nothing to record
        log_in(client, admin_user.email)
        client.post(reverse("login_verify"), {"code": "000000"})
        # django-otp makes a device wait a second after a wrong code; a person takes longer than that.
        TOTPDevice.objects.update(throttling_failure_count=0, throttling_failure_timestamp=None)
        log_in_with_code(client, admin_user)
        recorded = actions()
        assert recorded[:4] == ["login.succeeded", "two_factor.setup_started", "two_factor.enabled", "logout"]
        failure = AuditEvent.objects.get(action="login.failed")
        assert failure.details["step"] == "second factor"
        assert AuditEvent.objects.filter(action="login.succeeded", details__second_factor="Authenticator app").exists()


class TestWhatsAppConfiguration:
    def configure(self, user, token):
        stdin, sys.stdin = sys.stdin, io.StringIO(token)
        try:
            call_command(
                "configure_whatsapp",
                user=user.email,
                whatsapp_number="+14155550100",
                phone_number_id="1234567890",
                stdout=io.StringIO(),
            )
        finally:
            sys.stdin = stdin

    def test_the_command_records_creation_and_token_changes_without_the_token(self, make_agent):
        agent = make_agent()
        self.configure(agent.user, TOKEN)
        self.configure(agent.user, TOKEN + "-new")
        created, changed = AuditEvent.objects.filter(action__startswith="whatsapp.").order_by("id")
        assert created.action == "whatsapp.configuration_created"
        assert created.details["values"]["phone_number_id"] == "1234567890"
        assert changed.action == "whatsapp.access_token_changed"
        assert all(TOKEN not in str(event.details) for event in AuditEvent.objects.all())

    def test_the_admin_records_field_and_token_changes(self, client, admin_user, make_agent):
        agent = make_agent()
        self.configure(agent.user, TOKEN)
        configuration = WhatsAppConfiguration.objects.get()
        client.force_login(admin_user)
        form = {
            "user": agent.user.pk,
            "agent": "",
            "whatsapp_number": "+14155550199",
            "phone_number_id": "1234567890",
            "business_account_id": "",
            "webhook_url": configuration.webhook_url,
            "is_active": "on",
            "new_access_token": "EAAG-admin-typed-token-0000",
        }
        response = client.post(reverse("admin:whatsapp_whatsappconfiguration_change", args=[configuration.pk]), form)
        assert response.status_code == 302

        changed = AuditEvent.objects.get(action="whatsapp.configuration_changed")
        assert changed.details["changes"] == {"whatsapp_number": {"from": "+14155550100", "to": "+14155550199"}}
        assert changed.actor == admin_user
        assert AuditEvent.objects.filter(action="whatsapp.access_token_changed", actor=admin_user).exists()
        log = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
        assert "admin-typed-token" not in log and "admin-typed-token" not in str(
            list(AuditEvent.objects.values_list("details", flat=True))
        )

    def test_deleting_a_configuration_in_the_admin(self, client, admin_user, make_agent):
        agent = make_agent()
        self.configure(agent.user, TOKEN)
        configuration = WhatsAppConfiguration.objects.get()
        client.force_login(admin_user)
        client.post(reverse("admin:whatsapp_whatsappconfiguration_delete", args=[configuration.pk]), {"post": "yes"})
        assert AuditEvent.objects.get(action="whatsapp.configuration_deleted").target_id == str(configuration.pk)
