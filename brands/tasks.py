import logging

from celery import shared_task

from core.queueing import RETRY_ON_LOST_DATABASE

from . import offboarding

log = logging.getLogger(__name__)


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def export_brand_task(brand_id: int) -> None:
    """The export ZIP of a brand whose deletion was requested (idempotent: a second run finds it made)."""
    offboarding.export_brand(brand_id)


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def delete_due_brands_task() -> list[int]:
    """Beat, hourly: delete the brands whose grace period is over (each deletion resumes after a crash)."""
    return offboarding.delete_due_brands()


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def send_unsent_tasks_task() -> int:
    """Beat, every minute: send the tasks the broker could not take while it was down."""
    from core.queueing import send_unsent_tasks

    return send_unsent_tasks()
