"""Every SQL statement on the code table (`codes_code`), and the typed row the verify path reads back.

Verify counts a scan on its code and logs it in one round trip: `count` and `find` return their statement
(text, parameters, returned columns) for the caller to run alone or inside its own `WITH`, so the scan log's
INSERT rides in the same statement. The other writes run here: a PIN's first use, a confirmed page view's
count, a consumer's precise first place, and the recall sweep and its undo. A new column verify reads is added
here once (`COLUMNS` or `DETECT_COLUMNS`, and `CodeRow`), nowhere else. New codes are inserted here too (`insert`,
`copying`). A trading partner's verification request reads the same row through `sight`, which feeds
detection without counting a scan.
"""

import functools
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone
from psycopg import Copy
from psycopg.copy import QueuedLibpqWriter

from . import packstates
from .models import Code, CodeBatch, CodeStatus

TABLE = "codes_code"
COLUMNS = ("id", "status", "scan_count", "first_scanned_at", "first_scanned_in", "pin_first_used_at")
# Detection state after a count (see codes.models.Code): returned only when detection is on.
DETECT_COLUMNS = ("seen_regions", "seen_devices", "prev_fix", "suspect_at", "status_change_id")
MATCH = "product_id = %s AND ordinal = %s AND serial = %s"
# The brand's current generation (one parameter: the brand id), returned with the code row for free: a worker
# whose cached product is older reloads it, so approvals and branding reach every worker's next verify.
GENERATION = "(SELECT verify_generation FROM brands_brand WHERE id = %s) AS generation"
# A unit not yet activated is never counted: its scans are logged (a leak's evidence), but they must not use up
# its first scan nor feed copy detection, so every SET of the count keeps such a row as it was.
NOT_LIVE = f"status = '{packstates.NOT_ACTIVATED}'"  # a fixed word of ours, not a value
# The per-code sets are `;`-terminated entries in one short text column; they stop growing at this length
# (a code seen from 25 regions is a copy whatever the threshold; counting on would only cost bytes).
SET_MAX_CHARS = 250
COPY_PIECE = 5_000  # rows formatted and queued at a time while a psycopg thread sends the previous ones


@dataclass(frozen=True)
class CodeRow:
    """A code as the verify path reads it back from a count or a read."""

    code_id: int
    status: str
    scan_count: int
    first_scanned_at: datetime | None
    first_scanned_in: str
    pin_first_used_at: datetime | None
    # Detection state after this scan; None on a read without detection or with detection off.
    seen_regions: str | None = None
    seen_devices: str | None = None
    prev_fix: str | None = None
    suspect_at: datetime | None = None
    status_change_id: int | None = None

    @classmethod
    def of(cls, values: dict) -> "CodeRow":
        """The row from returned values by column name (extra names, such as the generation, are ignored)."""
        return cls(
            code_id=values["id"],
            status=values["status"],
            scan_count=values["scan_count"],
            first_scanned_at=aware(values["first_scanned_at"]),
            first_scanned_in=values["first_scanned_in"],
            pin_first_used_at=aware(values["pin_first_used_at"]),
            seen_regions=values.get("seen_regions"),
            seen_devices=values.get("seen_devices"),
            prev_fix=values.get("prev_fix"),
            suspect_at=aware(values.get("suspect_at")),
            status_change_id=values.get("status_change_id"),
        )


@dataclass(frozen=True)
class Seen:
    """What one counted scan adds to its code's detection state ('' where unknown): the scan's region, its
    device, and its located fix (encoded, see scans.rules.Fix)."""

    region: str
    device: str
    fix: str

    def params(self) -> list[str]:
        """The parameters of the detection SETs, in their order (each value appears three times)."""
        return [self.region] * 3 + [self.device] * 3 + [self.fix] * 3


@dataclass(frozen=True)
class Statement:
    """One statement on the code table, to run alone (`run`) or inside the caller's own statement: its text,
    parameters, and the columns it returns, in order."""

    sql: str
    params: list
    columns: tuple[str, ...]

    def result(self, values) -> tuple[CodeRow | None, int | None]:
        """(the code row, the brand's generation) from the values it returned; (None, None): no such code."""
        if values is None:
            return None, None
        named = dict(zip(self.columns, values, strict=True))
        return CodeRow.of(named), named.get("generation")


