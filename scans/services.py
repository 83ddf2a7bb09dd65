"""Verify use cases: the public answer to a scan, logged as evidence.

The hot path per scan: parse the Digital Link (pure), look the GTIN up in a short per-process cache,
decrypt the serial (a never-issued serial stops here, before any read of the codes table), one
UPDATE … RETURNING on the code row, one INSERT into the scan log.
"""

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from brands.models import Brand
from codes import gs1
from codes.models import Product
from codes.serials import SerialCodec, pin_matches

from . import rules
from .geo import Place, default_locator
from .models import Scan, ScanOutcome, ScanSource

PRODUCT_CACHE_SECONDS = 30
REFRESH_SECONDS = 2
LOCATE_TOKEN_MAX_AGE = 15 * 60


@dataclass(frozen=True)
class ScanContext:
    """Who scanned, coarsely: never the raw IP."""

    ip_hash: str
    place: Place | None
    user_agent_family: str
    source: str = ScanSource.QR


@dataclass(frozen=True)
class ProductInfo:
    """What verifying needs of a product, cached per process (the key stays in memory only)."""

    product_id: int
    brand: Brand
    name: str
    gtin: str
    key: bytes = field(repr=False)
    codec: SerialCodec = field(repr=False)
    issued: int = 0  # ordinals [0, issued) are reserved by batches


@dataclass(frozen=True)
class CodeRow:
    code_id: int
    status: str
    scan_count: int
    first_scanned_at: datetime | None
    first_scanned_in: str
    pin_first_used_at: datetime | None
    with_pin: bool
    lot: str
    expires_on: object


class ProductCache:
    """GTIN -> ProductInfo (or None) for a few seconds: saves a query per scan on the hot path."""

    def __init__(self, seconds: float = PRODUCT_CACHE_SECONDS):
        self.seconds, self._entries, self._lock = seconds, {}, threading.Lock()

    def get(self, gtin: str, *, max_age: float | None = None) -> ProductInfo | None:
        """The cached entry unless it is older than `max_age` seconds (default: the cache lifetime)."""
        entry = self._entries.get(gtin)
        if entry and time.monotonic() - entry[0] < (self.seconds if max_age is None else max_age):
            return entry[1]
        info = _load_product(gtin)
        with self._lock:
            self._entries[gtin] = (time.monotonic(), info)
        return info

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


product_cache = ProductCache()


def _load_product(gtin: str) -> ProductInfo | None:
    product = Product.objects.select_related("brand", "key").filter(gtin=gtin).first()
    if product is None:
        return None
    key = product.key.secret()
    codec = SerialCodec(key, product.gtin, product.serial_format)
    return ProductInfo(product.pk, product.brand, str(product), product.gtin, key, codec, product.next_ordinal)


def verify(*, path: str, query: str, context: ScanContext) -> tuple[rules.Verdict, Scan]:
    """Answer a scan of a Digital Link and log it; counts the scan on the code row."""
    return _answer(path=path, query=query, context=context, pin=None)


def check_pin(*, path: str, query: str, pin: str, context: ScanContext) -> tuple[rules.Verdict, Scan]:
    """Check a scratch PIN: the first correct use is remembered, so a copied label's PIN shows as used."""
    return _answer(path=path, query=query, context=context, pin=pin)


def _answer(*, path, query, context, pin) -> tuple[rules.Verdict, Scan]:
    now = timezone.now()
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
        link = gs1.parse_digital_link(path, query)
    except gs1.GS1Error:
        link = None
    if link is not None:
        scan.gtin, scan.serial = link.gtin, (link.serial or "")[:40]
        verdict = _verdict_for(link, scan, now, pin)
    scan.save(force_insert=True)
    if verdict.authentic and verdict.scan_count > 1 and pin is None:
        _add_clone_warning(verdict, scan)
    return verdict, scan


