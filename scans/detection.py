"""Detection glue: the pure rules (scans.rules) judge a counted scan on the code row its count returned; a scan's
warnings go into its verdict now, its findings to a worker after commit (scans.alerts records them), never in the
request's time. Also the not-recognised scans' hot-spot counter."""

import logging
import time
from datetime import datetime

from codes import services as code_services
from codes.rows import CodeRow
from core import ratelimit
from core.queueing import enqueue_on_commit

from . import rules
from .models import DetectionSettings, Scan, ScanOutcome
from .products import PRODUCT_CACHE_SECONDS, PRODUCT_CACHE_SIZE

log = logging.getLogger(__name__)


class ThresholdsCache:
    """brand id -> rules.Thresholds for a few seconds, like the product cache: no settings read per scan."""

    def __init__(self, seconds: float = PRODUCT_CACHE_SECONDS):
        self.seconds = seconds
        self._entries: dict[int, tuple[float, rules.Thresholds]] = {}

    def get(self, brand_id: int) -> rules.Thresholds:
        entry = self._entries.get(brand_id)
        if entry is not None and time.monotonic() - entry[0] < self.seconds:
            return entry[1]
        limits = thresholds_of(DetectionSettings.objects.filter(brand_id=brand_id).first())
        if len(self._entries) > PRODUCT_CACHE_SIZE:
            self._entries.clear()
        self._entries[brand_id] = (time.monotonic(), limits)
        return limits

    def clear(self) -> None:
        self._entries.clear()


def thresholds_of(row: DetectionSettings | None) -> rules.Thresholds:
    if row is None:
        return rules.Thresholds()
    return rules.Thresholds(
        max_regions=row.max_regions,
        max_devices=row.max_devices,
        max_speed_kmh=float(row.max_speed_kmh),
        min_travel_km=float(row.min_travel_km),
        markets=frozenset(row.markets),
        blocked=frozenset(row.blocked_countries),
        hot_spot_scans=row.hot_spot_scans,
        hot_spot_minutes=row.hot_spot_minutes,
        late_scans=row.late_scan_alerts,
    )


thresholds_cache = ThresholdsCache()


def judge_counted(verdict: rules.Verdict, scan: Scan, row: CodeRow, fix: rules.Fix | None, now: datetime) -> None:
    """Judge a counted scan of a genuine code on what the count returned: warn now, alert after commit."""
    if scan.brand_id is None:
        return
    signals = judge_and_alert(scan, row, verdict.status or "", fix, now)
    if signals is not None:
        verdict.warnings.append(_likely_copy(signals, row))


def judge_confirmed(scan_id: int, row: CodeRow, facts: dict, fix: rules.Fix | None, now: datetime) -> None:
    """Judge a page view once its browser confirmed it (and it was counted): `facts` are the scan's brand_id,
    country_code, out_of_territory and outcome, as its claim returned them."""
    if facts["brand_id"] is None:
        return
    scan = Scan(
        pk=scan_id,
        brand_id=facts["brand_id"],
        country_code=facts["country_code"],
        out_of_territory=bool(facts["out_of_territory"]),
    )
    # The page showed the unit's state; an active unit logged as inactive was past its lot's expiry.
    status = "expired" if row.status == "active" and facts["outcome"] == ScanOutcome.INACTIVE else row.status
    judge_and_alert(scan, row, status, fix, now)


def judge_and_alert(
    scan: Scan, row: CodeRow, status: str, fix: rules.Fix | None, now: datetime
) -> rules.CodeSignals | None:
    """Run the rules on a counted scan and hand the findings to a worker after commit. Returns the code's
    signals when later scanners must be warned of a copy."""
    found, signals = judge_and_flag(scan=scan, row=row, status=status, fix=fix, now=now)
    if found:
        alert_after_commit(scan.pk, found)
    return signals