def count(
    *, product_id: int, ordinal: int, serial: str, brand_id: int, at: datetime, place: str, seen: Seen | None
) -> Statement:
    """Count a scan on its code (UPDATE … RETURNING, with the detection state when `seen`), returning the row as
    the count left it and the brand's generation. Two phones scanning a fresh code at once: the row lock
    serialises the UPDATEs, so exactly one of them gets scan_count = 1, the first scan."""
    sql, columns = _count_sql(connection.vendor, seen is not None)
    # Timestamps go in as the ORM writes them: on SQLite a bare datetime parameter is stored as different text
    # ("…T…+00:00") from the ORM's, and later ORM comparisons (the code's first place) would never match.
    stamp = connection.ops.adapt_datetimefield_value(at)
    params = [stamp, place, stamp, *(seen.params() if seen else []), product_id, ordinal, serial, brand_id]
    return Statement(sql, params, columns)  # RETURNING's placeholder (the brand) comes after WHERE's


def find(*, product_id: int, ordinal: int, serial: str, brand_id: int, detect: bool = False) -> Statement:
    """Read a code (with its detection state when `detect`) and the brand's generation, counting nothing."""
    columns = COLUMNS + (DETECT_COLUMNS if detect else ())
    sql = f"SELECT {', '.join(columns)}, {GENERATION} FROM {TABLE} WHERE {MATCH}"  # noqa: S608
    return Statement(sql, [brand_id, product_id, ordinal, serial], (*columns, "generation"))


def sight(*, product_id: int, ordinal: int, serial: str, brand_id: int, seen: Seen) -> Statement:
    """Note a sighting of a code without counting it as a scan (a trading partner's verification request): its
    detection state grows as a scan's would, while scan_count and the first scan stay the consumer's. Returns the
    row with its detection state and the brand's generation; a code not yet live is left as it was."""
    sql, columns = _sight_sql(connection.vendor)
    return Statement(sql, [*seen.params(), product_id, ordinal, serial, brand_id], columns)


def run(statement: Statement) -> tuple[CodeRow | None, int | None]:
    """Run a statement from `count` or `find` alone: (the code row, the brand's generation)."""
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        return statement.result(cursor.fetchone())


