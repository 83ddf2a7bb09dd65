"""Recall precision: which recalled units were scanned after the recall, where and when."""

from collections.abc import Iterator

from django.db.models import Count, F

from brands.spreadsheet import csv_lines
from codes.models import StatusChange

from .models import Scan

REPORT_COLUMNS = ["scanned_at", "gtin", "serial", "lot", "position", "outcome", "place", "region", "country", "via"]


def scans_after(change: StatusChange):
    """Scans of the units this change moved, since it was made (the brand's recent-scans index, then the
    code rows by primary key)."""
    return Scan.objects.filter(
        brand_id=change.brand_id, scanned_at__gte=change.created_at, code__status_change_id=change.pk
    ).order_by("scanned_at")


def summary(change: StatusChange) -> dict:
    scans = scans_after(change)
    totals = scans.aggregate(scans=Count("id"), units=Count("code_id", distinct=True))
    countries = scans.values("country_code").annotate(n=Count("id")).order_by("-n")[:10]
    return {**totals, "countries": list(countries), "latest": list(scans.order_by("-scanned_at")[:20])}


def csv_rows(change: StatusChange) -> Iterator[str]:
    """The report as CSV lines, streamed: a big recall can have many late scans."""
    rows = scans_after(change).annotate(
        position=F("code__ordinal") - F("code__batch__first_ordinal") + 1, lot=F("code__batch__lot__number")
    )
    found = rows.values_list(
        "scanned_at", "gtin", "serial", "lot", "position", "outcome", "place", "region_code", "country_code", "source"
    ).iterator(chunk_size=2000)
    return csv_lines(REPORT_COLUMNS, ([s[0].isoformat(), *s[1:]] for s in found))