def judge_and_flag(
    *, scan: Scan, row: CodeRow, status: str, fix: rules.Fix | None, now: datetime
) -> tuple[list[rules.Finding], rules.CodeSignals | None]:
    """The detection glue, for live scans and the demo's history alike: the rules on a counted scan and the code
    row as its count left it; flags the code when it tips into a likely copy (once). Returns the findings for
    the alerts, and the code's signals when later scanners must be warned of a copy (else None)."""
    limits = thresholds_cache.get(scan.brand_id)
    signals = rules.CodeSignals(
        scan_count=row.scan_count,
        regions=rules.set_size(row.seen_regions),
        devices=rules.device_count(row.seen_devices),
        previous_fix=rules.Fix.parse(row.prev_fix),
        suspect=row.suspect_at is not None,
    )
    facts = rules.ScanFacts(
        status=status,
        country_code=scan.country_code or None,
        fix=fix,
        out_of_territory=scan.out_of_territory,
        status_change=row.status_change_id,
    )
    found = rules.findings(signals, facts, limits)
    if not any(f.kind == rules.LIKELY_COPY for f in found):
        return found, None
    if not signals.suspect:  # the scan that tips it: one more statement, once per code
        code_services.mark_suspect(code_id=row.code_id, at=now)
    return found, signals


def warn_if_suspect(verdict: rules.Verdict, row: CodeRow) -> None:
    """A page view, not counted yet: its scanner is still told when earlier scans made the code a likely copy."""
    if row.suspect_at is not None:
        signals = rules.CodeSignals(
            row.scan_count, rules.set_size(row.seen_regions), rules.device_count(row.seen_devices)
        )
        verdict.warnings.append(_likely_copy(signals, row))


def _likely_copy(signals: rules.CodeSignals, row: CodeRow) -> rules.VerdictWarning:
    """The warning with where the code was scanned and since when: read off the row the count returned."""
    return rules.likely_copy_warning(signals, places=row.seen_regions, since=row.first_scanned_at)


def hot_spot_key(brand_id: int, gtin: str, region: str, now: datetime, minutes: int) -> str:
    """The cache counter of one GTIN's not-recognised scans from one region in the window holding `now`."""
    return f"hotspot:{brand_id}:{gtin}:{region}:{int(now.timestamp()) // (max(1, minutes) * 60)}"


def count_hot_spot(scan: Scan, now: datetime) -> None:
    """Count a not-recognised scan of a brand's GTIN per region in fixed windows (one cache round trip; with the
    cache down the scan is answered and logged all the same, uncounted)."""
    limits = thresholds_cache.get(scan.brand_id)
    if limits.hot_spot_scans <= 0:
        return
    window = max(1, limits.hot_spot_minutes) * 60
    region = scan.region_code or scan.country_code or "unknown"
    subject = scan.gtin or f"product-{scan.product_id}"  # a product ref's scans log no GTIN
    key = hot_spot_key(scan.brand_id, subject, region, now, limits.hot_spot_minutes)
    try:
        count = ratelimit.add_one(key, window + 60)
    except Exception:  # noqa: BLE001 - any cache failure
        log.warning("hot spot counter unavailable, scan not counted")
        return
    if rules.hot_spot_reached(count, limits):
        params = {"count": count, "minutes": limits.hot_spot_minutes, "region": region, "step": limits.hot_spot_scans}
        alert_after_commit(scan.pk, [rules.Finding(rules.HOT_SPOT, "high", params)])


def findings_payload(found: list[rules.Finding]) -> list[dict]:
    """Findings as the alerts task takes them (JSON)."""
    return [{"kind": f.kind, "severity": f.severity, "params": dict(f.params)} for f in found]


def alert_after_commit(scan_id: int, found: list[rules.Finding]) -> None:
    """Hand findings to the alerts worker once the scan is committed."""
    from .tasks import record_findings_task

    payload = findings_payload(found)
    enqueue_on_commit(record_findings_task, scan_id, payload)
