"""Row security on order_status_templates: each agent's choices only in its own scope (crm/rls.py)."""

from django.db import migrations

from crm import rls


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_status_templates")]

    operations = [rls.keyed_row_security("order_status_templates")]
