"""Alerts: findings of the detection rules become one open alert per code (or hot-spot region) and kind,
which later findings grow; people move it through new → investigating → escalated → closed."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from brands.models import Brand
from core.errors import ServiceError
from distributors import territory

from . import rules, wording
from .context import device_id
from .models import Alert, AlertEvent, AlertEvidence, AlertKind, AlertStatus, Scan

SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}
TRANSITIONS: dict[str, set[str]] = {
    AlertStatus.NEW: {AlertStatus.INVESTIGATING, AlertStatus.ESCALATED, AlertStatus.CLOSED},
    AlertStatus.INVESTIGATING: {AlertStatus.ESCALATED, AlertStatus.CLOSED},
    AlertStatus.ESCALATED: {AlertStatus.INVESTIGATING, AlertStatus.CLOSED},
    AlertStatus.CLOSED: set(),
}


class AlertError(ServiceError):
    """An alert that cannot be moved or cleared as asked."""


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
    if is_grouped(kind, params):
        return f"recall:{params['recall']}"
    return f"code:{scan.code_id}"


def is_grouped(kind: str, details: dict) -> bool:
    """Late scans of a recall's units make one alert per recall (a recall of 10,000 units is one thing to
    look into, not 10,000), which grows with each late scan; its page lists the units and their scans."""
    return kind == rules.LATE_SCAN and bool(details.get("recall"))


def _record(scan: Scan, finding: dict) -> int:
    kind, params = finding["kind"], finding.get("params", {})
    key = _key(scan, kind, params)
    with transaction.atomic():
        alert, created = _open_alert(scan, kind, key, finding)
        _, added = AlertEvidence.objects.get_or_create(alert=alert, scan_id=scan.pk)
        if added and not created:
            _grow(alert, scan, finding)
        if created:
            # When its scan was made (a back-dated history's too, the demo's), not when a worker got to it.
            AlertEvent.objects.create(
                alert=alert, at=alert.opened_at, to_status=AlertStatus.NEW, note="Opened by detection"
            )
            if _may_notify(alert):
                _publish(alert, "alert.opened")
        elif added and _worth_telling(alert.count // _step(alert, finding)):
            _publish(alert, "alert.updated")
    return alert.pk


def _open_alert(scan: Scan, kind: str, key: str, finding: dict) -> tuple[Alert, bool]:
    brand_id = scan.brand_id
    assert brand_id is not None  # record_findings skips scans of no brand
    open_alerts = Alert.objects.select_for_update().filter(brand_id=brand_id, kind=kind, key=key)
    alert = open_alerts.exclude(status=AlertStatus.CLOSED).first()
    if alert is not None:
        return alert, False
    params = finding.get("params", {})
    about_one_code = kind != rules.HOT_SPOT and not is_grouped(kind, params)
    try:
        with transaction.atomic():  # two workers opening the same alert: the unique index lets one win
            alert = Alert.objects.create(
                brand_id=brand_id,
                kind=kind,
                key=key,
                severity=finding.get("severity", "medium"),
                code_id=scan.code_id if about_one_code else None,
                product_id=scan.product_id,
                distributor_id=scan.distributor_id,
                gtin=scan.gtin,
                serial=scan.serial if about_one_code else "",
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
    alert.count += _step(alert, finding)
    alert.last_seen_at = max(alert.last_seen_at, scan.scanned_at)
    if SEVERITY_RANK.get(finding.get("severity", ""), 0) > SEVERITY_RANK.get(alert.severity, 0):
        alert.severity = finding["severity"]
    alert.details = {**alert.details, **params}
    alert.save(update_fields=["count", "last_seen_at", "severity", "details"])


def _step(alert: Alert, finding: dict) -> int:
    """How much one finding grows the alert: a hot spot's finding stands for a whole step of scans."""
    return max(1, int(finding.get("params", {}).get("step", 1))) if alert.kind == rules.HOT_SPOT else 1


