"""Push subscriptions and alert settings: core tables every agent shares, with row security keyed on the agent."""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models

from crm import rls


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("agents", "0005_quick_replies_row_security"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AlertSettings",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "show_message_text",
                    models.BooleanField(
                        db_default=False,
                        default=False,
                        help_text="Notifications show what the customer wrote (it then passes through the push service, encrypted).",
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(auto_now=True, db_default=django.db.models.functions.datetime.Now()),
                ),
                (
                    "agent",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="alert_settings", to="agents.agent"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="alert_settings",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": "alert_settings",
                "constraints": [models.UniqueConstraint(fields=("agent", "user"), name="alert_settings_unique_user")],
            },
        ),
        migrations.CreateModel(
            name="PushSubscription",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("endpoint", models.TextField()),
                ("p256dh", models.TextField()),
                ("auth", models.TextField()),
                (
                    "created_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False),
                ),
                ("last_pushed_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "agent",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="push_subscriptions",
                        to="agents.agent",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="push_subscriptions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": "alert_push_subscriptions",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("agent", "endpoint"), name="alert_push_subscriptions_unique_endpoint"
                    )
                ],
            },
        ),
        # Row security: each agent's rows only in its own scope (crm/rls.py).
        rls.keyed_row_security("alert_push_subscriptions"),
        rls.keyed_row_security("alert_settings"),
    ]
