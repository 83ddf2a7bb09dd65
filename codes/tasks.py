import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def generate_batch_task(batch_id: int) -> int:
    """Worker entry point: ids in, the service does the work (and is safe to run twice)."""
    try:
        return services.generate_batch(batch_id).codes_done
    except Exception:
        log.exception("batch generation failed", extra={"batch": batch_id})
        services.mark_failed(batch_id, "Generation stopped on an internal error; retry resumes where it stopped.")
        raise
