"""Reads of the scan log that pages reuse: aggregates only, never per-consumer data beyond the brand."""

from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import Scan

STATS_DAYS = 30


def since(days: int = STATS_DAYS):
    return timezone.now() - timedelta(days=days)


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
