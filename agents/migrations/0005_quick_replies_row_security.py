"""Row security on agent_quick_replies: each agent's quick replies only in its own scope (crm/rls.py)."""

from django.db import migrations

from crm import rls


class Migration(migrations.Migration):
    dependencies = [("agents", "0004_row_level_security")]

    operations = [rls.keyed_row_security("agent_quick_replies")]
