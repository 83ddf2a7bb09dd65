"""The scan log's monthly partitions on PostgreSQL: created ahead by beat, dropped whole by retention.

`scans_scan` is partitioned by RANGE (scanned_at), one partition per calendar month in UTC (`scans_scan_p202607`
holds July 2026), plus a DEFAULT partition. Beat keeps this month and the next MONTHS_AHEAD created, so in normal
running every scan lands in its month and the default partition stays empty; the default is the safety net that
keeps a scan from ever failing to insert (beat down for months, a clock far off, a back-dated import). When it
does hold rows, creating their month moves them out first: PostgreSQL refuses a new partition whose rows sit in
the default partition.

Retention drops whole months (`DROP TABLE` of a partition: no row DELETEs, no bloat, no vacuum), after rolling
the brands' days up (the overview reads the rollups, not the log) and unlinking what points at the dropped scans.
On SQLite (the embedded mode) the log is a plain table: nothing to create, and retention deletes rows.
"""

import logging
import re
from datetime import UTC, date, datetime

from django.db import connection, transaction
from django.utils import timezone

from brands.models import Brand

from . import rollups
from .models import AlertEvidence, CounterfeitReport, Scan

log = logging.getLogger(__name__)

TABLE = "scans_scan"
DEFAULT_PARTITION = "scans_scan_default"
MONTHS_AHEAD = 3
MONTH_NAME = re.compile(r"^scans_scan_p(\d{4})(\d{2})$")
# Partition DDL waits at most this long for a lock (a long report query on the log); beat retries the next day,
# so the verify path's INSERTs are never queued behind it for longer.
LOCK_TIMEOUT = "2s"


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_p{month:%Y%m}"


def _bound(month: date) -> str:
    return f"{month:%Y-%m-%d} 00:00:00+00"


def is_partitioned() -> bool:
    """Whether the scan log is a partitioned table here (PostgreSQL after migration scans 0008)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def monthly_partitions() -> dict[date, str]:
    """{first day of month: partition name}, oldest first; the default partition is not a month."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        names = [name for (name,) in cursor.fetchall()]
    months = {date(int(m[1]), int(m[2]), 1): m[0] for m in map(MONTH_NAME.match, names) if m}
    return dict(sorted(months.items()))


def create_partitions(*, months_ahead: int = MONTHS_AHEAD, today: date | None = None) -> list[str]:
    """Make sure this month, the next `months_ahead` and every month with rows in the default partition have
    their own partition. Idempotent: a repeat creates nothing. Returns the partitions created."""
    if not is_partitioned():
        return []
    this_month = month_of(today or timezone.now().astimezone(UTC).date())
    wanted = {add_months(this_month, n) for n in range(months_ahead + 1)} | set(_months_in_default())
    created = []
    for month in sorted(wanted - set(monthly_partitions())):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            # One maintainer at a time (beat, a deploy's migrate): the second waits, then finds the month made.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])
            if month in monthly_partitions():
                continue
            _create_month(cursor, month)
        created.append(partition_name(month))
        log.info("scan log: created partition %s", partition_name(month))
    return created


def _months_in_default() -> list[date]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', scanned_at AT TIME ZONE 'UTC')::date FROM {DEFAULT_PARTITION}"  # noqa: S608
        )
        return [month for (month,) in cursor.fetchall()]


def _create_month(cursor, month: date) -> None:
    """Create a month's partition as a table of its own, move its rows out of the default partition, attach it.

    ATTACH takes a SHARE UPDATE EXCLUSIVE lock on the log, which INSERTs and SELECTs pass; `CREATE TABLE …
    PARTITION OF` would take ACCESS EXCLUSIVE and queue the verify path's INSERTs behind any running query."""
    name, start, end = partition_name(month), _bound(month), _bound(add_months(month, 1))
    cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING STORAGE)")
    columns = ", ".join(str(f.column) for f in Scan._meta.concrete_fields)
    # No scan of this month may slip into the default partition between the move and the attach.
    cursor.execute(f"LOCK TABLE {DEFAULT_PARTITION} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE scanned_at >= %s AND scanned_at < %s "  # noqa: S608
        f"RETURNING {columns}) INSERT INTO {name} ({columns}) SELECT {columns} FROM moved",
        [start, end],
    )
    # The bounds as a CHECK first: ATTACH then trusts it instead of scanning the new partition under its lock.
    cursor.execute(
        f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds CHECK (scanned_at >= '{start}' AND scanned_at < '{end}')"
    )
    # Attaching builds the log's indexes on the new partition (indexes are per partition).
    cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ('{start}') TO ('{end}')")
    cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds")


def retention_cutoff(*, months: int, now: datetime | None = None) -> date:
    """The first day of the oldest month kept: the current month and the `months` before it stay whole."""
    return add_months(month_of((now or timezone.now()).astimezone(UTC).date()), -months)


def drop_months_before(*, cutoff: date) -> int:
    """Remove every scan from before `cutoff` (the first day of a month): whole partitions on PostgreSQL, rows
    elsewhere. Returns how many scans went.

    First every brand with scans there is rolled up (the overview's numbers live on in DailyScans); then what
    points at those scans lets go, as the foreign keys' on_delete says (a report keeps its text and loses its
    scan; an alert keeps its count and loses that piece of evidence); then the scans go, in one transaction
    with the unlinking."""
    partitioned = is_partitioned()
    if partitioned:
        create_partitions()  # rows waiting in the default partition get their month, so they can go too
    start = datetime(cutoff.year, cutoff.month, 1, tzinfo=UTC)
    old = Scan.objects.filter(scanned_at__lt=start)
    for brand in Brand.objects.filter(pk__in=old.values("brand_id")):
        rollups.roll_up(brand)
    months = [(month, name) for month, name in monthly_partitions().items() if month < cutoff] if partitioned else []
    with transaction.atomic():
        CounterfeitReport.objects.filter(scan_id__in=old.values("id")).update(scan=None)
        AlertEvidence.objects.filter(scan_id__in=old.values("id")).delete()
        if not partitioned:
            return old.delete()[1].get(Scan._meta.label, 0)
        dropped = 0
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            for _, name in months:
                cursor.execute(f"SELECT count(*) FROM {name}")  # noqa: S608 - our own partition names
                dropped += cursor.fetchone()[0]
                cursor.execute(f"DROP TABLE {name}")
                log.info("scan log: dropped partition %s", name)
    return dropped
