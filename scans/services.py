"""Verify use cases: the public answer to a scan, logged as evidence.

The hot path per scan: parse the Digital Link (pure), look the GTIN up in a short per-process cache,
decrypt the serial (a never-issued serial stops here, before any read of the codes table), one
UPDATE … RETURNING on the code row, one INSERT into the scan log. Detection rides on that UPDATE: it keeps
the code's small sets of regions and devices and its last located fix, and the pure rules judge what it
returns; alerts are recorded by a worker after commit, never in the request's time.
"""

import bisect
import dataclasses
import functools
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import InterfaceError, OperationalError, connection, models, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from brands import offboarding
from brands.models import Brand
from brands.services import is_registration_verified, is_verified_for
from codes import gs1, packstates
from codes import services as code_services
from codes.models import BatchState, CodeBatch, Product, StatusChange
from codes.serials import SerialCodec, pin_matches
from distributors.models import Distributor
from distributors.queries import current_ranges
from distributors.territory import is_outside
from serialize_saas.celery import enqueue_on_commit

from . import partitions, ratelimit, rules
from .geo import Place, default_locator
from .models import CounterfeitReport, DailyScans, DetectionSettings, Scan, ScanOutcome, ScanSource

log = logging.getLogger(__name__)

PRODUCT_CACHE_SECONDS = 30
REFRESH_SECONDS = 2
PRODUCT_CACHE_SIZE = 5_000
LOCATE_TOKEN_MAX_AGE = 15 * 60


@dataclass(frozen=True)
class ScanContext:
    """Who scanned, coarsely: never the raw IP."""

    ip_hash: str
    place: Place | None
    user_agent_family: str
    source: str = ScanSource.QR
    device: str = ""  # a first-party cookie's id, else derived from the hashed IP and browser family

    @property
    def counts(self) -> bool:
        """Link previews and crawlers see the verdict but must not use up a code's first scan."""
        return self.source != ScanSource.PREVIEW


@dataclass(frozen=True)
class ProductInfo:
    """What verifying needs of a product, cached per process (the key stays in memory only)."""

    product_id: int
    brand: Brand
    name: str
    gtin: str | None  # None for a product without a GTIN (a Serialize product ref)
    key: bytes = field(repr=False)
    codec: SerialCodec = field(repr=False)
    batches: tuple["BatchInfo", ...] = ()  # by first ordinal: batches are contiguous ordinal blocks
    # An operator approved the brand's claim to this GTIN's GS1 prefix or, looked up by its ref, the brand's
    # company registration (a registration never vouches for a GTIN).
    verified_brand: bool = False
    batches_seen: tuple[int, int] = (0, 0)  # (count, highest id) of the product's batches when loaded
    generation: int = 0  # the brand's verify_generation when loaded: the verify statement reads the current one
    ref: str | None = None
    lookup: str = ""  # the cache key it was loaded under: its GTIN-14 or its ref (never all digits)

    @property
    def tweak(self) -> str:
        """The serials' tweak (codes.models.Product.serial_tweak): the ref if it has one, else the GTIN."""
        return self.codec.identifier

    def batch_of(self, ordinal: int) -> "BatchInfo | None":
        """The batch an ordinal was issued in, found without touching the database."""
        index = bisect.bisect_right([b.first_ordinal for b in self.batches], ordinal) - 1
        if index >= 0 and ordinal < self.batches[index].end_ordinal:
            return self.batches[index]
        return None


@dataclass(frozen=True)
class Holder:
    """A distributor holding positions [first_position, last_position] of a batch now."""

    first_position: int
    last_position: int
    distributor_id: int
    territory: frozenset[str]


@dataclass(frozen=True)
class BatchInfo:
    first_ordinal: int
    end_ordinal: int
    lot: str
    expires_on: date | None
    with_pin: bool
    holders: tuple[Holder, ...] = ()  # by first position; current assignments never overlap

    def holder_of(self, ordinal: int) -> Holder | None:
        """The distributor holding the unit with this ordinal, found without touching the database."""
        position = ordinal - self.first_ordinal + 1
        index = bisect.bisect_right(self.holders, position, key=lambda h: h.first_position) - 1
        if index >= 0 and position <= self.holders[index].last_position:
            return self.holders[index]
        return None


@dataclass(frozen=True)
class CodeRow:
    code_id: int
    status: str
    scan_count: int
    first_scanned_at: datetime | None
    first_scanned_in: str
    pin_first_used_at: datetime | None
    # Detection state after this scan (see codes.models.Code); None on a read or with detection off.
    seen_regions: str | None = None
    seen_devices: str | None = None
    prev_fix: str | None = None
    suspect_at: datetime | None = None
    status_change_id: int | None = None


class ProductCache:
    """GTIN or product ref -> ProductInfo (or None) for a few seconds: saves a query per scan on the hot path.
    A ref always holds a dot and a GTIN-14 is all digits, so the two never share a key. What another process
    changes about the brand (approval, branding) is noticed sooner: the verify statement returns the brand's
    generation and a stale entry is reloaded at once (see GENERATION).

    Bounded (least recently used out), since hostile clients can ask for any number of GTINs; a GTIN
    nobody registered is remembered only briefly, so a new product verifies within seconds.
    """

    def __init__(self, seconds: float = PRODUCT_CACHE_SECONDS, size: int = PRODUCT_CACHE_SIZE):
        self.seconds, self.size = seconds, size
        self._entries: OrderedDict[str, tuple[float, ProductInfo | None]] = OrderedDict()
        self._batches_checked: dict[str, float] = {}
        self._lock = threading.Lock()

    def get(self, gtin: str) -> ProductInfo | None:
        entry = self._entries.get(gtin)
        if entry is not None:
            lifetime = self.seconds if entry[1] is not None else REFRESH_SECONDS
            if time.monotonic() - entry[0] < lifetime:
                return entry[1]
        return self._load(gtin)

    def with_new_batches(self, info: ProductInfo) -> ProductInfo:
        """`info` again, or reloaded when batches were ordered since it was cached. Asked when a serial decrypts
        to an ordinal outside every cached batch; answered at most every REFRESH_SECONDS per product and with one
        small query, so a flood of made-up serials costs next to nothing and never stalls the other scans."""
        now = time.monotonic()
        if now - self._batches_checked.get(info.lookup, -REFRESH_SECONDS) < REFRESH_SECONDS:
            return info
        if len(self._batches_checked) > self.size:
            self._batches_checked.clear()
        self._batches_checked[info.lookup] = now
        if _batches_seen(info.product_id) == info.batches_seen:
            return info
        return self._load(info.lookup) or info

    def _load(self, gtin: str) -> ProductInfo | None:
        info = _load_product(gtin)
        with self._lock:
            self._entries[gtin] = (time.monotonic(), info)
            self._entries.move_to_end(gtin)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return info

    def reload(self, gtin: str) -> ProductInfo | None:
        """Load again now: the verify statement found the brand's generation moved (an approval, new branding)."""
        return self._load(gtin)

    def reload_stale(self) -> int:
        """Reload every entry past its lifetime (a worker forked from a long-running master, before it takes
        its first request); returns how many."""
        now = time.monotonic()
        stale = [gtin for gtin, (loaded, info) in list(self._entries.items()) if now - loaded >= self.seconds]
        for gtin in stale:
            self._load(gtin)
        return len(stale)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._batches_checked.clear()