def _verdict_for(link: gs1.DigitalLink, scan: Scan, now: datetime, pin: str | None) -> rules.Verdict:
    info = product_cache.get(link.gtin)
    if info is None or link.serial is None:
        return rules.not_recognised()
    scan.brand, scan.product_id = info.brand, info.product_id
    serial = info.codec.format.normalise(link.serial)
    ordinal = info.codec.ordinal(serial)
    if ordinal is not None and ordinal >= info.issued:
        # A batch may have been ordered since we cached the counter; re-read it, but at most every few
        # seconds, so a flood of made-up serials costs no database reads.
        info = product_cache.get(link.gtin, max_age=REFRESH_SECONDS) or info
    if ordinal is None or ordinal >= info.issued:
        return rules.not_recognised()  # never issued: rejected without reading the codes table
    row = _read_code(info, ordinal, serial, link, now, count_scan=pin is None, place=scan.place)
    if row is None:
        return rules.not_recognised()
    scan.code_id = row.code_id
    status = rules.effective_status(row.status, row.expires_on, timezone.localdate(now))
    verdict = rules.Verdict(
        authentic=True,
        status=status,
        first_scan=row.scan_count == 1 and pin is None,
        scan_count=row.scan_count,
        first_scanned_at=row.first_scanned_at,
        first_scanned_in=row.first_scanned_in or None,
        product=rules.ProductFacts(
            name=info.name,
            gtin=info.gtin,
            lot=row.lot,
            expiry=row.expires_on.isoformat() if row.expires_on else None,
            brand=info.brand.name,
        ),
        warnings=[
            _word(w)
            for w in rules.warnings_for(status=status, scan_count=row.scan_count, distinct_places=0, clone_threshold=0)
        ],
        pin_required=row.with_pin,
    )
    scan.outcome = ScanOutcome.AUTHENTIC if status == "active" else ScanOutcome.INACTIVE
    if pin is not None:
        verdict.pin = _check_pin(info, row, serial, pin, now)
        scan.outcome = (
            (ScanOutcome.PIN_OK if verdict.pin.first_use else ScanOutcome.PIN_REUSED)
            if verdict.pin.verified
            else ScanOutcome.PIN_WRONG
        )
    return verdict


def _read_code(info, ordinal, serial, link, now, *, count_scan: bool, place: str) -> CodeRow | None:
    """The code row with its lot; with count_scan, atomically counted as scanned (UPDATE … RETURNING).

    Two phones scanning a fresh code at once: the row lock serialises the UPDATEs, so exactly one of
    them gets scan_count = 1, the first scan.
    """
    returning = (
        "c.id, c.status, c.scan_count, c.first_scanned_at, c.first_scanned_in, c.pin_first_used_at, "
        "b.with_pin, l.number, l.expires_on"
    )
    match = ["c.product_id = %s", "c.ordinal = %s", "c.serial = %s", "b.id = c.batch_id", "l.id = b.lot_id"]
    params = [info.product_id, ordinal, serial]
    # A real serial with a lot or expiry that is not its own is an altered label: not recognised.
    if link.lot is not None:
        match.append("l.number = %s")
        params.append(link.lot)
    if link.expiry is not None:
        match.append("l.expires_on = %s")
        params.append(link.expiry)
    where = " AND ".join(match)
    counted = (
        "scan_count = {t}scan_count + 1, first_scanned_at = COALESCE({t}first_scanned_at, %s), "
        "first_scanned_in = CASE WHEN {t}scan_count = 0 THEN %s ELSE {t}first_scanned_in END, last_scanned_at = %s"
    )
    with connection.cursor() as cursor:
        if count_scan and connection.vendor == "postgresql":
            sql = (
                f"UPDATE codes_code AS c SET {counted.format(t='c.')} "  # noqa: S608 - fixed fragments; values are params
                f"FROM codes_codebatch AS b, codes_lot AS l WHERE {where} RETURNING {returning}"
            )
            cursor.execute(sql, [now, place, now, *params])
            row = cursor.fetchone()
        else:
            cursor.execute(
                f"SELECT {returning} FROM codes_code AS c, codes_codebatch AS b, codes_lot AS l WHERE {where}",  # noqa: S608
                params,
            )
            row = cursor.fetchone()
            if row is not None and count_scan:  # SQLite: RETURNING sees only the updated table
                cursor.execute(
                    f"UPDATE codes_code SET {counted.format(t='')} WHERE id = %s "  # noqa: S608
                    "RETURNING scan_count, first_scanned_at, first_scanned_in",
                    [now, place, now, row[0]],
                )
                row = (row[0], row[1], *cursor.fetchone(), *row[5:])
    if row is None:
        return None
    return CodeRow(row[0], row[1], row[2], _aware(row[3]), row[4], _aware(row[5]), bool(row[6]), row[7], _date(row[8]))


