"""The scan log becomes a table partitioned by month on PostgreSQL (scans.partitions keeps it so afterwards).

The old table is renamed aside, a partitioned `scans_scan` made with the same columns, a partition per month
that has rows plus this month and the next three (and a DEFAULT partition, so no scan ever fails to insert),
the rows copied, the id sequence carried on, the old table dropped, then the primary key and the same indexes
built (on a partitioned table each partition gets its own). PostgreSQL requires the primary key to hold the
partition key, so the database's key is (id, scanned_at) while Django keeps `id` as the model's pk: ids still
come from one sequence and stay unique. The ORM, the admin and the two foreign keys that point at a scan work
unchanged; those foreign keys have no database constraint, since a partitioned table can only be referenced
through its whole key (the first operation drops the one that had it).

SQLite (the embedded mode) keeps a plain table: the RunPython steps do nothing there. Everything runs in the
migration's transaction; the copy holds an exclusive lock on the log for its duration.
"""

from datetime import date

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

TABLE = "scans_scan"
MONTHS_AHEAD = 3


def _add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _relkind(cursor, table: str) -> str | None:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
    row = cursor.fetchone()
    return row[0] if row else None


def _index_definitions(cursor, table: str) -> list[str]:
    """CREATE INDEX statements of the table's indexes other than its primary key (they name `public.<table>`)."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = to_regclass(%s) AND NOT i.indisprimary",
        [table],
    )
    return [definition for (definition,) in cursor.fetchall()]


def _columns(cursor, table: str) -> str:
    cursor.execute(
        "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
        [table],
    )
    return cursor.fetchone()[0]


def partition_by_month(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if _relkind(cursor, TABLE) != "r":
            return
        indexes = _index_definitions(cursor, TABLE)
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SELECT pg_get_serial_sequence('{TABLE}', 'id')")
        sequence = cursor.fetchone()[0]
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608
        last_value, is_called = cursor.fetchone()
        cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {TABLE}")  # noqa: S608
        next_id = max(last_value if is_called else last_value - 1, cursor.fetchone()[0]) + 1
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', scanned_at AT TIME ZONE 'UTC')::date FROM {TABLE}"  # noqa: S608
        )
        months = {month for (month,) in cursor.fetchall()}

        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_unpartitioned")
        # Frees the sequence's name: an identity column (as Django made it) or a plain owned sequence (as the
        # reverse of this migration leaves it).
        cursor.execute(
            "SELECT attidentity FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = 'id'",
            [f"{TABLE}_unpartitioned"],
        )
        if cursor.fetchone()[0]:
            cursor.execute(f"ALTER TABLE {TABLE}_unpartitioned ALTER COLUMN id DROP IDENTITY")
        else:
            cursor.execute(f"ALTER TABLE {TABLE}_unpartitioned ALTER COLUMN id DROP DEFAULT")
            cursor.execute(f"DROP SEQUENCE {sequence}")
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {TABLE}_unpartitioned INCLUDING DEFAULTS INCLUDING STORAGE) "
            "PARTITION BY RANGE (scanned_at)"
        )
        # PostgreSQL 15 has no identity columns on partitioned tables: a sequence owned by the column instead
        # (pg_get_serial_sequence, which Django uses to reset it, finds it the same way).
        cursor.execute(f"CREATE SEQUENCE {TABLE}_id_seq START WITH {next_id} OWNED BY {TABLE}.id")
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")

        this_month = timezone.now().date().replace(day=1)
        months |= {_add_months(this_month, n) for n in range(MONTHS_AHEAD + 1)}
        for month in sorted(months):
            start, end = f"{month:%Y-%m-%d} 00:00:00+00", f"{_add_months(month, 1):%Y-%m-%d} 00:00:00+00"
            cursor.execute(
                f"CREATE TABLE {TABLE}_p{month:%Y%m} PARTITION OF {TABLE} FOR VALUES FROM ('{start}') TO ('{end}')"
            )
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")

        columns = _columns(cursor, TABLE)
        cursor.execute(f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM {TABLE}_unpartitioned")  # noqa: S608
        cursor.execute(f"DROP TABLE {TABLE}_unpartitioned")
        # Built after the copy (faster than maintaining them row by row); the index names stay Django's.
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, scanned_at)")
        for definition in indexes:
            cursor.execute(definition)
        cursor.execute(f"ANALYZE {TABLE}")


def back_to_one_table(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if _relkind(cursor, TABLE) != "p":
            return
        indexes = _index_definitions(cursor, TABLE)
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_partitioned")
        cursor.execute(f"ALTER SEQUENCE {TABLE}_id_seq OWNED BY NONE")  # else it would go with the old table
        cursor.execute(f"CREATE TABLE {TABLE} (LIKE {TABLE}_partitioned INCLUDING DEFAULTS INCLUDING STORAGE)")
        cursor.execute(f"ALTER SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
        columns = _columns(cursor, TABLE)
        cursor.execute(f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM {TABLE}_partitioned")  # noqa: S608
        cursor.execute(f"DROP TABLE {TABLE}_partitioned")  # with its partitions and their indexes
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
        for definition in indexes:  # a partitioned table's read "ON ONLY": this one has no partitions
            cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))


class Migration(migrations.Migration):
    dependencies = [
        ("scans", "0007_report_status_and_daily_scans"),
    ]

    operations = [
        migrations.AlterField(
            model_name="counterfeitreport",
            name="scan",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="scans.scan",
            ),
        ),
        migrations.RunPython(partition_by_month, back_to_one_table, elidable=False),
    ]
