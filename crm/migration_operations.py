"""Migration operations for the contract's core tables (users, agents, whatsapp_configuration).

`adopt_database` adds every column the app's models have to a contract database before `migrate
--fake-initial` runs, so a later migration that adds a column to a core table finds it there already
on an adopted database, and only there.
"""

from django.db import migrations


class AddCoreField(migrations.AddField):
    """AddField that leaves the table alone when the column is already present (an adopted database)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        connection = schema_editor.connection
        if not self.allow_migrate_model(connection.alias, model):
            return
        column = model._meta.get_field(self.name).column
        with connection.cursor() as cursor:
            present = {c.name for c in connection.introspection.get_table_description(cursor, model._meta.db_table)}
        if column not in present:
            super().database_forwards(app_label, schema_editor, from_state, to_state)
