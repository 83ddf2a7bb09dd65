"""A living demo: 30 days of consumer scans of the demo batch, so every page has something true to show.

Scans are placed through the same offline location data real scans use (scans.geo, from IP addresses that
the packaged GeoLite2 data puts in Malaysian states and neighbouring countries), carry the same fields a real
scan gets (hashed IP, device family, distributor and territory verdict), and are inserted set-based: one
bulk INSERT of the log and one bulk UPDATE of the codes' scan summaries, never a verify call per scan. Then the
history passes, oldest first, through the same detection as live scans (`detection.judge_and_flag` on the code row as
each count left it, `alerts.record_findings` for what it finds): the copied label is flagged and the inbox holds
the likely-copy and grey-market alerts live scans would have opened.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from codes import rows
from codes import services as code_services
from codes.models import Code, CodeBatch
from codes.rows import CodeRow
from distributors.queries import current_ranges
from distributors.territory import is_outside

from . import alerts, rollups, rules
from .context import device_id, place_fields
from .detection import findings_payload, judge_and_flag
from .geo import Place, default_locator, ip_hash
from .models import CounterfeitReport, ReportStatus, Scan, ScanOutcome, ScanSource

# Where consumers scan from, weighted: most in the Klang Valley and Johor, where the demo distributors sell.
MALAYSIA = [
    ("175.136.8.1", 30),  # Kuala Lumpur, MY-14
    ("175.136.56.1", 22),  # Shah Alam, Selangor, MY-10
    ("60.50.0.1", 10),  # Petaling Jaya, Selangor, MY-10
    ("175.136.224.1", 18),  # Johor Bahru, MY-01
    ("175.137.16.1", 7),  # George Town, Penang, MY-07
    ("60.48.64.1", 5),  # Ipoh, Perak, MY-08
    ("175.136.120.1", 3),  # Kota Kinabalu, Sabah, MY-12
    ("175.137.176.1", 3),  # Kuching, Sarawak, MY-13
    ("115.132.0.1", 2),  # Temerloh, Pahang, MY-06
]
ABROAD = ["116.14.0.1", "36.66.0.1", "1.46.0.1", "171.64.0.1"]  # Singapore, Jakarta, Bangkok, Stanford
COPY_PLACES = ["175.136.8.1", "175.137.16.1", "60.48.64.1", "36.66.0.1", "1.46.0.1", "116.14.0.1", "175.137.176.1"]
DEVICES = [("Mobile Safari", 40), ("Chrome Mobile", 45), ("Samsung Internet", 10), ("Facebook", 5)]
WHERE_BOUGHT = [
    ("Pasar malam, Jalan Alor", "Price was half of the pharmacy's. Label looked a bit blurry."),
    ("Online marketplace seller 'vitaminhub88'", "Seal was already loose when it arrived."),
    ("Kedai runcit near Pudu", ""),
]


@dataclass
class _Planned:
    code: Code | None
    serial: str
    at: datetime
    ip: str
    source: str = ScanSource.QR


def seed_scans(*, batch: CodeBatch, days: int = 30, seed: int = 2026) -> int:
    """Add the demo scans of `batch` (nothing if its product has scans already); the number of scans added.
    The history passes through detection as live scans do, oldest first: the same rules flag the copied unit
    and open the same alerts (likely copy, grey market) that live scans would have opened."""
    product = batch.product
    if Scan.objects.filter(product=product).exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    codes = list(Code.objects.filter(batch=batch).order_by("ordinal"))
    plan = sorted(_plan(rng, codes, now, days), key=lambda p: p.at)
    holders = _holders(batch)
    locator = default_locator(settings.GEOIP_CITY_DB)
    places: dict[str, Place | None] = {ip: locator.from_ip(ip) for ip in {p.ip for p in plan}}
    scans = [_scan(rng, batch, item, places[item.ip], holders) for item in plan]
    with transaction.atomic():
        created = Scan.objects.bulk_create(scans, batch_size=1_000)
        summaries: dict[int, dict] = {}
        findings = []
        for scan, item in zip(created, plan, strict=True):
            if item.code is None or item.source == ScanSource.PREVIEW:  # previews never count (as in verify)
                continue
            summary = summaries.setdefault(item.code.pk, {})
            _summarise(summary, scan, places[item.ip])
            if settings.DETECTION_ENABLED:
                findings.append((scan.pk, _judge(scan, item.code, summary, places[item.ip], batch.lot.expires_on)))
        code_services.set_scan_summaries(summaries)
        for scan_id, found in findings:
            if found:
                alerts.record_findings(scan_id=scan_id, findings=found)
        _reports(rng, batch, [s for s in created if s.outcome == ScanOutcome.NOT_RECOGNISED])
        rollups.forget(product.brand)  # back-dated scans: the next overview rolls the days up again
    return len(created)


def _summarise(summary: dict, scan: Scan, place: Place | None) -> None:
    """What the verify path's count keeps on the code row: counts, first place, and detection's state (the
    `;`-terminated sets of regions and devices, and the last two located fixes)."""
    summary["scan_count"] = summary.get("scan_count", 0) + 1
    summary.setdefault("first_scanned_at", scan.scanned_at)
    summary.setdefault("first_scanned_in", scan.place[:160])
    summary["last_scanned_at"] = scan.scanned_at
    for name, value in (
        ("seen_regions", scan.region_code or scan.country_code),
        ("seen_devices", f"{scan.ip_hash[:8]}.{device_id(scan.ip_hash, scan.user_agent_family)}"),
    ):
        entries = summary.get(name) or ""
        if value and f";{value};" not in f";{entries}" and len(entries) < rows.SET_MAX_CHARS:
            summary[name] = entries + value + ";"
    if place is not None and place.latitude is not None and place.longitude is not None:
        summary["prev_fix"] = summary.get("last_fix")
        summary["last_fix"] = rules.Fix(place.latitude, place.longitude, scan.scanned_at.timestamp()).encode()


def _judge(scan: Scan, code: Code, summary: dict, place: Place | None, expires_on) -> list[dict]:
    """The verify path's detection on one scan of the history, with the code row as its count left it; the
    findings as the alerts task takes them."""
    row = CodeRow(
        code_id=code.pk,
        status=code.status,
        scan_count=summary["scan_count"],
        first_scanned_at=summary["first_scanned_at"],
        first_scanned_in=summary["first_scanned_in"],
        pin_first_used_at=None,
        seen_regions=summary.get("seen_regions"),
        seen_devices=summary.get("seen_devices"),
        prev_fix=summary.get("prev_fix"),
        suspect_at=summary.get("suspect_at"),
        status_change_id=code.status_change_id,
    )
    fix = None
    if place is not None and place.latitude is not None and place.longitude is not None:
        fix = rules.Fix(place.latitude, place.longitude, scan.scanned_at.timestamp())
    status = rules.effective_status(code.status, expires_on, timezone.localdate(scan.scanned_at))
    found, warned = judge_and_flag(scan=scan, row=row, status=status, fix=fix, now=scan.scanned_at)
    if warned is not None:
        summary.setdefault("suspect_at", scan.scanned_at)  # what mark_suspect just wrote on the row
    return findings_payload(found)


def _plan(rng: random.Random, codes: list[Code], now: datetime, days: int) -> list[_Planned]:
    def moment(day_ago: float) -> datetime:
        # Malaysian daytime (08:00–23:00, UTC+8), more scans in recent days.
        day = now - timedelta(days=day_ago)
        return day.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(minutes=rng.randint(0, 15 * 60))

    def when() -> datetime:
        return min(moment(int(days * rng.random() ** 1.4)), now - timedelta(minutes=rng.randint(1, 600)))

    local = [ip for ip, _ in MALAYSIA]
    weights = [w for _, w in MALAYSIA]
    plan: list[_Planned] = []
    # Units of each distributor are mostly scanned in its own territory (positions 1–400 Klang Valley,
    # 401–700 Johor); a few travel: the out-of-territory evidence.
    for code in rng.sample(codes[:980], 420):
        position = codes.index(code) + 1
        if position <= 400:
            ip = rng.choice(["175.136.8.1", "175.136.56.1", "60.50.0.1"]) if rng.random() < 0.9 else rng.choice(local)
        elif position <= 700:
            ip = "175.136.224.1" if rng.random() < 0.85 else rng.choice(["116.14.0.1", *local])
        else:
            ip = rng.choices(local, weights)[0] if rng.random() < 0.93 else rng.choice(ABROAD)
        first = when()
        plan.append(_Planned(code, code.serial, first, ip))
        for _ in range(rng.choices([0, 1, 2], [80, 16, 4])[0]):  # the same consumer checking again, later
            plan.append(_Planned(code, code.serial, first + timedelta(hours=rng.randint(1, 96)), ip))
    # A copied label: one real serial scanned in seven places within a week.
    copied = codes[990]
    start = now - timedelta(days=6)
    plan += [_Planned(copied, copied.serial, start + timedelta(hours=20 * i), ip) for i, ip in enumerate(COPY_PLACES)]
    # Made-up serials on fake labels with the brand's real GTIN (page views: nothing to confirm), and a chat
    # app's link preview.
    fakes = [f"FAKE{rng.randint(10_000_000, 99_999_999)}" for _ in range(9)]
    plan += [_Planned(None, serial, when(), rng.choice(local), ScanSource.PAGE) for serial in fakes]
    plan.append(_Planned(codes[1], codes[1].serial, now - timedelta(days=2), "175.136.8.1", ScanSource.PREVIEW))
    return [p for p in plan if p.at <= now]


def _holders(batch: CodeBatch) -> list[tuple[int, int, int, frozenset[str]]]:
    return [(first, last, d, frozenset(t)) for _b, first, last, d, t in current_ranges([batch.pk])]


def _scan(rng, batch: CodeBatch, item: _Planned, place: Place | None, holders) -> Scan:
    scan = Scan(
        brand_id=batch.product.brand_id,
        product_id=batch.product_id,
        code_id=item.code.pk if item.code else None,
        gtin=batch.product.gtin,
        serial=item.serial,
        scanned_at=item.at,
        source=item.source,
        outcome=ScanOutcome.AUTHENTIC if item.code else ScanOutcome.NOT_RECOGNISED,
        user_agent_family=rng.choices([d for d, _ in DEVICES], [w for _, w in DEVICES])[0],
        ip_hash=ip_hash(item.ip, settings.SECRET_KEY.encode()),
        **place_fields(place),
    )
    if item.code is not None:
        position = item.code.ordinal - batch.first_ordinal + 1
        for first, last, distributor_id, territory in holders:
            if first <= position <= last:
                scan.distributor_id = distributor_id
                scan.out_of_territory = is_outside(territory, scan.country_code, scan.region_code)
    return scan


def _reports(rng, batch: CodeBatch, fakes: list[Scan]) -> None:
    statuses = [ReportStatus.NEW, ReportStatus.NEW, ReportStatus.REVIEWED]
    CounterfeitReport.objects.bulk_create(
        CounterfeitReport(
            brand_id=batch.product.brand_id,
            scan=scan,
            gtin=scan.gtin,
            serial=scan.serial,
            where_bought=where,
            notes=notes,
            status=status,
            ip_hash=scan.ip_hash,
        )
        for scan, (where, notes), status in zip(fakes, WHERE_BOUGHT, statuses, strict=False)
    )
