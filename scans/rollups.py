"""Daily rollups of the scan log: the overview reads a few hundred summary rows, not a million scans.

Whole days before today are rolled up once, the first time a page needs them (and by `seed_demo`); today is
counted live from the log. The log stays the evidence; a rollup only ever summarises days that are over.
A consumer's GPS fix can move a scan's region up to 15 minutes after it (scans.follow_up.LOCATE_TOKEN_MAX_AGE):
the rollup of a day is therefore made no earlier than the day after it, and a fix shared across midnight after
the roll-up keeps its IP region in the rollup (the log has the precise one).
"""

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import DailyScans, RollupState, Scan

GROUPS = ("day", "product_id", "batch_id", "country_code", "region_code", "outcome", "source")


def start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def grouped_scans(brand, start: datetime | None, end: datetime | None) -> list[dict]:
    """The log between `start` and `end`, grouped as DailyScans rows are (one query)."""
    scans = Scan.objects.for_brand(brand)
    if start is not None:
        scans = scans.filter(scanned_at__gte=start)
    if end is not None:
        scans = scans.filter(scanned_at__lt=end)
    return list(
        scans.annotate(day=TruncDate("scanned_at"), batch_id=F("code__batch_id"))
        .values(*GROUPS)
        .annotate(
            scans=Count("id"),
            first_scans=Count("id", filter=Q(code__first_scanned_at=F("scanned_at"))),
            out_of_territory=Count("id", filter=Q(out_of_territory=True)),
        )
        .order_by()
    )


def roll_up(brand, *, today: date | None = None) -> None:
    """Roll every whole day not rolled up yet into DailyScans; a no-op (one query) when up to date."""
    today = today or timezone.localdate()
    rolled_through = RollupState.objects.filter(brand=brand).values_list("rolled_through", flat=True).first()
    if rolled_through is not None and rolled_through >= today - timedelta(days=1):
        return
    with transaction.atomic():
        # Two pages loading at once: the row lock lets one roll up; the other then finds it done.
        state, _ = RollupState.objects.select_for_update().get_or_create(brand=brand)
        if state.rolled_through is not None and state.rolled_through >= today - timedelta(days=1):
            return
        start = start_of(state.rolled_through + timedelta(days=1)) if state.rolled_through else None
        rows = grouped_scans(brand, start, start_of(today))
        DailyScans.objects.bulk_create((DailyScans(brand=brand, **row) for row in rows), batch_size=5_000)
        state.rolled_through = today - timedelta(days=1)
        state.save(update_fields=["rolled_through"])


def forget(brand) -> None:
    """Drop a brand's rollups, so the next read rolls its log up again (after back-dated scans were added).
    Months that retention dropped from the log (RETENTION_SCAN_MONTHS) live only in the rollups: they go for good."""
    with transaction.atomic():
        DailyScans.objects.for_brand(brand).delete()
        RollupState.objects.filter(brand=brand).delete()


def daily_rows(brand, *, days: int, today: date | None = None) -> list[dict]:
    """Rows like DailyScans' (as dicts) for the last `days` days including today: rolled up, plus today live."""
    today = today or timezone.localdate()
    roll_up(brand, today=today)
    first_day = today - timedelta(days=days - 1)
    rolled = list(DailyScans.objects.for_brand(brand).filter(day__gte=first_day).values(*GROUPS, *COUNTS))
    return rolled + grouped_scans(brand, start_of(today), None)


COUNTS = ("scans", "first_scans", "out_of_territory")


def since_days(days: int) -> datetime:
    """The start of the day `days - 1` days before today: the window the overview shows."""
    return start_of(timezone.localdate() - timedelta(days=days - 1))