def claim_pin(*, code_id: int, at: datetime) -> bool:
    """Remember a PIN's first correct use: True when this call was its first (a conditional UPDATE decides)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET pin_first_used_at = %s WHERE id = %s AND pin_first_used_at IS NULL RETURNING id",  # noqa: S608
            [connection.ops.adapt_datetimefield_value(at), code_id],
        )
        return cursor.fetchone() is not None


def count_claimed(*, source: str, seen: Seen | None, also: tuple[str, ...]) -> Statement:
    """PostgreSQL: count a claimed page view on its code, the claim being the caller's `WITH {source} AS (…)`
    (columns code_id, scanned_at and place, plus `also`, returned after the code's). A code not yet live is
    left as it was (no row returned)."""
    columns = COLUMNS + (DETECT_COLUMNS if seen else ())
    sets = ", ".join(f"{column} = {value}" for column, value in _claimed_sets(source, seen is not None))
    sql = (  # fixed text; every value is a parameter
        f"UPDATE {TABLE} SET {sets} FROM {source} "  # noqa: S608
        f"WHERE {TABLE}.id = {source}.code_id AND NOT {TABLE}.{NOT_LIVE} RETURNING "
        + ", ".join([*(f"{TABLE}.{c}" for c in columns), *(f"{source}.{c}" for c in also)])
    )
    return Statement(sql, seen.params() if seen else [], (*columns, *also))


def count_by_id(*, code_id: int, at: datetime | str, place: str, seen: Seen | None) -> CodeRow | None:
    """Count a claimed page view on its code by id, unless the code is not live yet (other databases than
    PostgreSQL, where the claim is a statement of its own). `at` as the scan log returned it."""
    sql, columns = _count_sql(
        connection.vendor, seen is not None, where=f"id = %s AND NOT {NOT_LIVE}", generation=False
    )
    stamp = connection.ops.adapt_datetimefield_value(aware(at))  # written as the ORM writes it (see `count`)
    with connection.cursor() as cursor:
        cursor.execute(sql, [stamp, place, stamp, *(seen.params() if seen else []), code_id])
        row, _generation = Statement(sql, [], columns).result(cursor.fetchone())
    return row


def insert(batch: CodeBatch, first_ordinal: int, serials: list[str]) -> None:
    """Register serials for consecutive ordinals in one go (see `copying`)."""
    with copying(batch, first_ordinal) as codes:
        codes.write(serials)


class CodeCopy:
    """Codes being registered for consecutive ordinals: each `write` adds serials after the ones written before."""

    def __init__(self, batch: CodeBatch, first_ordinal: int, copy: Copy | None):
        self.batch = batch
        self.next_ordinal = first_ordinal
        self._copy = copy
        self._prefix = f"{batch.product_id}\t{batch.pk}\t"
        self._suffix = f"\t{CodeStatus.NOT_ACTIVATED}\t0\t\n"  # formatted once: an enum's format per row cost 40%

    def write(self, serials: list[str]) -> None:
        first = self.next_ordinal
        self.next_ordinal += len(serials)
        if self._copy is None:
            Code.objects.bulk_create(
                (
                    Code(
                        product_id=self.batch.product_id,
                        batch_id=self.batch.pk,
                        ordinal=ordinal,
                        serial=serial,
                        status=CodeStatus.NOT_ACTIVATED,
                    )
                    for ordinal, serial in enumerate(serials, first)
                ),
                batch_size=2_000,
            )
            return
        # Serials are GS1 set 82 (generated ones letters and digits, imported ones checked by codes.imports): no
        # backslash, tab or line break, so nothing to escape in COPY's text format.
        prefix, suffix = self._prefix, self._suffix
        for start in range(0, len(serials), COPY_PIECE):
            piece = enumerate(serials[start : start + COPY_PIECE], first + start)
            self._copy.write("".join([f"{prefix}{ordinal}\t{serial}{suffix}" for ordinal, serial in piece]))


@contextmanager
def copying(batch: CodeBatch, first_ordinal: int) -> Iterator[CodeCopy]:
    """Register serials for consecutive ordinals from `first_ordinal` through ONE COPY kept open while the caller
    writes them in pieces (`CodeCopy.write`), so the server takes in one piece while the caller prepares the next
    (an import checks its next lines meanwhile); bulk_create on other databases than PostgreSQL. Codes are born
    not activated: a code verifies as authentic only once its unit is marked applied (see `codes.activation`).
    A serial the product has already fails the whole COPY with IntegrityError (the unique index), when it ends."""
    if connection.vendor != "postgresql":
        yield CodeCopy(batch, first_ordinal, None)
        return
    columns = "product_id, batch_id, ordinal, serial, status, scan_count, first_scanned_in"
    # psycopg's own COPY, inside Django's error wrapper: a failure is Django's OperationalError & co. (a dropped
    # connection is then retried by the task, and the connection is known to be broken), as for any query.
    # Written through a queue that a psycopg thread sends on: the server takes in one piece while this thread
    # formats (or the caller checks) the next, instead of waiting for all of them first.
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {TABLE} ({columns}) FROM STDIN", writer=QueuedLibpqWriter(cursor.cursor)) as copy,
    ):
        yield CodeCopy(batch, first_ordinal, copy)


def registered(product_id: int, serials: list[str]) -> dict[str, int]:
    """Which of these serials the product has already, each with the batch it is in (one indexed read)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT serial, batch_id FROM {TABLE} WHERE product_id = %s AND serial = ANY(%s)",  # noqa: S608
                [product_id, list(serials)],
            )
            return dict(cursor.fetchall())
    found = Code.objects.filter(product_id=product_id, serial__in=serials).values_list("serial", "batch_id")
    return dict(found)


