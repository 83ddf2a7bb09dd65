from celery import shared_task

from . import services


@shared_task(acks_late=True)
def apply_retention_task() -> dict[str, int]:
    """Beat, daily: delete personal data past its retention period (idempotent: a repeat finds nothing)."""
    return services.apply_retention()