def _check_pin(info: ProductInfo, row: CodeRow, serial: str, pin: str, now: datetime) -> rules.PinCheck:
    if not row.with_pin or not pin_matches(info.key, info.gtin, serial, pin.strip()):
        return rules.PinCheck(verified=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE codes_code SET pin_first_used_at = %s WHERE id = %s AND pin_first_used_at IS NULL RETURNING id",
            [now, row.code_id],
        )
        first_use = cursor.fetchone() is not None
    return rules.PinCheck(verified=True, first_use=first_use, first_used_at=now if first_use else row.pin_first_used_at)


def _add_clone_warning(verdict: rules.Verdict, scan: Scan) -> None:
    """Only for codes seen before: count the distinct places this code was scanned from."""
    threshold = scan.brand.clone_scan_threshold if scan.brand else 0
    places = Scan.objects.filter(code_id=scan.code_id).exclude(place="").values("place").distinct().count()
    verdict.warnings += [
        _word(w)
        for w in rules.warnings_for(
            status="active", scan_count=verdict.scan_count, distinct_places=places, clone_threshold=threshold
        )
    ]


def _word(warning: rules.VerdictWarning) -> str:
    if warning.kind == rules.CLONE:
        return _(
            "This code has been scanned %(count)d times in %(places)d different places: it may have been copied. "
            "Check the packaging carefully."
        ) % {"count": warning.scan_count, "places": warning.places}
    return {
        "recalled": _("This product has been recalled. Do not use it; return it to the shop or contact the brand."),
        "withdrawn": _("This product has been withdrawn from sale. Do not use it; contact the brand."),
        "destroyed": _(
            "This unit was reported destroyed and should not be on sale. Please report where you bought it."
        ),
        "stolen": _("This unit was reported stolen. Do not use it; please report where you bought it."),
        "expired": _("This product is past its expiry date. Do not use it."),
    }.get(warning.status, _("This unit is not in a saleable state. Contact the brand before using it."))


def locate_token(scan: Scan) -> str:
    return signing.dumps(scan.pk, salt="scans.locate")


def add_precise_location(*, token: str, lat: float, lon: float) -> Place | None:
    """Replace a scan's IP-based place with the consumer's own GPS fix, reverse-geocoded offline."""
    try:
        scan_id = signing.loads(token, salt="scans.locate", max_age=LOCATE_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    place = default_locator(settings.GEOIP_CITY_DB).from_coordinates(lat, lon)
    if place is None:
        return None
    scan = Scan.objects.filter(pk=scan_id).exclude(location_source="gps").first()
    if scan is None:
        return None
    for name, value in _place_fields(place).items():
        setattr(scan, name, value)
    scan.save(update_fields=list(_place_fields(place)))
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


def _date(value):
    from datetime import date

    return date.fromisoformat(value) if isinstance(value, str) else value


def report_counterfeit(*, form, ip_hash: str):
    """Store a consumer's report; linked to the brand when the GTIN is one of ours."""
    report = form.save(commit=False)
    info = product_cache.get(report.gtin) if report.gtin.isdigit() and len(report.gtin) == 14 else None
    report.brand = info.brand if info else None
    report.ip_hash = ip_hash
    report.save()
    return report
