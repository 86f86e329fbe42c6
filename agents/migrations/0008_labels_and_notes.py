"""Labels on customers and private notes: tables every agent shares, each under row security."""

import django.db.models.deletion
import django.db.models.functions.datetime
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

from crm import rls


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0007_shops"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Label",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=40)),
                (
                    "colour",
                    models.CharField(
                        choices=[
                            ("green", "Green"),
                            ("teal", "Teal"),
                            ("blue", "Blue"),
                            ("purple", "Purple"),
                            ("pink", "Pink"),
                            ("red", "Red"),
                            ("orange", "Orange"),
                            ("yellow", "Yellow"),
                            ("brown", "Brown"),
                            ("grey", "Grey"),
                        ],
                        default="green",
                        max_length=16,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False),
                ),
                (
                    "agent",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="labels", to="agents.agent"
                    ),
                ),
            ],
            options={
                "db_table": "agent_labels",
                "ordering": ["name", "id"],
            },
        ),
        migrations.CreateModel(
            name="CustomerLabel",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("customer_id", models.IntegerField()),
                (
                    "created_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False),
                ),
                (
                    "agent",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="agents.agent"),
                ),
                (
                    "label",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="assignments", to="agents.label"
                    ),
                ),
            ],
            options={
                "db_table": "agent_customer_labels",
            },
        ),
        migrations.CreateModel(
            name="CustomerNote",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("customer_id", models.IntegerField()),
                ("author_name", models.CharField(max_length=150)),
                ("text", models.TextField(max_length=4000)),
                (
                    "created_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False),
                ),
                (
                    "agent",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="agents.agent"),
                ),
                (
                    "author",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": "agent_customer_notes",
                "ordering": ["created_at", "id"],
                "indexes": [
                    models.Index(fields=["agent", "customer_id", "created_at"], name="agent_customer_notes_customer")
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="label",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                models.F("agent"),
                name="agent_labels_unique_name",
                violation_error_message="You already have a label with this name.",
            ),
        ),
        migrations.AddIndex(
            model_name="customerlabel",
            index=models.Index(fields=["agent", "customer_id"], name="agent_customer_labels_customer"),
        ),
        migrations.AddConstraint(
            model_name="customerlabel",
            constraint=models.UniqueConstraint(fields=("label", "customer_id"), name="agent_customer_labels_unique"),
        ),
        # Each agent's labels, labelled customers and notes only in its own scope (crm/rls.py).
        rls.keyed_row_security("agent_labels"),
        rls.keyed_row_security("agent_customer_labels"),
        rls.keyed_row_security("agent_customer_notes"),
    ]
