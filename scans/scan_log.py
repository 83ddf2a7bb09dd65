"""The scan log's statements on the verify path: the INSERT (without the ORM's per-row overhead), that INSERT
composed with codes' count in one statement, and the look-up of what a lost try already logged."""

import functools

from django.db import connection, models

from codes import rows
from codes.rows import CodeRow

from .models import Scan, ScanOutcome

_PASSED_AS_IS = (models.CharField, models.BooleanField, models.ForeignKey)


@functools.cache
def _scan_fields(without: tuple[str, ...] = ()) -> tuple:
    return tuple(f for f in Scan._meta.concrete_fields if not f.primary_key and f.attname not in without)


def _scan_row(scan: Scan, without: tuple[str, ...] = ()) -> tuple[str, str, list]:
    """(columns, placeholders, values) of the scan's log entry, the values as the ORM would write them; text,
    flags and ids need no preparing (a third of the cost of building a scan's INSERT went to preparing them)."""
    fields = _scan_fields(without)
    values = []
    for f in fields:
        value = getattr(scan, f.attname)
        values.append(value if isinstance(f, _PASSED_AS_IS) else f.get_db_prep_save(value, connection))
    return ", ".join(f.column for f in fields), ", ".join(["%s"] * len(fields)), values


def log_scan(scan: Scan, *, generation: tuple[int, int] | None = None) -> bool:
    """INSERT the scan log entry (what `scan.save()` does, without the ORM's per-row overhead on the hot path).
    With `generation` (brand id, generation) only while the brand's generation is still that one: False, and
    nothing logged, when it moved (the caller answers again from a fresh product)."""
    columns, placeholders, values = _scan_row(scan)
    sql = f"INSERT INTO scans_scan ({columns}) VALUES ({placeholders}) RETURNING id"  # noqa: S608
    if generation is not None:
        sql = (
            f"INSERT INTO scans_scan ({columns}) SELECT {placeholders} "  # noqa: S608
            "WHERE (SELECT verify_generation FROM brands_brand WHERE id = %s) = %s RETURNING id"
        )
        values = [*values, *generation]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is not None:
        scan.pk = row[0]
    return row is not None


def run_and_log(statement: rows.Statement, scan: Scan, *, expired: bool) -> tuple[CodeRow | None, int | None]:
    """PostgreSQL: run codes' count (or read) of the scanned code and log the scan in the same statement, one
    round trip and one commit for the whole hot path; the log entry's code and outcome follow from the code row
    found. Sets the scan's id; returns the code row (None: no such code) and the brand's current generation."""
    columns, placeholders, values = _scan_row(scan, without=("code_id", "outcome"))
    returned = ", ".join(f"hit.{column}" for column in statement.columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH hit AS ({statement.sql}), "  # noqa: S608 - model column names and placeholders only
            f"logged AS (INSERT INTO scans_scan (code_id, outcome, {columns}) "
            f"SELECT hit.id, CASE WHEN hit.id IS NULL THEN %s WHEN hit.{rows.NOT_LIVE} THEN %s "
            "WHEN hit.status = 'active' AND NOT %s THEN %s "
            f"ELSE %s END, {placeholders} FROM (SELECT 1) AS one LEFT JOIN hit ON true RETURNING id) "
            f"SELECT logged.id, {returned} FROM logged LEFT JOIN hit ON true",
            [
                *statement.params,
                ScanOutcome.NOT_RECOGNISED,
                ScanOutcome.NOT_ACTIVATED,
                expired,
                ScanOutcome.AUTHENTIC,
                ScanOutcome.INACTIVE,
                *values,
            ],
        )
        logged = cursor.fetchone()
    scan.pk = logged[0]
    return statement.result(logged[1:] if logged[1] is not None else None)


def relabel_unverified(scan: Scan) -> None:
    """The brand's claim was withdrawn since this worker cached it: the scan is logged as the answer it got."""
    scan.outcome = ScanOutcome.UNVERIFIED_BRAND
    if scan.pk is not None:
        Scan.objects.filter(pk=scan.pk).update(outcome=ScanOutcome.UNVERIFIED_BRAND, code=None)


def logged_by_first_try(scan: Scan) -> bool:
    """Whether a lost try of this same scan logged it (and so, in the same statement, counted it): found by its
    brand and time (the brand's index), network, code and source. Sets the scan's id when it did."""
    scan.pk = (
        Scan.objects.filter(
            brand_id=scan.brand_id,
            scanned_at=scan.scanned_at,
            ip_hash=scan.ip_hash,
            gtin=scan.gtin,
            serial=scan.serial,
            source=scan.source,
        )
        .values_list("pk", flat=True)
        .first()
    )
    return scan.pk is not None