product_cache = ProductCache()


def _load_product(lookup: str) -> ProductInfo | None:
    # The brand (and its generation) is read first: a change committed after this read moves the generation,
    # so the next verify statement notices it, whatever the reads below saw.
    by_ref = gs1.is_product_ref(lookup)
    product = Product.objects.select_related("brand", "key").filter(**{"ref" if by_ref else "gtin": lookup}).first()
    if product is None:
        return None
    key = product.key.secret()
    codec = SerialCodec(key, product.serial_tweak, product.serial_format)
    rows = list(CodeBatch.objects.filter(product=product).select_related("lot").order_by("first_ordinal"))
    holders: dict[int, list[Holder]] = {}
    for batch_id, first, last, distributor_id, territory in current_ranges([b.pk for b in rows]):
        holders.setdefault(batch_id, []).append(Holder(first, last, distributor_id, frozenset(territory)))
    batches = tuple(
        BatchInfo(
            b.first_ordinal, b.end_ordinal, b.lot.number, b.lot.expires_on, b.with_pin, tuple(holders.get(b.pk, ()))
        )
        for b in rows
    )
    verified = product.gtin is not None and is_verified_for(product.brand, product.gtin)
    if by_ref and not verified:  # its old labels: vouched for by the registration (or, upgraded, its prefix)
        verified = is_registration_verified(product.brand)
    seen = (len(rows), max((b.pk for b in rows), default=0))
    return ProductInfo(
        product.pk,
        product.brand,
        str(product),
        product.gtin,
        key,
        codec,
        batches,
        verified,
        seen,
        product.brand.verify_generation,
        product.ref,
        lookup,
    )


WARM_PRODUCTS = 200


def warm_product_cache(limit: int = WARM_PRODUCTS) -> int:
    """Load the products consumers are likely to scan next into the cache, so that no scan waits for one:
    those scanned most in the last week (the rollups), then those of the newest ready batches."""
    since = timezone.localdate() - timedelta(days=7)
    scanned = (
        DailyScans.objects.filter(day__gte=since, product__isnull=False)
        .values("product_id")
        .annotate(total=Sum("scans"))
        .order_by("-total")
        .values_list("product_id", flat=True)[:limit]
    )
    recent = (
        CodeBatch.objects.filter(state=BatchState.READY).order_by("-pk").values_list("product_id", flat=True)[:limit]
    )
    wanted = list(dict.fromkeys([*scanned, *recent]))[:limit]
    lookups = [key for pair in Product.objects.filter(pk__in=wanted).values_list("gtin", "ref") for key in pair if key]
    for lookup in lookups:
        info = product_cache.get(lookup)
        if info is not None:
            thresholds_cache.get(info.brand.pk)
            info.codec.ordinal(info.codec.serial(1))  # builds the cipher context a scan's decryption reuses
    return len(lookups)


def warm_connection() -> None:
    """Run the hot path's count-and-log statement once, matching no code, and roll it back: a new PostgreSQL
    connection reads the catalogue of every table and index it touches on first use (tens of milliseconds a
    consumer would otherwise wait for), and Python builds the statement's text and field lists once."""
    if connection.vendor != "postgresql":
        return
    context = ScanContext(ip_hash="", place=None, user_agent_family="", source=ScanSource.API)
    with transaction.atomic():
        scan = Scan(scanned_at=timezone.now(), source=context.source, outcome=ScanOutcome.NOT_RECOGNISED)
        _count_scan(0, -1, "", scan, expired=False, context=context, brand_id=0)
        transaction.set_rollback(True)


def _batches_seen(product_id: int) -> tuple[int, int]:
    seen = CodeBatch.objects.filter(product_id=product_id).aggregate(count=Count("pk"), highest=Max("pk"))
    return seen["count"], seen["highest"] or 0


def verify(*, path: str, query: str, context: ScanContext) -> tuple[rules.Verdict, Scan]:
    """Answer a scan of a Digital Link and log it; counts the scan on the code row."""
    return _surviving_a_lost_connection(_answer, path=path, query=query, context=context, pin=None)


def check_pin(*, path: str, query: str, pin: str, context: ScanContext) -> tuple[rules.Verdict, Scan]:
    """Check a scratch PIN: the first correct use is remembered, so a copied label's PIN shows as used."""
    return _surviving_a_lost_connection(_answer, path=path, query=query, context=context, pin=pin)


def _surviving_a_lost_connection(answer, **kwargs):
    """Answer once more, on a new connection, when the server dropped this one mid-answer (a PostgreSQL restart
    or failover, an idle-connection reaper). Verify runs in autocommit, so the lost try may have committed its
    count and log before the drop, or even before its reply was lost: the second try is the same scan (the same
    time, to the microsecond) and first looks for what the first one wrote (`_logged_by_first_try`), so a scan
    is counted once however its connection ended. Anything else (a locked SQLite file, a bad statement) is not
    answered again."""
    now = timezone.now()
    try:
        return answer(now=now, again=False, **kwargs)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block or (connection.connection is not None and connection.is_usable()):
            raise
        log.warning("database connection lost mid-scan: answering again on a new one")
        connection.close()
    return answer(now=now, again=True, **kwargs)


