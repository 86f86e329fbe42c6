"""Row security on the alerts tables: each agent's subscriptions and settings only in its own scope."""

import pytest
from django.db import DatabaseError, transaction

from alerts.models import AlertSettings, PushSubscription
from crm import rls
from crm.tests.test_row_level_security import rows, two_shops  # noqa: F401  (the fixture)

pytestmark = pytest.mark.postgres


def subscription(agent, endpoint):
    return PushSubscription(agent=agent, user=agent.user, endpoint=endpoint, p256dh="key", auth="secret")


def test_the_alerts_tables_show_each_agent_only_its_own_rows(two_shops):  # noqa: F811
    alice, bea = two_shops
    for agent in two_shops:
        subscription(agent, f"https://push.example.com/{agent.name}").save()
        AlertSettings.objects.create(agent=agent, user=agent.user, show_message_text=True)
    with rls.agent_scope(alice):
        assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [
            f"https://push.example.com/{alice.name}"
        ]
        assert list(AlertSettings.objects.values_list("agent_id", flat=True)) == [alice.pk]
        for table in ("alert_push_subscriptions", "alert_settings"):
            assert rows(f"DELETE FROM {table} WHERE agent_id = %s RETURNING id", [bea.pk]) == []
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            subscription(bea, "https://push.example.com/planted").save()
    with rls.scope(rls.NOBODY):
        assert PushSubscription.objects.count() == AlertSettings.objects.count() == 0
    assert PushSubscription.objects.count() == AlertSettings.objects.count() == 2
