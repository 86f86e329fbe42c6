from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    """pg_trgm, for the trigram index that makes message search fast in every agent's tables.

    Installed at deploy time by the migrating role; a no-op on SQLite.
    """

    dependencies = [
        ("agents", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),
    ]