def _may_notify(alert: Alert) -> bool:
    """At most ALERT_NOTIFICATIONS_PER_HOUR new alerts of a brand are sent out (webhooks, e-mail) an hour: a flood
    (a forger flagging code after code) stays in the inbox and the daily digest instead of one message each."""
    limit = settings.ALERT_NOTIFICATIONS_PER_HOUR
    if limit <= 0:
        return True
    since = timezone.now() - timedelta(hours=1)
    recent = Alert.objects.filter(brand_id=alert.brand_id, opened_at__gte=since).exclude(pk=alert.pk).count()
    return recent < limit


def _worth_telling(count: int) -> bool:
    """A growing alert is news at 2, 4, 8, 16 … scans: enough to follow, never a flood."""
    return count >= 2 and count & (count - 1) == 0


def _publish(alert: Alert, event: str) -> None:
    """Webhooks get the payload; e-mail subscribers who want alerts at once get an e-mail written for people
    (scans.alert_mail), sent by a worker after commit. Daily subscribers get the day's digest instead."""
    from core.queueing import enqueue_on_commit
    from notifications.services import publish

    from . import alert_mail
    from .tasks import send_alert_email_task

    publish(brand_id=alert.brand_id, event=event, data=alert_payload(alert), email=False)
    if alert_mail.wants_alert_email(brand_id=alert.brand_id, event=event):
        enqueue_on_commit(send_alert_email_task, alert.pk, event)


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


def clear_copy_flag(*, code, reason: str, by=None) -> int:
    """A person who checked a unit (a genuine label, a forged flag) clears its likely-copy flag, saying why: its
    detection state starts again from nothing, so the next genuine scan does not raise the flag anew, and its
    open likely-copy alert is closed with that reason. Returns how many alerts were closed."""
    from codes.models import Code

    if not reason.strip():
        raise AlertError("reason", "Say why the flag is cleared: it goes into the alert's history.")
    with transaction.atomic():
        Code.objects.filter(pk=code.pk).update(
            suspect_at=None, seen_regions=None, seen_devices=None, last_fix=None, prev_fix=None
        )
        open_alerts = list(
            Alert.objects.filter(code_id=code.pk, kind=rules.LIKELY_COPY).exclude(status=AlertStatus.CLOSED)
        )
        for alert in open_alerts:
            move_alert(alert=alert, to_status=AlertStatus.CLOSED, by=by, note=f"Copy flag cleared: {reason.strip()}")
    return len(open_alerts)


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


@dataclass(frozen=True)
class TimelineEntry:
    """A scan as an alert's page shows it: where (in names), from which device, and whether it is evidence."""

    scan: Scan
    where: str
    device: str
    evidence: bool


def page_timeline(alert: Alert, limit: int = 500) -> list[TimelineEntry]:
    """What an alert's page lists, oldest first: for an alert about one unit its whole scan timeline (the scans,
    regions and devices that made it a copy, evidence marked), else the evidence (a recall's late scans, a hot
    spot's made-up serials)."""
    evidence = set(AlertEvidence.objects.filter(alert=alert).values_list("scan_id", flat=True))
    if alert.code_id is not None:
        scans = Scan.objects.filter(brand_id=alert.brand_id, code_id=alert.code_id).order_by("scanned_at")[:limit]
    else:
        scans = timeline(alert, limit)
    return [
        TimelineEntry(
            scan=scan,
            where=territory.place_name(place=scan.place, region_code=scan.region_code, country_code=scan.country_code),
            device=device_id(scan.ip_hash, scan.user_agent_family),
            evidence=scan.pk in evidence,
        )
        for scan in scans
    ]


def opened_in(alert: Alert) -> str:
    """Where the scan that opened the alert was made, in names."""
    return territory.place_name(place=alert.place, region_code=alert.region_code, country_code=alert.country_code)


def reasons(alert: Alert) -> list[str]:
    """Why the alert was raised, in words (the wording layer's, in the reader's language)."""
    distributor = alert.distributor.name if alert.distributor_id and alert.distributor else ""
    return wording.alert_reasons(alert.kind, alert.details, where=opened_in(alert), distributor=distributor)
