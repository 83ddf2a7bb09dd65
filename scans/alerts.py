"""Alerts: findings of the detection rules become one open alert per code (or hot-spot region) and kind,
which later findings grow; people move it through new → investigating → escalated → closed."""

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from brands.models import Brand

from . import rules
from .models import Alert, AlertEvent, AlertEvidence, AlertKind, AlertStatus, Scan

SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}
TRANSITIONS = {
    AlertStatus.NEW: {AlertStatus.INVESTIGATING, AlertStatus.ESCALATED, AlertStatus.CLOSED},
    AlertStatus.INVESTIGATING: {AlertStatus.ESCALATED, AlertStatus.CLOSED},
    AlertStatus.ESCALATED: {AlertStatus.INVESTIGATING, AlertStatus.CLOSED},
    AlertStatus.CLOSED: set(),
}


class AlertError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def record_findings(*, scan_id: int, findings: list[dict]) -> list[int]:
    """Open or grow an alert for each finding of one scan. Safe to run twice: a scan is evidence once."""
    scan = Scan.objects.filter(pk=scan_id).first()
    if scan is None or scan.brand_id is None:
        return []
    return [_record(scan, finding) for finding in findings if finding["kind"] in AlertKind.values]


def _key(scan: Scan, kind: str, params: dict) -> str:
    if kind == rules.HOT_SPOT:
        # A product ref's scans log no GTIN: its hot spots are told apart by product.
        subject = scan.gtin or f"product-{scan.product_id}"
        return f"hot_spot:{subject}:{params.get('region', '')}"[:80]
    return f"code:{scan.code_id}"


def _record(scan: Scan, finding: dict) -> int:
    kind, params = finding["kind"], finding.get("params", {})
    key = _key(scan, kind, params)
    with transaction.atomic():
        alert, created = _open_alert(scan, kind, key, finding)
        _, added = AlertEvidence.objects.get_or_create(alert=alert, scan_id=scan.pk)
        if added and not created:
            _grow(alert, scan, finding)
        if created:
            AlertEvent.objects.create(alert=alert, to_status=AlertStatus.NEW, note="Opened by detection")
            _publish(alert, "alert.opened")
        elif added and _worth_telling(alert.count):
            _publish(alert, "alert.updated")
    return alert.pk


def _open_alert(scan: Scan, kind: str, key: str, finding: dict) -> tuple[Alert, bool]:
    open_alerts = Alert.objects.select_for_update().filter(brand_id=scan.brand_id, kind=kind, key=key)
    alert = open_alerts.exclude(status=AlertStatus.CLOSED).first()
    if alert is not None:
        return alert, False
    params = finding.get("params", {})
    try:
        with transaction.atomic():  # two workers opening the same alert: the unique index lets one win
            alert = Alert.objects.create(
                brand_id=scan.brand_id,
                kind=kind,
                key=key,
                severity=finding.get("severity", "medium"),
                code_id=scan.code_id,
                product_id=scan.product_id,
                distributor_id=scan.distributor_id,
                gtin=scan.gtin,
                serial=scan.serial if kind != rules.HOT_SPOT else "",
                place=scan.place,
                region_code=scan.region_code,
                country_code=scan.country_code,
                details=params,
                count=int(params.get("count", 1)) if kind == rules.HOT_SPOT else 1,
                opened_at=scan.scanned_at,
                last_seen_at=scan.scanned_at,
            )
    except IntegrityError:
        return open_alerts.exclude(status=AlertStatus.CLOSED).get(), False
    return alert, True


def _grow(alert: Alert, scan: Scan, finding: dict) -> None:
    params = finding.get("params", {})
    step = int(params.get("step", 1))
    alert.count += step if alert.kind == rules.HOT_SPOT else 1
    alert.last_seen_at = max(alert.last_seen_at, scan.scanned_at)
    if SEVERITY_RANK.get(finding.get("severity", ""), 0) > SEVERITY_RANK.get(alert.severity, 0):
        alert.severity = finding["severity"]
    alert.details = {**alert.details, **params}
    alert.save(update_fields=["count", "last_seen_at", "severity", "details"])


def _worth_telling(count: int) -> bool:
    """A growing alert is news at 2, 4, 8, 16 … scans: enough to follow, never a flood."""
    return count >= 2 and count & (count - 1) == 0


def _publish(alert: Alert, event: str) -> None:
    from notifications.services import publish

    publish(brand_id=alert.brand_id, event=event, data=alert_payload(alert))


def alert_payload(alert: Alert) -> dict:
    return {
        "alert": alert.pk,
        "kind": alert.kind,
        "severity": alert.severity,
        "status": alert.status,
        "count": alert.count,
        "code": alert.code_id,
        "gtin": alert.gtin,
        "serial": alert.serial,
        "place": alert.place,
        "region": alert.region_code,
        "country": alert.country_code,
        "distributor": alert.distributor_id,
        "details": alert.details,
        "opened_at": alert.opened_at.isoformat(),
        "last_seen_at": alert.last_seen_at.isoformat(),
    }


def move_alert(*, alert: Alert, to_status: str, by=None, note: str = "") -> Alert:
    """One step of the workflow; closing needs a reason. Conditional on the status the person saw."""
    from_status = alert.status
    if to_status not in TRANSITIONS.get(from_status, set()):
        raise AlertError("status", f"An alert that is {from_status} cannot become {to_status}.")
    if to_status == AlertStatus.CLOSED and not note.strip():
        raise AlertError("note", "Say why the alert is closed.")
    now = timezone.now()
    closing = (
        {"closed_at": now, "closed_by": by, "close_reason": note.strip()} if to_status == AlertStatus.CLOSED else {}
    )
    with transaction.atomic():
        moved = Alert.objects.filter(pk=alert.pk, status=from_status).update(
            status=to_status, status_changed_at=now, status_changed_by=by, **closing
        )
        if not moved:
            raise AlertError("status", "Someone else changed this alert meanwhile; look again.")
        AlertEvent.objects.create(alert=alert, by=by, from_status=from_status, to_status=to_status, note=note.strip())
        alert.refresh_from_db()
        _publish(alert, "alert.updated")
    return alert


def inbox(brand: Brand, *, status: str = "", kind: str = "", limit: int = 100):
    """Open alerts first by recency (or one status/kind), with counts per status and per kind."""
    alerts = Alert.objects.for_brand(brand)
    listed = alerts.exclude(status=AlertStatus.CLOSED) if not status else alerts.filter(status=status)
    if kind:
        listed = listed.filter(kind=kind)
    by_status = dict(alerts.values_list("status").annotate(n=Count("id")).order_by())
    open_by_kind = dict(
        alerts.exclude(status=AlertStatus.CLOSED).values_list("kind").annotate(n=Count("id")).order_by()
    )
    rows = listed.select_related("product", "distributor").order_by("-last_seen_at")[:limit]
    return rows, by_status, open_by_kind


def timeline(alert: Alert, limit: int = 500):
    """The alert's evidence scans, oldest first."""
    scan_ids = AlertEvidence.objects.filter(alert=alert).values("scan_id")
    return Scan.objects.filter(pk__in=scan_ids, brand_id=alert.brand_id).order_by("scanned_at")[:limit]