def _logged_by_first_try(scan: Scan) -> bool:
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


def _answer(*, path, query, context, pin, now: datetime, again: bool) -> tuple[rules.Verdict, Scan]:
    scan = Scan(
        scanned_at=now,
        source=ScanSource.PIN if pin is not None else context.source,
        outcome=ScanOutcome.NOT_RECOGNISED,
        ip_hash=context.ip_hash,
        user_agent_family=context.user_agent_family[:60],
        **_place_fields(context.place),
    )
    verdict = rules.not_recognised()
    try:
        link = gs1.parse_verify_link(path, query)
    except gs1.GS1Error:
        link = None
    if link is not None:
        # A product ref is never logged as a GTIN: its scans name their product (when known) and serial.
        scan.gtin = link.gtin if isinstance(link, gs1.DigitalLink) else ""
        scan.serial = (link.serial or "")[:40]
        verdict = _verdict_for(link, scan, now, pin, context, again)
    if scan.pk is None and not (again and _logged_by_first_try(scan)):  # not yet logged with the code's count
        _log_scan(scan)
    if settings.DETECTION_ENABLED and pin is None and context.counts:
        if verdict.authentic and scan.source == ScanSource.PAGE:
            _warn_if_suspect(verdict, scan)  # counted and judged when its browser confirms the view
        elif verdict.authentic:
            _detect(verdict, scan, context, now)
        elif verdict.status == rules.NOT_ACTIVATED:  # a genuine label before its unit went live: a leak
            _after_commit(scan.pk, [rules.early_scan()])
        elif scan.brand_id is not None:
            _count_hot_spot(scan, now)
    return verdict, scan


def _verdict_for(
    link: gs1.DigitalLink | gs1.RefLink,
    scan: Scan,
    now: datetime,
    pin: str | None,
    context: ScanContext,
    again: bool = False,
) -> rules.Verdict:
    info = product_cache.get(link.key)
    if info is None or link.serial is None:
        return rules.not_recognised()
    scan.brand, scan.product_id = info.brand, info.product_id
    if not info.verified_brand:
        scan.outcome = ScanOutcome.UNVERIFIED_BRAND
        if (again and _logged_by_first_try(scan)) or _log_scan(scan, generation=(info.brand.pk, info.generation)):
            return rules.unverified_brand()
        info = product_cache.reload(link.key)  # approved since this worker cached it: nothing was logged
        if info is None or not info.verified_brand:
            scan.outcome = ScanOutcome.UNVERIFIED_BRAND if info else ScanOutcome.NOT_RECOGNISED
            return rules.unverified_brand() if info else rules.not_recognised()
        scan.brand, scan.outcome = info.brand, ScanOutcome.NOT_RECOGNISED
    serial = info.codec.format.normalise(link.serial)
    ordinal = info.codec.ordinal(serial)
    if ordinal is None:
        return rules.not_recognised()
    batch = info.batch_of(ordinal)
    if batch is None:  # or in a batch ordered since the product was cached
        info = product_cache.with_new_batches(info)
        batch = info.batch_of(ordinal)
    if batch is None:
        return rules.not_recognised()  # never issued: rejected without reading the codes table
    # A real serial with a lot or expiry that is not its own is an altered label.
    if (link.lot is not None and link.lot != batch.lot) or (
        link.expiry is not None and link.expiry != batch.expires_on
    ):
        return rules.not_recognised()
    _note_holder(scan, batch.holder_of(ordinal))
    today = timezone.localdate(now)
    expired = rules.effective_status("active", batch.expires_on, today) != "active"
    counted = pin is None and scan.source not in (ScanSource.PREVIEW, ScanSource.PAGE)
    if pin is None and again and _logged_by_first_try(scan):  # counted by the lost try: as it left the code
        row, generation = _read_code(info.product_id, ordinal, serial, brand_id=info.brand.pk, detect=counted)
        scan._sighting = Sighting.of(context, now) if counted and settings.DETECTION_ENABLED else None
    elif pin is None:  # page views and previews only read the code, but log the scan in the same statement
        brand_id = info.brand.pk
        row, generation = _count_scan(
            info.product_id, ordinal, serial, scan, expired=expired, count=counted, context=context, brand_id=brand_id
        )
    else:
        row, generation = _read_code(info.product_id, ordinal, serial, brand_id=info.brand.pk)
    if row is None:
        return rules.not_recognised()
    if generation is not None and generation != info.generation:
        # Another worker approved, rejected or rebranded since this one cached the product: answer with what
        # is true now (a few queries, once per change and worker).
        info = product_cache.reload(link.key) or info
        scan.brand = info.brand
        if not info.verified_brand:
            _relabel_unverified(scan)
            return rules.unverified_brand()
    facts = rules.ProductFacts(
        name=info.name,
        gtin=info.gtin,
        lot=batch.lot,
        expiry=batch.expires_on.isoformat() if batch.expires_on else None,
        brand=info.brand.name,
        ref=info.ref,
    )
    if row.status == rules.NOT_ACTIVATED:  # logged (evidence of a leak), never counted, and no PIN is checked
        scan.code_id, scan.outcome = row.code_id, ScanOutcome.NOT_ACTIVATED
        return rules.not_activated(facts)
    predicted = pin is None and scan.source == ScanSource.PAGE
    if predicted:  # what the page says once its script confirms the view (confirm_page_view counts it)
        row = dataclasses.replace(
            row,
            scan_count=row.scan_count + 1,
            first_scanned_at=row.first_scanned_at or scan.scanned_at,
            first_scanned_in=row.first_scanned_in or scan.place,
        )
    scan.code_id = row.code_id
    status = rules.effective_status(row.status, batch.expires_on, today)
    verdict = rules.Verdict(
        authentic=True,
        status=status,
        first_scan=row.scan_count == 1 and (counted or predicted),
        scan_count=row.scan_count,
        first_scanned_at=row.first_scanned_at,
        first_scanned_in=row.first_scanned_in or None,
        product=facts,
        warnings=rules.state_warnings(status),
        pin_required=batch.with_pin,
    )
    if status == rules.RECALLED and row.status_change_id:
        _add_recall_message(verdict, row.status_change_id)
    scan._code_row = row  # for detection, once the scan is logged
    scan.outcome = ScanOutcome.AUTHENTIC if status == "active" else ScanOutcome.INACTIVE
    if pin is not None:
        verdict.pin = _check_pin(info, batch, row, serial, pin, now)
        scan.outcome = (
            (ScanOutcome.PIN_OK if verdict.pin.first_use else ScanOutcome.PIN_REUSED)
            if verdict.pin.verified
            else ScanOutcome.PIN_WRONG
        )
        if verdict.pin.verified and not verdict.pin.first_use:
            verdict.warnings.append(rules.pin_reused_warning(verdict.pin.first_used_at))
    return verdict


