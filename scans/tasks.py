from celery import shared_task

from serialize_saas.celery import RETRY_ON_LOST_DATABASE

from . import alerts, partitions, services


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def apply_retention_task() -> dict[str, int]:
    """Beat, daily: delete personal data past its retention period (idempotent: a repeat finds nothing)."""
    return services.apply_retention()


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def create_scan_partitions_task() -> list[str]:
    """Beat, daily: the scan log's partitions for this month and the next few (idempotent: a repeat makes none)."""
    return partitions.create_partitions()


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def record_findings_task(scan_id: int, findings: list[dict]) -> list[int]:
    """After a scan's commit: open or grow the brand's alerts (idempotent: each scan counts once per alert)."""
    return alerts.record_findings(scan_id=scan_id, findings=findings)
