"""Retention and erasure of personal data (Malaysia PDPA, GDPR): settings say how long, a beat task enforces it."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from brands import offboarding

from . import partitions
from .models import CounterfeitReport, Scan

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