def _note_holder(scan: Scan, holder: Holder | None) -> None:
    """Grey-market evidence for the brand: who held the unit, and whether it was scanned outside their
    territory. The consumer's verdict never depends on it, nor names the distributor."""
    if holder is not None:
        scan.distributor_id = holder.distributor_id
        scan.out_of_territory = is_outside(holder.territory, scan.country_code, scan.region_code)


CODE_COLUMNS = "id, status, scan_count, first_scanned_at, first_scanned_in, pin_first_used_at"
DETECT_COLUMNS = "seen_regions, seen_devices, prev_fix, suspect_at, status_change_id"
CODE_MATCH = "product_id = %s AND ordinal = %s AND serial = %s"
# The brand's current generation (one parameter: the brand id), returned with the code row for free: a worker
# whose cached product is older reloads it, so approvals and branding reach every worker's next verify.
GENERATION = "(SELECT verify_generation FROM brands_brand WHERE id = %s) AS generation"


# A unit not yet activated is never counted: its scans are logged (a leak's evidence), but they must not use up
# its first scan nor feed copy detection, so every SET of the count keeps such a row as it was.
NOT_LIVE = f"status = '{packstates.NOT_ACTIVATED}'"  # a fixed word of ours, not a value


def _add_to_set(column: str, position: str) -> str:
    """The value of a `;`-terminated set with a value (three parameters, all the same) added, unless it is
    empty, already there, or the set is full."""
    value = "CAST(%s AS TEXT)"
    return (
        f"CASE WHEN {value} = '' OR {position}(';' || COALESCE({column}, ''), ';' || {value} || ';') > 0 "
        f"OR length(COALESCE({column}, '')) >= {rules.SET_MAX_CHARS} THEN {column} "
        f"ELSE COALESCE({column}, '') || {value} || ';' END"
    )


def _detect_sets(vendor: str) -> list[tuple[str, str]]:
    """(column, new value) keeping the detection state (nine parameters: `Sighting.params`)."""
    position = "strpos" if vendor == "postgresql" else "instr"
    fix = "CAST(%s AS TEXT)"
    return [
        ("seen_regions", _add_to_set("seen_regions", position)),
        ("seen_devices", _add_to_set("seen_devices", position)),
        # Both right-hand sides see the row as it was: prev_fix gets the old last_fix.
        ("prev_fix", f"CASE WHEN {fix} = '' THEN prev_fix ELSE last_fix END"),
        ("last_fix", f"CASE WHEN {fix} = '' THEN last_fix ELSE {fix} END"),
    ]


def _unless_not_live(sets: list[tuple[str, str]]) -> str:
    """SET clauses that leave a row not yet activated as it was (no parameter added: values keep their order)."""
    return ", ".join(f"{column} = CASE WHEN {NOT_LIVE} THEN {column} ELSE {value} END" for column, value in sets)


def _count_sql(vendor: str, detect: bool, where: str = CODE_MATCH, generation: bool = True) -> tuple[str, str]:
    """(UPDATE … RETURNING, returned columns): fixed text, every value a parameter; with `generation`, the brand's
    generation is returned last (its brand id the last parameter)."""
    sets = [
        ("scan_count", "scan_count + 1"),
        ("first_scanned_at", "COALESCE(first_scanned_at, %s)"),
        ("first_scanned_in", "CASE WHEN scan_count = 0 THEN %s ELSE first_scanned_in END"),
        ("last_scanned_at", "%s"),
    ]
    columns = CODE_COLUMNS
    if detect:
        sets += _detect_sets(vendor)
        columns += ", " + DETECT_COLUMNS
    update = f"UPDATE codes_code SET {_unless_not_live(sets)} WHERE {where}"  # noqa: S608
    if generation:
        return f"{update} RETURNING {columns}, {GENERATION}", columns + ", generation"
    return f"{update} RETURNING {columns}", columns


_COUNT_SQL: dict[tuple[str, bool], tuple[str, str]] = {}


def _count_statement(detect: bool) -> tuple[str, str]:
    key = (connection.vendor, detect)
    if key not in _COUNT_SQL:
        _COUNT_SQL[key] = _count_sql(*key)
    return _COUNT_SQL[key]


@dataclass(frozen=True)
class Sighting:
    """What this scan adds to its code's detection state."""

    region: str
    device: str
    fix: rules.Fix | None

    @classmethod
    def of(cls, context: ScanContext, now: datetime) -> "Sighting":
        place = context.place
        fix = None
        if place is not None and place.latitude is not None and place.longitude is not None:
            fix = rules.Fix(place.latitude, place.longitude, now.timestamp())
        region = (place.region_code or place.country_code or "") if place else ""
        device = context.device or device_id(context.ip_hash, context.user_agent_family)
        # With its network: cookies forged from one address must count as one device (rules.device_count).
        network = context.ip_hash[:8]
        return cls(region=region, device=f"{network}.{device}" if network else device, fix=fix)

    def params(self) -> list:
        fix = self.fix.encode() if self.fix else ""
        return [self.region] * 3 + [self.device] * 3 + [fix] * 3


def _read_code(
    product_id: int, ordinal: int, serial: str, *, brand_id: int, detect: bool = False
) -> tuple[CodeRow | None, int | None]:
    """(the code row, with its detection state when `detect`, and the brand's generation), in one statement."""
    columns = CODE_COLUMNS + (", " + DETECT_COLUMNS if detect and settings.DETECTION_ENABLED else "")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns}, {GENERATION} FROM codes_code WHERE {CODE_MATCH}",  # noqa: S608
            [brand_id, product_id, ordinal, serial],
        )
        return _with_generation(cursor.fetchone())


