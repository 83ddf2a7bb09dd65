"""Reads of the scan log that pages reuse: aggregates only, never per-consumer data beyond the brand."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from codes.models import CodeBatch, Product
from distributors.territory import region_label

from . import rollups
from .models import Alert, AlertStatus, CounterfeitReport, ReportStatus, Scan, ScanOutcome, ScanSource

STATS_DAYS = 30


def since(days: int = STATS_DAYS):
    return timezone.now() - timedelta(days=days)


def in_region(scans, code: str):
    """Scans made in a place given by its ISO 3166 code: a subdivision ("MY-14") or a whole country ("MY")."""
    code = code.strip().upper()
    return scans.filter(**{"region_code" if "-" in code else "country_code": code})


def scans_by_distributor(brand, days: int = STATS_DAYS) -> dict[int, dict]:
    """{distributor id: {"scans": n, "outside": n}} over the last `days` days (one grouped query)."""
    rows = (
        Scan.objects.for_brand(brand)
        .filter(scanned_at__gte=since(days), distributor__isnull=False)
        .values("distributor_id")
        .annotate(scans=Count("id"), outside=Count("id", filter=Q(out_of_territory=True)))
    )
    return {row["distributor_id"]: row for row in rows}


def distributor_scans_by_region_and_day(brand, distributor_id: int, days: int = STATS_DAYS) -> list[dict]:
    """Counts of a distributor's units' scans per day and region: what its own people may see."""
    return list(
        Scan.objects.for_brand(brand)
        .filter(scanned_at__gte=since(days), distributor_id=distributor_id)
        .annotate(day=TruncDate("scanned_at"))
        .values("day", "country_code", "region_code")
        .annotate(scans=Count("id"), outside=Count("id", filter=Q(out_of_territory=True)))
        .order_by("-day", "country_code", "region_code")
    )


def out_of_territory_scans(brand, distributor_id: int, limit: int = 50):
    return (
        Scan.objects.for_brand(brand)
        .filter(distributor_id=distributor_id, out_of_territory=True)
        .select_related("product")[:limit]
    )


# ---------------------------------------------------------------------------------------------------------
# The overview: read from daily rollups plus today's live rows (scans.rollups), so its cost does not grow
# with the log. A fixed number of queries whatever the brand's size.
# ---------------------------------------------------------------------------------------------------------

OVERVIEW_DAYS = 30
COUNTED = {ScanSource.QR, ScanSource.API, ScanSource.PIN}  # link previews and crawlers are not people


def counts_as_scan(row: dict) -> bool:
    """A person's scan: counted sources, and page views of codes we never issued (a page view of one of our
    codes counts once its browser confirms it, and becomes QR; a made-up serial has nothing to confirm)."""
    return row["source"] in COUNTED or (
        row["source"] == ScanSource.PAGE and row["outcome"] == ScanOutcome.NOT_RECOGNISED
    )


@dataclass
class Overview:
    codes_issued: int
    scans_today: int
    scans_7_days: int
    scans_30_days: int
    first_scan_rate: float | None  # share of authentic scans that were their code's first
    not_recognised_rate: float | None
    out_of_territory: int
    new_reports: int
    open_alerts: int
    units_first_scanned: int = 0  # units whose first counted scan fell in the window (any verdict)
    per_day: list[dict] = field(default_factory=list)  # {"day", "scans", "not_recognised"}, oldest first
    regions: list[dict] = field(default_factory=list)  # {"code", "name", "scans"}, most first
    top_products: list[dict] = field(default_factory=list)  # {"product", "scans"}
    top_lots: list[dict] = field(default_factory=list)  # {"batch", "scans"}


def overview(brand, *, today: date | None = None, top: int = 5) -> Overview:
    today = today or timezone.localdate()
    rows = [r for r in rollups.daily_rows(brand, days=OVERVIEW_DAYS, today=today) if counts_as_scan(r)]
    by_day: dict[date, list[int]] = {today - timedelta(days=n): [0, 0] for n in range(OVERVIEW_DAYS)}
    regions: Counter[str] = Counter()
    products: Counter[int] = Counter()
    batches: Counter[int] = Counter()
    authentic = firsts = first_scanned = not_recognised = outside = 0
    for row in rows:
        first_scanned += row["first_scans"]
        counts = by_day.setdefault(row["day"], [0, 0])
        counts[0] += row["scans"]
        bad = row["outcome"] == ScanOutcome.NOT_RECOGNISED
        counts[1] += row["scans"] if bad else 0
        not_recognised += row["scans"] if bad else 0
        if row["outcome"] == ScanOutcome.AUTHENTIC:
            authentic += row["scans"]
            firsts += row["first_scans"]
        outside += row["out_of_territory"]
        regions[row["region_code"] or row["country_code"] or ""] += row["scans"]
        if row["product_id"]:
            products[row["product_id"]] += row["scans"]
        if row["batch_id"]:
            batches[row["batch_id"]] += row["scans"]
    total = sum(c[0] for c in by_day.values())
    top_products = products.most_common(top)
    top_batches = batches.most_common(top)
    product_names = Product.objects.for_brand(brand).in_bulk([p for p, _ in top_products])
    batch_rows = (
        CodeBatch.objects.for_brand(brand).select_related("product", "lot").in_bulk([b for b, _ in top_batches])
    )
    return Overview(
        codes_issued=CodeBatch.objects.for_brand(brand).aggregate(n=Sum("quantity"))["n"] or 0,
        scans_today=by_day[today][0],
        scans_7_days=sum(c[0] for d, c in by_day.items() if d > today - timedelta(days=7)),
        scans_30_days=total,
        first_scan_rate=firsts / authentic if authentic else None,
        not_recognised_rate=not_recognised / total if total else None,
        out_of_territory=outside,
        new_reports=CounterfeitReport.objects.for_brand(brand).filter(status=ReportStatus.NEW).count(),
        open_alerts=open_alerts(brand),
        units_first_scanned=first_scanned,
        per_day=[{"day": d, "scans": c[0], "not_recognised": c[1]} for d, c in sorted(by_day.items())],
        regions=[
            {"code": code, "name": region_label(code) or "Unknown place", "scans": n}
            for code, n in regions.most_common(10)
        ],
        top_products=[{"product": product_names[p], "scans": n} for p, n in top_products if p in product_names],
        top_lots=[{"batch": batch_rows[b], "scans": n} for b, n in top_batches if b in batch_rows],
    )


def open_alerts(brand) -> int:
    """Alerts not closed yet (detection's inbox)."""
    return Alert.objects.for_brand(brand).exclude(status=AlertStatus.CLOSED).count()
