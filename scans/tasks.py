from celery import shared_task

from core.queueing import LOST_DATABASE, RETRY_ON_LOST_DATABASE

from . import alert_mail, alerts, partitions, retention


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def apply_retention_task() -> dict[str, int]:
    """Beat, daily: delete personal data past its retention period (idempotent: a repeat finds nothing)."""
    return retention.apply_retention()


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def create_scan_partitions_task() -> list[str]:
    """Beat, daily: the scan log's partitions for this month and the next few (idempotent: a repeat makes none)."""
    return partitions.create_partitions()


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def record_findings_task(scan_id: int, findings: list[dict]) -> list[int]:
    """After a scan's commit: open or grow the brand's alerts (idempotent: each scan counts once per alert)."""
    return alerts.record_findings(scan_id=scan_id, findings=findings)


@shared_task(acks_late=True, autoretry_for=(OSError, *LOST_DATABASE), retry_backoff=30, max_retries=5)
def send_alert_email_task(alert_id: int, event: str) -> int:
    """After an alert opened or grew: e-mail the subscribers who want alerts at once."""
    return alert_mail.send_alert_email(alert_id=alert_id, event=event)


@shared_task(acks_late=True, autoretry_for=(OSError, *LOST_DATABASE), retry_backoff=60, max_retries=5)
def send_alert_digests_task() -> int:
    """Beat, hourly: yesterday's digest to each daily subscriber who has not had it (a repeat sends nothing)."""
    return alert_mail.send_alert_digests()
