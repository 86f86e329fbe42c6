"""Row security on the tables of whatsapp that hold one agent's data (crm/rls.py): webhook events (which now
name the agent they were routed to; those already processed are given theirs), media downloads and message
templates (those of the configurations of the scoped agent's user)."""

import django.db.models.deletion
from django.db import migrations, models

from crm import rls

# Each processed event's agent, by the routing rule (whatsapp.configuration.route) as it stands now.
ROUTED_EVENTS_SQL = """
UPDATE whatsapp_webhook_events e
   SET agent_id = coalesce(c.agent_id, (SELECT a.id FROM agents a WHERE a.user_id = c.user_id
                                         ORDER BY a.created_at, a.id LIMIT 1))
  FROM whatsapp_configuration c
 WHERE c.is_active AND c.phone_number_id = e.phone_number_id AND e.phone_number_id <> ''
   AND e.state IN ('processed', 'failed') AND e.agent_id IS NULL
"""


def name_routed_events(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ROUTED_EVENTS_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0006_signed_row_scope"),
        ("whatsapp", "0004_media_downloads"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookevent",
            name="agent",
            field=models.ForeignKey(
                blank=True,
                help_text="The agent the event was routed to (set by processing). Row security shows an event only "
                "in this agent's scope; one not routed yet, only to the unrestricted scope.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="agents.agent",
            ),
        ),
        migrations.RunPython(name_routed_events, migrations.RunPython.noop, elidable=False),
        rls.keyed_row_security("whatsapp_webhook_events"),
        rls.keyed_row_security("whatsapp_media_downloads"),
        rls.configuration_row_security("whatsapp_message_templates"),
    ]
