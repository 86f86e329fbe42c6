"""database/schema/*.sql: generated from the declarations, and rewritten by write_schema_sql."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agents import schema_sql

# The files.


@pytest.mark.postgres
def test_the_committed_files_are_what_the_declarations_give(db):
    assert schema_sql.stale_files() == [], "run `python manage.py write_schema_sql` and commit database/schema/"


@pytest.mark.postgres
def test_write_schema_sql_writes_the_files_and_check_finds_one_that_drifted(db, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(schema_sql, "SCHEMA_DIRECTORY", tmp_path)

    call_command("write_schema_sql")
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(schema_sql.FILE_NAMES)
    assert f"wrote {tmp_path / 'create_agent_function.sql'}" in capsys.readouterr().out
    call_command("write_schema_sql", "--check")

    edited = tmp_path / "core_tables.sql"
    edited.write_text(edited.read_text().replace('"name" varchar(255)', '"name" text'))
    with pytest.raises(CommandError, match="core_tables.sql in .* differ from the declarations"):
        call_command("write_schema_sql", "--check")
    call_command("write_schema_sql")
    assert schema_sql.stale_files(tmp_path) == []
