"""Model fields for the per-agent tables, which the contract types differently from core tables.

Agent tables use `timestamp` (without time zone, holding UTC here) and serial integer ids.
"""

from datetime import UTC

from django.db import models


class SerialAutoField(models.AutoField):
    """An integer primary key whose default is nextval('<table>_id_seq'), as the contract writes it.

    Django's own AutoField is an identity column on PostgreSQL; `serial` gives the same values with
    the column default the contract names.
    """

    def db_type(self, connection):
        return "serial" if connection.vendor == "postgresql" else super().db_type(connection)

    def db_type_suffix(self, connection):
        return None if connection.vendor == "postgresql" else super().db_type_suffix(connection)


class UTCNow(models.Func):
    """The current UTC time as a `timestamp without time zone`, whatever the session's TimeZone."""

    template = "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')"
    output_field = models.DateTimeField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores datetimes on SQLite as ISO text in UTC with six fractional digits, and
        # compares them as text: pad SQLite's milliseconds to microseconds so that a default time
        # sorts and compares like one Python wrote (keyset pages depend on it).
        # Doubled percent signs: Django %-formats SQL before SQLite sees it.
        return "(strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now') || '000')", []


class UTCDateTimeField(models.DateTimeField):
    """A `timestamp without time zone` column holding UTC, read back as an aware datetime."""

    def db_type(self, connection):
        return "timestamp" if connection.vendor == "postgresql" else super().db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if connection.vendor == "postgresql" and getattr(value, "tzinfo", None) is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def from_db_value(self, value, expression, connection):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value
