"""The scan log is partitioned by month on PostgreSQL: months are made ahead, a scan of any date is logged, and
retention drops whole old months while the overview's numbers (read from the daily rollups) stay."""

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from scans import partitions, queries, retention, rollups
from scans.models import AlertEvidence, CounterfeitReport, DailyScans, Scan, ScanOutcome
from scans.tasks import apply_retention_task, create_scan_partitions_task
from tests.factories import ProductFactory, alert_of, ready_batch


def this_month() -> date:
    return timezone.now().astimezone(UTC).date().replace(day=1)


def partition_of(scan: Scan) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM scans_scan WHERE id = %s", [scan.pk])
        return cursor.fetchone()[0]


def scan_at(brand, when: datetime, **fields) -> Scan:
    return Scan.objects.create(brand=brand, scanned_at=when, outcome=ScanOutcome.AUTHENTIC, **fields)


def mid_month(months_ago: int) -> datetime:
    month = partitions.add_months(this_month(), -months_ago)
    return datetime(month.year, month.month, 15, 12, tzinfo=UTC)


def test_after_migrate_the_log_has_this_month_the_next_three_and_a_default(db):
    assert partitions.is_partitioned()
    months = partitions.monthly_partitions()
    assert {partitions.add_months(this_month(), n) for n in range(4)} <= set(months)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partdefid = to_regclass('scans_scan_default')")
        assert cursor.fetchone() is not None


def test_beat_makes_the_coming_months_and_a_repeat_makes_none(db, settings):
    later = partitions.add_months(this_month(), 7)
    created = partitions.create_partitions(months_ahead=3, today=later)
    assert created == [partitions.partition_name(partitions.add_months(later, n)) for n in range(4)]
    assert partitions.create_partitions(months_ahead=3, today=later) == []
    assert create_scan_partitions_task() == []  # this month and the next three exist since migrate
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "scans.tasks.create_scan_partitions_task" in tasks


def test_a_verified_scan_lands_in_its_months_partition(brand):
    code = ready_batch(ProductFactory(brand=brand), quantity=3, activated=True).codes.order_by("ordinal").first()
    response = Client().get(f"/01/{code.product.gtin}/21/{code.serial}", HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["authentic"]
    scan = Scan.objects.get(code=code)
    assert partition_of(scan) == partitions.partition_name(this_month())


def test_a_scan_of_a_month_without_partition_is_kept_and_moved_to_its_month_when_made(brand):
    long_ago = scan_at(brand, datetime(2001, 3, 10, 8, tzinfo=UTC), place="Ipoh")
    far_ahead = scan_at(brand, datetime(2040, 1, 2, tzinfo=UTC))
    assert partition_of(long_ago) == partition_of(far_ahead) == partitions.DEFAULT_PARTITION

    created = partitions.create_partitions()

    assert {"scans_scan_p200103", "scans_scan_p204001"} <= set(created)
    assert partition_of(long_ago) == "scans_scan_p200103" and partition_of(far_ahead) == "scans_scan_p204001"
    assert Scan.objects.get(pk=long_ago.pk).place == "Ipoh"
    newer = scan_at(brand, timezone.now())
    assert newer.pk > far_ahead.pk  # one id sequence across the partitions


def test_retention_drops_whole_months_past_the_cutoff_and_keeps_the_rest(brand, settings):
    settings.RETENTION_SCAN_MONTHS = 3
    scans = {months_ago: scan_at(brand, mid_month(months_ago)) for months_ago in (6, 5, 4, 3, 1, 0)}
    partitions.create_partitions()  # the old months get partitions of their own (out of the default)

    done = apply_retention_task()

    assert done["scans"] == 3
    assert set(Scan.objects.values_list("pk", flat=True)) == {scans[n].pk for n in (3, 1, 0)}
    months = partitions.monthly_partitions()
    assert partitions.add_months(this_month(), -3) in months
    assert not any(month < partitions.add_months(this_month(), -3) for month in months)
    assert retention.apply_retention()["scans"] == 0  # a repeat finds nothing


def test_dropped_scans_let_go_of_reports_and_alert_evidence(brand, owner_client, settings):
    settings.RETENTION_SCAN_MONTHS = 2
    alert = alert_of(ready_batch(ProductFactory(brand=brand), quantity=3, activated=True))
    evidence = AlertEvidence.objects.get(alert=alert)
    Scan.objects.filter(pk=evidence.scan_id).update(scanned_at=mid_month(5))
    report = CounterfeitReport.objects.create(brand=brand, scan_id=evidence.scan_id, where_bought="Pasar malam")

    retention.apply_retention()

    assert not Scan.objects.filter(pk=evidence.scan_id).exists()
    assert CounterfeitReport.objects.get(pk=report.pk).scan_id is None
    assert not AlertEvidence.objects.filter(alert=alert).exists()
    assert owner_client.get("/reports/").status_code == 200
    assert owner_client.get(f"/alerts/{alert.pk}/").status_code == 200


def test_the_overview_and_the_rollups_of_dropped_months_stay(brand, settings):
    settings.RETENTION_SCAN_MONTHS = 2
    for days_ago in (1, 2, 2, 10):  # what the overview shows: the last 30 days
        scan_at(brand, timezone.now() - timedelta(days=days_ago), region_code="MY-14", source="qr")
    old = [scan_at(brand, mid_month(4) + timedelta(hours=h), region_code="MY-10", source="qr") for h in range(5)]
    old_day = timezone.localdate(old[0].scanned_at)
    before = queries.overview(brand)
    rollups.forget(brand)  # as for a brand nobody looked at yet: retention must roll its old days up first

    done = retention.apply_retention()

    assert done["scans"] == 5 and not Scan.objects.filter(pk__in=[s.pk for s in old]).exists()
    assert DailyScans.objects.for_brand(brand).filter(day=old_day).values_list("scans", flat=True).get() == 5
    after = queries.overview(brand)
    assert (after.scans_30_days, after.scans_7_days, after.per_day, after.regions) == (
        before.scans_30_days,
        before.scans_7_days,
        before.per_day,
        before.regions,
    )
    assert after.scans_30_days == 4


def test_zero_months_keeps_every_scan(brand, settings):
    settings.RETENTION_SCAN_MONTHS = 0
    old = scan_at(brand, mid_month(40))
    assert "scans" not in retention.apply_retention()
    assert Scan.objects.filter(pk=old.pk).exists()


def test_the_migration_copies_every_scan_and_carries_the_id_sequence_on(brand):
    call_command("migrate", "scans", "0007", verbosity=0)
    assert not partitions.is_partitioned()
    kept = [scan_at(brand, mid_month(n), serial=f"S{n}") for n in (14, 2, 0)]

    call_command("migrate", "scans", verbosity=0)

    assert partitions.is_partitioned()
    assert partition_of(kept[0]) == partitions.partition_name(partitions.add_months(this_month(), -14))
    assert sorted(Scan.objects.values_list("pk", "serial")) == sorted((s.pk, s.serial) for s in kept)
    assert scan_at(brand, timezone.now()).pk > max(s.pk for s in kept)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'scans_scan'")
        indexes = {name for (name,) in cursor.fetchall()}
    assert {"scans_scan_pkey", "scan_brand_recent"} <= indexes and any("code_id" in name for name in indexes)


def test_a_retention_shorter_than_the_logs_own_views_is_refused_at_start_up():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "RETENTION_SCAN_MONTHS": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "RETENTION_SCAN_MONTHS must be 0 (keep every scan) or at least 2" in result.stderr
