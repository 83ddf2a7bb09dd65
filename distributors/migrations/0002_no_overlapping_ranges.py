"""Current assignments of a batch never overlap, nor do its cartons: held by PostgreSQL itself, so two
admins assigning at the same instant cannot both win. SQLite (embedded mode) relies on the services'
locked check and SQLite's single writer."""

from django.db import migrations

CONSTRAINTS = [
    (
        "distributors_assignment",
        "assignment_no_overlap",
        "EXCLUDE USING gist (batch_id WITH =, int8range(first_position, last_position, '[]') WITH &&) "
        "WHERE (ended_at IS NULL)",
    ),
    (
        "distributors_carton",
        "carton_no_overlap",
        "EXCLUDE USING gist (batch_id WITH =, int8range(first_position, last_position, '[]') WITH &&)",
    ),
]


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for table, name, definition in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _definition in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("distributors", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