def _with_generation(row) -> tuple[CodeRow | None, int | None]:
    return (None, None) if row is None else (_code_row(row[:-1]), row[-1])


def _count_scan(
    product_id: int,
    ordinal: int,
    serial: str,
    scan: Scan,
    *,
    expired: bool,
    count: bool = True,
    context: ScanContext | None = None,
    brand_id: int,
) -> tuple[CodeRow | None, int | None]:
    """Count the scan on the code row (one UPDATE … RETURNING, with the detection state; a plain read when
    `count` is off) and, on PostgreSQL, log it in the same statement: one round trip and one commit for the
    whole hot path. Returns the code row (None: no such code) and the brand's current generation.

    Two phones scanning a fresh code at once: the row lock serialises the UPDATEs, so exactly one of
    them gets scan_count = 1, the first scan.
    """
    detect = settings.DETECTION_ENABLED
    # Timestamps go in as the ORM writes them: on SQLite a bare datetime parameter is stored as different text
    # ("…T…+00:00") from the ORM's, and later ORM comparisons (the code's first place) would never match.
    at = connection.ops.adapt_datetimefield_value(scan.scanned_at)
    if count:
        hit_sql, returned = _count_statement(detect)
        sighting = Sighting.of(context, scan.scanned_at) if detect and context else None
        count_params = [at, scan.place, at, *(sighting.params() if sighting else [])]
    else:
        read = CODE_COLUMNS + (", " + DETECT_COLUMNS if detect else "")
        hit_sql = f"SELECT {read}, {GENERATION} FROM codes_code WHERE {CODE_MATCH}"  # noqa: S608
        returned, sighting, count_params = read + ", generation", None, [brand_id]
    scan._sighting = sighting  # the rules judge the same fix after the count
    count_params += [product_id, ordinal, serial]
    if count:
        count_params.append(brand_id)  # RETURNING's placeholder comes after WHERE's
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(hit_sql, count_params)
            return _with_generation(cursor.fetchone())  # the caller logs the scan
        columns, placeholders, values = _scan_row(scan, without=("code_id", "outcome"))
        cursor.execute(
            f"WITH hit AS ({hit_sql}), "  # noqa: S608 - model column names and placeholders only
            f"logged AS (INSERT INTO scans_scan (code_id, outcome, {columns}) "
            f"SELECT hit.id, CASE WHEN hit.id IS NULL THEN %s WHEN hit.{NOT_LIVE} THEN %s "
            "WHEN hit.status = 'active' AND NOT %s THEN %s "
            f"ELSE %s END, {placeholders} FROM (SELECT 1) AS one LEFT JOIN hit ON true RETURNING id) "
            f"SELECT logged.id, {_prefixed('hit', returned)} FROM logged LEFT JOIN hit ON true",
            [
                *count_params,
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
    return _with_generation(logged[1:] if logged[1] is not None else None)


@functools.cache
def _scan_fields(without: tuple[str, ...] = ()) -> tuple:
    return tuple(f for f in Scan._meta.concrete_fields if not f.primary_key and f.attname not in without)


_PASSED_AS_IS = (models.CharField, models.BooleanField, models.ForeignKey)


def _scan_row(scan: Scan, without: tuple[str, ...] = ()) -> tuple[str, str, list]:
    """(columns, placeholders, values) of the scan's log entry, the values as the ORM would write them; text,
    flags and ids need no preparing (a third of the cost of building a scan's INSERT went to preparing them)."""
    fields = _scan_fields(without)
    values = []
    for f in fields:
        value = getattr(scan, f.attname)
        values.append(value if isinstance(f, _PASSED_AS_IS) else f.get_db_prep_save(value, connection))
    return ", ".join(f.column for f in fields), ", ".join(["%s"] * len(fields)), values


def _log_scan(scan: Scan, *, generation: tuple[int, int] | None = None) -> bool:
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


def _relabel_unverified(scan: Scan) -> None:
    """The brand's claim was withdrawn since this worker cached it: the scan is logged as the answer it got."""
    scan.outcome = ScanOutcome.UNVERIFIED_BRAND
    if scan.pk is not None:
        Scan.objects.filter(pk=scan.pk).update(outcome=ScanOutcome.UNVERIFIED_BRAND, code=None)


def _prefixed(table: str, columns: str) -> str:
    return ", ".join(f"{table}.{column}" for column in columns.split(", "))


def _code_row(row) -> CodeRow | None:
    if row is None:
        return None
    detected = (row[6], row[7], row[8], _aware(row[9]), row[10]) if len(row) > 6 else ()
    return CodeRow(row[0], row[1], row[2], _aware(row[3]), row[4], _aware(row[5]), *detected)


def _check_pin(
    info: ProductInfo, batch: BatchInfo, row: CodeRow, serial: str, pin: str, now: datetime
) -> rules.PinCheck:
    if not batch.with_pin or not pin_matches(info.key, info.tweak, serial, pin.strip()):
        return rules.PinCheck(verified=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE codes_code SET pin_first_used_at = %s WHERE id = %s AND pin_first_used_at IS NULL RETURNING id",
            [connection.ops.adapt_datetimefield_value(now), row.code_id],
        )
        # Or used by a lost try of this same check (at the same instant): still this buyer's first use.
        first_use = cursor.fetchone() is not None or row.pin_first_used_at == now
    return rules.PinCheck(verified=True, first_use=first_use, first_used_at=now if first_use else row.pin_first_used_at)


def _add_recall_message(verdict: rules.Verdict, change_id: int) -> None:
    """The brand's own words to consumers about a recall, in every language it wrote them in (the wording picks
    the scanner's); a rare path: one read, only for recalled units."""
    row = StatusChange.objects.filter(pk=change_id).values_list("consumer_message", "consumer_messages").first()
    if row and (row[0] or row[1]):
        words = {"message": row[0], "messages": row[1] or {}}
        verdict.warnings = [
            rules.VerdictWarning(w.code, {**w.params, **words}) if w.code == rules.RECALLED else w
            for w in verdict.warnings
        ]


class ThresholdsCache:
    """brand id -> rules.Thresholds for a few seconds, like the product cache: no settings read per scan."""

    def __init__(self, seconds: float = PRODUCT_CACHE_SECONDS):
        self.seconds = seconds
        self._entries: dict[int, tuple[float, rules.Thresholds]] = {}

    def get(self, brand_id: int) -> rules.Thresholds:
        entry = self._entries.get(brand_id)
        if entry is not None and time.monotonic() - entry[0] < self.seconds:
            return entry[1]
        limits = thresholds_of(DetectionSettings.objects.filter(brand_id=brand_id).first())
        if len(self._entries) > PRODUCT_CACHE_SIZE:
            self._entries.clear()
        self._entries[brand_id] = (time.monotonic(), limits)
        return limits

    def clear(self) -> None:
        self._entries.clear()


def thresholds_of(row: DetectionSettings | None) -> rules.Thresholds:
    if row is None:
        return rules.Thresholds()
    return rules.Thresholds(
        max_regions=row.max_regions,
        max_devices=row.max_devices,
        max_speed_kmh=float(row.max_speed_kmh),
        min_travel_km=float(row.min_travel_km),
        markets=frozenset(row.markets),
        blocked=frozenset(row.blocked_countries),
        hot_spot_scans=row.hot_spot_scans,
        hot_spot_minutes=row.hot_spot_minutes,
        late_scans=row.late_scan_alerts,
    )


thresholds_cache = ThresholdsCache()


def device_id(ip_hash: str, user_agent_family: str) -> str:
    """A device, coarsely: the hashed network address and browser family (used when there is no cookie)."""
    return hashlib.sha256(f"{ip_hash}|{user_agent_family}".encode()).hexdigest()[:10]


def _detect(verdict: rules.Verdict, scan: Scan, context: ScanContext, now: datetime) -> None:
    """Judge a counted scan of a genuine code on what the count returned; warn now, alert after commit."""
    row: CodeRow | None = getattr(scan, "_code_row", None)
    if row is None or scan.brand_id is None:
        return
    sighting = getattr(scan, "_sighting", None) or Sighting.of(context, now)
    signals = _judge(scan, row, verdict.status or "", sighting.fix, now)
    if signals is not None:
        verdict.warnings.append(_likely_copy(signals, row))


def _judge(scan: Scan, row: CodeRow, status: str, fix: rules.Fix | None, now: datetime) -> rules.CodeSignals | None:
    """Run the rules on a counted scan and hand the findings to a worker after commit. Returns the code's
    signals when later scanners must be warned of a copy."""
    found, signals = judge(scan=scan, row=row, status=status, fix=fix, now=now)
    if found:
        _after_commit(scan.pk, found)
    return signals


def judge(
    *, scan: Scan, row: CodeRow, status: str, fix: rules.Fix | None, now: datetime
) -> tuple[list[rules.Finding], rules.CodeSignals | None]:
    """The detection glue, for live scans and the demo's history alike: the rules on a counted scan and the code
    row as its count left it; flags the code when it tips into a likely copy (once). Returns the findings for
    the alerts, and the code's signals when later scanners must be warned of a copy (else None)."""
    limits = thresholds_cache.get(scan.brand_id)
    signals = rules.CodeSignals(
        scan_count=row.scan_count,
        regions=rules.set_size(row.seen_regions),
        devices=rules.device_count(row.seen_devices),
        previous_fix=rules.Fix.parse(row.prev_fix),
        suspect=row.suspect_at is not None,
    )
    facts = rules.ScanFacts(
        status=status,
        country_code=scan.country_code or None,
        fix=fix,
        out_of_territory=scan.out_of_territory,
        status_change=row.status_change_id,
    )
    found = rules.findings(signals, facts, limits)
    if not any(f.kind == rules.LIKELY_COPY for f in found):
        return found, None
    if not signals.suspect:  # the scan that tips it: one more statement, once per code
        code_services.mark_suspect(code_id=row.code_id, at=now)
    return found, signals


def _warn_if_suspect(verdict: rules.Verdict, scan: Scan) -> None:
    """A page view, not counted yet: its scanner is still told when earlier scans made the code a likely copy."""
    row: CodeRow | None = getattr(scan, "_code_row", None)
    if row is not None and row.suspect_at is not None:
        signals = rules.CodeSignals(
            row.scan_count, rules.set_size(row.seen_regions), rules.device_count(row.seen_devices)
        )
        verdict.warnings.append(_likely_copy(signals, row))


def _likely_copy(signals: rules.CodeSignals, row: CodeRow) -> rules.VerdictWarning:
    """The warning with where the code was scanned and since when: read off the row the count returned."""
    return rules.likely_copy_warning(signals, places=row.seen_regions, since=row.first_scanned_at)


def hot_spot_key(brand_id: int, gtin: str, region: str, now: datetime, minutes: int) -> str:
    """The cache counter of one GTIN's not-recognised scans from one region in the window holding `now`."""
    return f"hotspot:{brand_id}:{gtin}:{region}:{int(now.timestamp()) // (max(1, minutes) * 60)}"


def _count_hot_spot(scan: Scan, now: datetime) -> None:
    """Count a not-recognised scan of a brand's GTIN per region in fixed windows (one cache round trip; with the
    cache down the scan is answered and logged all the same, uncounted)."""
    limits = thresholds_cache.get(scan.brand_id)
    if limits.hot_spot_scans <= 0:
        return
    window = max(1, limits.hot_spot_minutes) * 60
    region = scan.region_code or scan.country_code or "unknown"
    subject = scan.gtin or f"product-{scan.product_id}"  # a product ref's scans log no GTIN
    key = hot_spot_key(scan.brand_id, subject, region, now, limits.hot_spot_minutes)
    try:
        count = ratelimit.add_one(key, window + 60)
    except Exception:  # noqa: BLE001 - any cache failure
        log.warning("hot spot counter unavailable, scan not counted")
        return
    if rules.hot_spot_reached(count, limits):
        params = {"count": count, "minutes": limits.hot_spot_minutes, "region": region, "step": limits.hot_spot_scans}
        _after_commit(scan.pk, [rules.Finding(rules.HOT_SPOT, "high", params)])


def findings_payload(found: list[rules.Finding]) -> list[dict]:
    """Findings as the alerts task takes them (JSON)."""
    return [{"kind": f.kind, "severity": f.severity, "params": dict(f.params)} for f in found]


def _after_commit(scan_id: int, found: list[rules.Finding]) -> None:
    from .tasks import record_findings_task

    payload = findings_payload(found)
    enqueue_on_commit(record_findings_task, scan_id, payload)


def locate_token(scan: Scan) -> str:
    return signing.dumps(scan.pk, salt="scans.locate")


def confirm_token(scan: Scan) -> str:
    return signing.dumps(scan.pk, salt="scans.confirm")


# A token's scan was logged just before the token was signed, so it is no older than the token's lifetime: that
# bound (plus a minute for clocks that differ between web hosts) lets PostgreSQL read only the scan log's newest
# monthly partitions instead of looking the id up in every month kept.
TOKEN_CLOCK_MARGIN = timedelta(minutes=1)


def _logged_since(max_age: float) -> datetime:
    return timezone.now() - timedelta(seconds=max_age) - TOKEN_CLOCK_MARGIN


CLAIM_PAGE_VIEW = (
    "UPDATE scans_scan SET source = %s WHERE id = %s AND scanned_at >= %s AND source = %s AND code_id IS NOT NULL "
    "RETURNING code_id, scanned_at, place, brand_id, country_code, out_of_territory, outcome"
)
CLAIMED_FACTS = 4  # brand_id … outcome: what the rules need of the scan, so judging it reads nothing more


def _confirm_in_one_sql(detect: bool) -> str:
    """PostgreSQL: claim the scan and count it on its code in one statement (the CTE runs exactly once)."""
    columns = CODE_COLUMNS + (", " + DETECT_COLUMNS if detect else "")
    return (  # fixed text; every value is a parameter
        f"WITH claimed AS ({CLAIM_PAGE_VIEW}) UPDATE codes_code SET scan_count = scan_count + 1, "  # noqa: S608
        "first_scanned_at = COALESCE(first_scanned_at, claimed.scanned_at), "
        "first_scanned_in = CASE WHEN scan_count = 0 THEN claimed.place ELSE first_scanned_in END, "
        "last_scanned_at = claimed.scanned_at"
        + (", " + ", ".join(f"{column} = {value}" for column, value in _detect_sets("postgresql")) if detect else "")
        + f" FROM claimed WHERE codes_code.id = claimed.code_id AND NOT codes_code.{NOT_LIVE} RETURNING "
        + _prefixed("codes_code", columns)
        + ", claimed.brand_id, claimed.country_code, claimed.out_of_territory, claimed.outcome"
    )


def confirm_page_view(*, token: str, context: ScanContext | None = None) -> CodeRow | None:
    """Count a page view its browser confirmed: once per scan (the conditional UPDATE claims it), on the
    code the page showed, with the detection state and rules as for any counted scan. None for a bad, old
    or already used token (a try answered again after a lost connection finds its own claim taken)."""
    return _surviving_a_lost_connection(_confirm_page_view, token=token, context=context)


def _confirm_page_view(*, token: str, context: ScanContext | None, now: datetime, again: bool) -> CodeRow | None:
    try:
        scan_id = signing.loads(token, salt="scans.confirm", max_age=LOCATE_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    sighting = Sighting.of(context, now) if settings.DETECTION_ENABLED and context is not None else None
    detect_params = sighting.params() if sighting else []
    since = connection.ops.adapt_datetimefield_value(_logged_since(LOCATE_TOKEN_MAX_AGE))
    claim = [ScanSource.QR, scan_id, since, ScanSource.PAGE]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_confirm_in_one_sql(sighting is not None), [*claim, *detect_params])
            fetched = cursor.fetchone()
            if fetched is None:
                return None
            row, facts = _code_row(fetched[:-CLAIMED_FACTS]), fetched[-CLAIMED_FACTS:]
        else:
            with transaction.atomic():
                cursor.execute(CLAIM_PAGE_VIEW, claim)
                claimed = cursor.fetchone()
                if claimed is None:
                    return None
                code_id, scanned_at, place = claimed[:3]
                count_by_id, _ = _count_sql(
                    connection.vendor, sighting is not None, where=f"id = %s AND NOT {NOT_LIVE}", generation=False
                )
                # Written as the ORM writes it (see _count_scan), so the code's first place can be found again.
                at = connection.ops.adapt_datetimefield_value(_aware(scanned_at))
                cursor.execute(count_by_id, [at, place, at, *detect_params, code_id])
                row, facts = _code_row(cursor.fetchone()), claimed[3:]
    if row is not None and sighting is not None:
        _judge_confirmed(scan_id, row, facts, sighting, now)
    return row


def _judge_confirmed(scan_id: int, row: CodeRow, facts, sighting: Sighting, now: datetime) -> None:
    brand_id, country_code, out_of_territory, outcome = facts
    if brand_id is None:
        return
    scan = Scan(pk=scan_id, brand_id=brand_id, country_code=country_code, out_of_territory=bool(out_of_territory))
    # The page showed the unit's state; an active unit logged as inactive was past its lot's expiry.
    status = "expired" if row.status == "active" and outcome == ScanOutcome.INACTIVE else row.status
    _judge(scan, row, status, sighting.fix, now)


def code_identity(*, path: str, query: str) -> str | None:
    """A code as its product's tweak (GTIN, or ref: the same whichever URL of an upgraded product was scanned)
    + serial in its product's canonical spelling, whatever the path looked like: what per-code limits count on.
    None when the path names no code of ours (no database read)."""
    try:
        link = gs1.parse_verify_link(path, query)
    except gs1.GS1Error:
        return None
    info = product_cache.get(link.key) if link.serial else None
    if info is None or link.serial is None:
        return None
    return f"{info.tweak}:{info.codec.format.normalise(link.serial)}"


def _scan_of_token(token: str) -> int | None:
    try:
        return signing.loads(token, salt="scans.locate", max_age=LOCATE_TOKEN_MAX_AGE * 4) if token else None
    except signing.BadSignature:
        return None


def add_precise_location(*, token: str, lat: float, lon: float) -> Place | None:
    """Replace a scan's IP-based place with the consumer's own GPS fix, reverse-geocoded offline."""
    try:
        scan_id = signing.loads(token, salt="scans.locate", max_age=LOCATE_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    place = default_locator(settings.GEOIP_CITY_DB).from_coordinates(lat, lon)
    if place is None:
        return None
    scan = (
        Scan.objects.filter(pk=scan_id, scanned_at__gte=_logged_since(LOCATE_TOKEN_MAX_AGE))
        .exclude(location_source="gps")
        .first()
    )
    if scan is None:
        return None
    for name, value in _place_fields(place).items():
        setattr(scan, name, value)
    if scan.distributor_id:  # the precise place may move the scan into or out of the territory
        territory = Distributor.objects.filter(pk=scan.distributor_id).values_list("territory", flat=True).first()
        scan.out_of_territory = is_outside(frozenset(territory or ()), scan.country_code, scan.region_code)
    scan.save(update_fields=[*_place_fields(place), "out_of_territory"])
    if scan.code_id:  # the code's first place, if this scan was its first
        from codes.models import Code

        Code.objects.filter(pk=scan.code_id, first_scanned_at=scan.scanned_at).update(first_scanned_in=place.label)
    return place


def _place_fields(place: Place | None) -> dict:
    if place is None:
        return {"place": "", "city": "", "region_code": "", "country_code": "", "location_source": ""}
    return {
        "place": place.label[:160],
        "city": (place.city or "")[:100],
        "region_code": place.region_code or "",
        "country_code": place.country_code or "",
        "location_source": place.source,
    }


def _aware(value):
    """Datetimes from raw SQL: aware already on PostgreSQL, ISO text on SQLite."""
    if value is None or isinstance(value, datetime):
        return value if value is None or timezone.is_aware(value) else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def report_counterfeit(
    *,
    where_bought: str,
    ip_hash: str,
    gtin: str = "",
    serial: str = "",
    notes: str = "",
    contact_email: str = "",
    photo=None,
    token: str = "",
) -> CounterfeitReport:
    """Store a consumer's report; linked to the brand when the GTIN is one of ours (or, for a product ref, which
    no report names as a GTIN, when the scan it was made from, named by the page's `token`, found one of our
    products). `photo` is an image already stripped of its metadata (brands.files.clean_image)."""
    report = CounterfeitReport(
        gtin=gtin, serial=serial, where_bought=where_bought, notes=notes, contact_email=contact_email
    )
    report.photo = photo or ""
    info = product_cache.get(report.gtin) if report.gtin.isdigit() and len(report.gtin) == 14 else None
    report.brand = info.brand if info else None
    scan_id = _scan_of_token(token)
    if scan_id is not None:  # read within the token's lifetime: only the newest partitions of the scan log
        since = _logged_since(LOCATE_TOKEN_MAX_AGE * 4)
        found = list(Scan.objects.filter(pk=scan_id, scanned_at__gte=since).values_list("brand_id", flat=True)[:1])
        if report.brand is None and found:  # a product ref's page names no GTIN: its scan names the brand
            report.brand_id = found[0]
        # The token is the scan of the page the report was sent from; a token lifted from one brand's page must
        # not tie another brand's report to that scan (the other brand would see it).
        if not found or found[0] != report.brand_id:
            scan_id = None
    report.scan_id = scan_id
    report.ip_hash = ip_hash
    report.save()
    return report


# ---------------------------------------------------------------------------------------------------------
# Retention and erasure of personal data (Malaysia PDPA, GDPR): settings say how long, a beat task enforces it
# ---------------------------------------------------------------------------------------------------------

RETENTION_CHUNK = 10_000


def forget_ip_hashes(*, before: datetime) -> int:
    """Blank the IP hash of scans and reports older than `before`; the scans stay, anonymous, as evidence.
    In chunks of ids, each its own short UPDATE, so a year of scans does not lock the table for long."""
    total = 0
    for model, stamp in ((Scan, "scanned_at"), (CounterfeitReport, "created_at")):
        old = model.objects.filter(**{f"{stamp}__lt": before}).exclude(ip_hash="")
        while ids := list(old.values_list("pk", flat=True)[:RETENTION_CHUNK]):
            total += model.objects.filter(pk__in=ids).update(ip_hash="")
    return total


def erase_report(*, report: CounterfeitReport) -> None:
    """Erase a consumer's report on request: the photo file first (no file outlives its row), then the row, then
    any export of the brand made before (it holds the report and its photo)."""
    if report.photo:
        report.photo.storage.delete(report.photo.name)
    report.delete()
    if report.brand_id is not None:
        offboarding.forget_export(report.brand_id)


def delete_reports(*, before: datetime) -> int:
    """Delete counterfeit reports older than `before`, with their photo files."""
    count = 0
    for report in CounterfeitReport.objects.filter(created_at__lt=before).iterator(chunk_size=500):
        erase_report(report=report)
        count += 1
    return count


def delete_report_photos(*, before: datetime) -> int:
    """Delete the photos of reports older than `before`, keeping the reports' text."""
    count = 0
    for report in CounterfeitReport.objects.filter(created_at__lt=before).exclude(photo="").iterator(chunk_size=500):
        report.photo.storage.delete(report.photo.name)
        CounterfeitReport.objects.filter(pk=report.pk).update(photo="")
        count += 1
    return count


def apply_retention(*, now: datetime | None = None) -> dict[str, int]:
    """Delete what is past its time under the RETENTION_* settings (0 days or months: kept forever)."""
    from brands.services import forget_logins
    from codes.services import forget_downloads

    now = now or timezone.now()
    done: dict[str, int] = {}
    if settings.RETENTION_SCAN_MONTHS > 0:  # first: the months it drops need no IP hash forgotten
        cutoff = partitions.retention_cutoff(months=settings.RETENTION_SCAN_MONTHS, now=now)
        done["scans"] = partitions.drop_months_before(cutoff=cutoff)
    for key, days, purge in (
        ("ip_hashes", settings.RETENTION_SCAN_IP_HASH_DAYS, forget_ip_hashes),
        ("reports", settings.RETENTION_REPORT_DAYS, delete_reports),
        ("report_photos", settings.RETENTION_REPORT_PHOTO_DAYS, delete_report_photos),
        ("downloads", settings.RETENTION_DOWNLOAD_LOG_DAYS, forget_downloads),
        ("logins", settings.RETENTION_LOGIN_LOG_DAYS, forget_logins),
    ):
        if days > 0:
            done[key] = purge(before=now - timedelta(days=days))
    return done
