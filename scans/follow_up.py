"""What the verify page sends back after its answer, each with a signed token of the page's scan: the browser's
confirmation that a person opened it (the view is counted then), the consumer's precise location, and a
counterfeit report."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone

from codes import rows
from codes.rows import CodeRow
from distributors.models import Distributor
from distributors.territory import is_outside

from . import detection
from .context import ScanContext, Sighting, place_fields
from .geo import Place, default_locator
from .models import CounterfeitReport, Scan, ScanSource
from .products import product_cache
from .verify import surviving_a_lost_connection

LOCATE_TOKEN_MAX_AGE = 15 * 60
# A token's scan was logged just before the token was signed, so it is no older than the token's lifetime: that
# bound (plus a minute for clocks that differ between web hosts) lets PostgreSQL read only the scan log's newest
# monthly partitions instead of looking the id up in every month kept.
TOKEN_CLOCK_MARGIN = timedelta(minutes=1)


def locate_token(scan: Scan) -> str:
    return signing.dumps(scan.pk, salt="scans.locate")


def report_token(scan_id: int) -> str:
    """The locate token of a scan known by its id: a counterfeit report from a page that follows the verify page."""
    return signing.dumps(scan_id, salt="scans.locate")


def confirm_token(scan: Scan) -> str:
    return signing.dumps(scan.pk, salt="scans.confirm")


# "Register this product": a day to fill the form in (a receipt to find), bound to the unit and its page's scan.
REGISTER_TOKEN_MAX_AGE = 24 * 60 * 60


def register_token(scan: Scan) -> str:
    """A signed link to register the unit this page is about (owners); no query, so the page stays one statement."""
    return signing.dumps([scan.code_id, scan.pk], salt="owners.register")


def unit_of_register_token(token: str) -> tuple[int, int] | None:
    """(code id, scan id) of a registration link, or None when it is forged, altered or too old."""
    try:
        code_id, scan_id = signing.loads(token, salt="owners.register", max_age=REGISTER_TOKEN_MAX_AGE)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not (isinstance(code_id, int) and isinstance(scan_id, int)):
        return None
    return code_id, scan_id


def _logged_since(max_age: float) -> datetime:
    return timezone.now() - timedelta(seconds=max_age) - TOKEN_CLOCK_MARGIN


CLAIM_PAGE_VIEW = (
    "UPDATE scans_scan SET source = %s WHERE id = %s AND scanned_at >= %s AND source = %s AND code_id IS NOT NULL "
    "RETURNING code_id, scanned_at, place, brand_id, country_code, out_of_territory, outcome"
)
CLAIMED_FACTS = ("brand_id", "country_code", "out_of_territory", "outcome")  # what the rules need of the scan


def confirm_page_view(*, token: str, context: ScanContext | None = None) -> CodeRow | None:
    """Count a page view its browser confirmed: once per scan (the conditional UPDATE claims it), on the
    code the page showed, with the detection state and rules as for any counted scan. None for a bad, old
    or already used token (a try answered again after a lost connection finds its own claim taken)."""
    return surviving_a_lost_connection(_confirm_page_view, token=token, context=context)


def _confirm_page_view(*, token: str, context: ScanContext | None, now: datetime, again: bool) -> CodeRow | None:
    try:
        scan_id = signing.loads(token, salt="scans.confirm", max_age=LOCATE_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    sighting = Sighting.of(context, now) if settings.DETECTION_ENABLED and context is not None else None
    seen = sighting.seen() if sighting else None
    since = connection.ops.adapt_datetimefield_value(_logged_since(LOCATE_TOKEN_MAX_AGE))
    claim = [ScanSource.QR, scan_id, since, ScanSource.PAGE]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # claim the scan and count it on its code in one statement
            count = rows.count_claimed(source="claimed", seen=seen, also=CLAIMED_FACTS)
            cursor.execute(f"WITH claimed AS ({CLAIM_PAGE_VIEW}) {count.sql}", [*claim, *count.params])
            fetched = cursor.fetchone()
            if fetched is None:
                return None
            row, _generation = count.result(fetched)
            facts = dict(zip(count.columns, fetched, strict=True))
        else:
            with transaction.atomic():
                cursor.execute(CLAIM_PAGE_VIEW, claim)
                claimed = cursor.fetchone()
                if claimed is None:
                    return None
                code_id, scanned_at, place = claimed[:3]
                row = rows.count_by_id(code_id=code_id, at=scanned_at, place=place, seen=seen)
                facts = dict(zip(CLAIMED_FACTS, claimed[3:], strict=True))
    if row is not None and sighting is not None:
        detection.judge_confirmed(scan_id, row, facts, sighting.fix, now)
    return row


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
    for name, value in place_fields(place).items():
        setattr(scan, name, value)
    if scan.distributor_id:  # the precise place may move the scan into or out of the territory
        territory = Distributor.objects.filter(pk=scan.distributor_id).values_list("territory", flat=True).first()
        scan.out_of_territory = is_outside(frozenset(territory or ()), scan.country_code, scan.region_code)
    scan.save(update_fields=[*place_fields(place), "out_of_territory"])
    if scan.code_id:  # the code's first place, if this scan was its first
        rows.fix_first_place(code_id=scan.code_id, scanned_at=scan.scanned_at, place=place.label)
    return place


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
    products). `photo` is an image already stripped of its metadata (core.files.clean_image)."""
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
