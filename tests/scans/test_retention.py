"""Personal data is kept only as long as the RETENTION_* settings say; reports are erased on request."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from codes.models import PrintDownload
from scans.models import CounterfeitReport, Scan, ScanOutcome
from scans.retention import apply_retention
from scans.tasks import apply_retention_task
from tests.factories import ProductFactory, counterfeit_report_with_photo, ready_batch, ready_print_job

DAY = timedelta(days=1)


def aged(model, obj, field: str, days: int):
    model.objects.filter(pk=obj.pk).update(**{field: timezone.now() - days * DAY})
    return obj


@pytest.fixture
def retention(settings):
    settings.RETENTION_SCAN_IP_HASH_DAYS = 90
    settings.RETENTION_REPORT_PHOTO_DAYS = 180
    settings.RETENTION_REPORT_DAYS = 365
    settings.RETENTION_DOWNLOAD_LOG_DAYS = 400


def scan(brand, days: int) -> Scan:
    made = Scan.objects.create(brand=brand, outcome=ScanOutcome.AUTHENTIC, ip_hash="ab" * 16, place="Kuala Lumpur")
    return aged(Scan, made, "scanned_at", days)


def test_the_beat_task_forgets_old_ip_hashes_but_keeps_the_scans(brand, retention):
    old, recent = scan(brand, 91), scan(brand, 89)
    apply_retention_task()
    assert Scan.objects.get(pk=old.pk).ip_hash == "" and Scan.objects.get(pk=old.pk).place == "Kuala Lumpur"
    assert Scan.objects.get(pk=recent.pk).ip_hash == "ab" * 16


def test_old_reports_go_with_their_photo_files_and_photos_go_first(brand, retention):
    expired = aged(CounterfeitReport, counterfeit_report_with_photo(brand), "created_at", 366)
    photo_expired = aged(CounterfeitReport, counterfeit_report_with_photo(brand), "created_at", 181)
    fresh = counterfeit_report_with_photo(brand)
    files = {r.pk: r.photo.name for r in (expired, photo_expired, fresh)}
    assert all(default_storage.exists(name) for name in files.values())

    done = apply_retention()

    assert done["reports"] == 1 and done["report_photos"] == 1
    assert not CounterfeitReport.objects.filter(pk=expired.pk).exists()
    assert not default_storage.exists(files[expired.pk])
    kept = CounterfeitReport.objects.get(pk=photo_expired.pk)
    assert not kept.photo and kept.where_bought and not default_storage.exists(files[photo_expired.pk])
    assert default_storage.exists(files[fresh.pk]) and CounterfeitReport.objects.get(pk=fresh.pk).photo


def test_old_download_logs_are_deleted(brand, owner, owner_client, retention):
    job = ready_print_job(ready_batch(ProductFactory(brand=brand), quantity=5))
    for _ in range(2):
        owner_client.get(f"/print-jobs/{job.pk}/files/1/")
    old, recent = PrintDownload.objects.order_by("pk")
    aged(PrintDownload, old, "created_at", 401)
    apply_retention()
    assert list(PrintDownload.objects.values_list("pk", flat=True)) == [recent.pk]


def test_zero_days_keeps_forever_and_a_repeat_run_finds_nothing(brand, settings, retention):
    settings.RETENTION_SCAN_IP_HASH_DAYS = 0
    old = scan(brand, 5000)
    assert "ip_hashes" not in apply_retention()
    assert Scan.objects.get(pk=old.pk).ip_hash
    assert not any(apply_retention().values())


def test_beat_runs_retention_daily(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"scans.tasks.apply_retention_task", "brands.tasks.delete_due_brands_task"} <= tasks


# --- erasure on request -----------------------------------------------------------------------------------


def test_an_admin_erases_a_report_and_its_photo_file(brand, owner_client):
    report = counterfeit_report_with_photo(brand)
    name = report.photo.name
    assert owner_client.post(f"/reports/{report.pk}/erase/").status_code == 302
    assert not CounterfeitReport.objects.filter(pk=report.pk).exists()
    assert not default_storage.exists(name)


def test_viewers_cannot_erase_and_outsiders_get_404(brand, viewer_client, outsider_client):
    report = counterfeit_report_with_photo(brand)
    assert viewer_client.post(f"/reports/{report.pk}/erase/").status_code == 403
    assert outsider_client.post(f"/reports/{report.pk}/erase/").status_code == 404
    assert CounterfeitReport.objects.filter(pk=report.pk).exists() and default_storage.exists(report.photo.name)


def test_report_list_offers_erase_to_admins_only(brand, owner_client, viewer_client):
    counterfeit_report_with_photo(brand)
    assert b"/erase/" in owner_client.get("/reports/").content
    assert b"/erase/" not in viewer_client.get("/reports/").content


def test_a_run_killed_between_a_photo_and_its_report_is_finished_by_the_next_and_a_repeat_does_nothing(
    brand, retention
):
    expired = aged(CounterfeitReport, counterfeit_report_with_photo(brand), "created_at", 366)
    old = scan(brand, 91)
    default_storage.delete(expired.photo.name)  # what a worker killed after deleting the photo file leaves
    assert apply_retention_task() == {"ip_hashes": 1, "reports": 1, "report_photos": 0, "downloads": 0, "logins": 0}
    assert not CounterfeitReport.objects.filter(pk=expired.pk).exists() and Scan.objects.get(pk=old.pk).ip_hash == ""
    assert apply_retention_task() == {"ip_hashes": 0, "reports": 0, "report_photos": 0, "downloads": 0, "logins": 0}
