"""Row Level Security on the contract's core tables (PostgreSQL only): see crm/rls.py."""

from django.db import migrations

from crm import rls


def enable(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        rls.prepare_database(schema_editor.connection)
        for sql in rls.CORE_POLICIES_SQL:
            schema_editor.execute(sql)


def disable(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in rls.CORE_POLICIES_REVERSE_SQL:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("agents", "0003_quick_replies"),
        ("whatsapp", "0001_initial"),
    ]

    operations = [migrations.RunPython(enable, disable)]