def ordinal_of(*, product_id: int, serial: str) -> int | None:
    """The ordinal of a product's code by its serial, exactly as stored: how verify finds an imported serial,
    which no cipher maps to its ordinal (one read on the (product, serial) unique index)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ordinal FROM {TABLE} WHERE product_id = %s AND serial = %s", [product_id, serial])  # noqa: S608
        row = cursor.fetchone()
    return None if row is None else row[0]


def fix_first_place(*, code_id: int, scanned_at: datetime, place: str) -> None:
    """A consumer's precise place replaces the code's first place, when the scan it came with was the first."""
    Code.objects.filter(pk=code_id, first_scanned_at=scanned_at).update(first_scanned_in=place)


def _add_to_set(column: str, position: str) -> str:
    """The value of a `;`-terminated set with a value (three parameters, all the same) added, unless it is
    empty, already there, or the set is full."""
    value = "CAST(%s AS TEXT)"
    return (
        f"CASE WHEN {value} = '' OR {position}(';' || COALESCE({column}, ''), ';' || {value} || ';') > 0 "
        f"OR length(COALESCE({column}, '')) >= {SET_MAX_CHARS} THEN {column} "
        f"ELSE COALESCE({column}, '') || {value} || ';' END"
    )


def _detect_sets(vendor: str) -> list[tuple[str, str]]:
    """(column, new value) keeping the detection state (nine parameters: `Seen.params`)."""
    position = "strpos" if vendor == "postgresql" else "instr"
    fix = "CAST(%s AS TEXT)"
    return [
        ("seen_regions", _add_to_set("seen_regions", position)),
        ("seen_devices", _add_to_set("seen_devices", position)),
        # Both right-hand sides see the row as it was: prev_fix gets the old last_fix.
        ("prev_fix", f"CASE WHEN {fix} = '' THEN prev_fix ELSE last_fix END"),
        ("last_fix", f"CASE WHEN {fix} = '' THEN last_fix ELSE {fix} END"),
    ]


def _claimed_sets(source: str, detect: bool) -> list[tuple[str, str]]:
    sets = [
        ("scan_count", "scan_count + 1"),
        ("first_scanned_at", f"COALESCE(first_scanned_at, {source}.scanned_at)"),
        ("first_scanned_in", f"CASE WHEN scan_count = 0 THEN {source}.place ELSE first_scanned_in END"),
        ("last_scanned_at", f"{source}.scanned_at"),
    ]
    return sets + (_detect_sets("postgresql") if detect else [])


def _unless_not_live(sets: list[tuple[str, str]]) -> str:
    """SET clauses that leave a row not yet activated as it was (no parameter added: values keep their order)."""
    return ", ".join(f"{column} = CASE WHEN {NOT_LIVE} THEN {column} ELSE {value} END" for column, value in sets)


@functools.cache
def _count_sql(vendor: str, detect: bool, where: str = MATCH, generation: bool = True) -> tuple[str, tuple[str, ...]]:
    """(UPDATE … RETURNING, returned columns): fixed text, every value a parameter; with `generation`, the brand's
    generation is returned last (its brand id the last parameter)."""
    sets = [
        ("scan_count", "scan_count + 1"),
        ("first_scanned_at", "COALESCE(first_scanned_at, %s)"),
        ("first_scanned_in", "CASE WHEN scan_count = 0 THEN %s ELSE first_scanned_in END"),
        ("last_scanned_at", "%s"),
    ]
    columns = COLUMNS
    if detect:
        sets += _detect_sets(vendor)
        columns += DETECT_COLUMNS
    update = f"UPDATE {TABLE} SET {_unless_not_live(sets)} WHERE {where} RETURNING {', '.join(columns)}"  # noqa: S608
    if generation:
        return f"{update}, {GENERATION}", (*columns, "generation")
    return update, columns


@functools.cache
def _sight_sql(vendor: str) -> tuple[str, tuple[str, ...]]:
    columns = COLUMNS + DETECT_COLUMNS
    sets = _unless_not_live(_detect_sets(vendor))
    sql = f"UPDATE {TABLE} SET {sets} WHERE {MATCH} RETURNING {', '.join(columns)}, {GENERATION}"  # noqa: S608
    return sql, (*columns, "generation")


def aware(value):
    """Datetimes from raw SQL: aware already on PostgreSQL, ISO text on SQLite."""
    if value is None or isinstance(value, datetime):
        return value if value is None or timezone.is_aware(value) else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


# --- Pack-state changes of many units (codes.recalls): set-based, in chunks of ordinals or serials ----------


def ordinals(first: int, end: int) -> tuple[str, list]:
    """The units with ordinals first ≤ ordinal < end, as a WHERE part and its parameters."""
    return "ordinal >= %s AND ordinal < %s", [first, end]


def serials(values: list[str]) -> tuple[str, list]:
    """The units with these serials, as a WHERE part and its parameters (on PostgreSQL one array parameter, which
    is parsed and planned once, not thousands of placeholders)."""
    if connection.vendor == "postgresql":
        return "serial = ANY(%s)", [list(values)]
    return f"serial IN ({', '.join(['%s'] * len(values))})", list(values)


def change_status(
    *,
    product_id: int,
    units: tuple[str, list],
    to_status: str,
    at: datetime,
    change_id: int,
    states: list[str],
    only: bool,
) -> Counter:
    """Move a product's `units` (see `ordinals`, `serials`) to `to_status`, remembering each one's state before,
    except those in `states` (or, with `only`, all but those). Returns how many came from each state."""
    where, where_params = units
    marks = ", ".join(["%s"] * len(states))
    update = (
        f"UPDATE {TABLE} SET previous_status = status, status = %s, status_changed_at = %s, "  # noqa: S608
        f"status_change_id = %s WHERE product_id = %s AND {where} AND status {'IN' if only else 'NOT IN'} ({marks}) "
        "RETURNING previous_status"
    )
    params = [to_status, at, change_id, product_id, *where_params, *states]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # count in the database rather than ship every changed row back
            cursor.execute(
                f"WITH changed AS ({update}) SELECT previous_status, count(*) FROM changed GROUP BY previous_status",  # noqa: S608
                params,
            )
            return Counter(dict(cursor.fetchall()))
        cursor.execute(update, params)
        return Counter(status for (status,) in cursor.fetchall())


def undo_status(*, product_id: int, units: tuple[str, list], change_id: int, to_status: str, at: datetime) -> int:
    """Put back the `units` whose last change was `change_id` and that are still in its state; returns how many."""
    where, where_params = units
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET status = previous_status, previous_status = NULL, status_changed_at = %s "  # noqa: S608
            "WHERE product_id = %s AND status_change_id = %s AND status = %s AND previous_status IS NOT NULL AND "
            + where,
            [at, product_id, change_id, to_status, *where_params],
        )
        return cursor.rowcount


# --- Reading serials in print order, window by window (exports: EPCIS) ----------------------------------------


def serial_windows(*, product_id: int, first: int, end: int, size: int = 10_000) -> Iterator[list[tuple[int, str]]]:
    """(ordinal, serial) of a product's units with first ≤ ordinal < end, in print order, `size` at a time: each
    window is one keyset read on the (product, ordinal) index (ordinal > the last one seen), so a million codes are
    read in bounded memory, with no cursor held open between windows (a streamed response may pause in between)."""
    sql = (
        f"SELECT ordinal, serial FROM {TABLE} WHERE product_id = %s AND ordinal >= %s AND ordinal < %s "  # noqa: S608
        "ORDER BY ordinal LIMIT %s"
    )
    while first < end:
        with connection.cursor() as cursor:
            cursor.execute(sql, [product_id, first, end, size])
            window = cursor.fetchall()
        if not window:
            return
        yield window
        first = window[-1][0] + 1


def ordinals_of(*, product_id: int, serials: list[str]) -> dict[str, int]:
    """The ordinal of each of these serials a product has (one read on the (product, serial) index)."""
    found = Code.objects.filter(product_id=product_id, serial__in=serials).values_list("serial", "ordinal")
    return dict(found)


def serial_at(*, product_id: int, serial: str) -> tuple[int, int] | None:
    """(batch id, ordinal) of a product's unit by its serial as stored, or None (the (product, serial) index)."""
    with connection.cursor() as cursor:
        sql = f"SELECT batch_id, ordinal FROM {TABLE} WHERE product_id = %s AND serial = %s"  # noqa: S608
        cursor.execute(sql, [product_id, serial])
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1])
