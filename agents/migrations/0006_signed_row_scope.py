"""The row scope checked by the database (crm_row_scope(), crm/rls.py): the core tables' and quick replies'
policies made again on it; a scope set by hand, unsigned, reads no agent's rows."""

from django.db import migrations

from crm import rls


def remake_policies(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        rls.prepare_database(schema_editor.connection)
        for sql in rls.CORE_POLICIES_SQL + rls.keyed_table_policy_sql("agent_quick_replies"):
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("agents", "0005_quick_replies_row_security")]

    operations = [migrations.RunPython(remake_policies, migrations.RunPython.noop, elidable=False)]
