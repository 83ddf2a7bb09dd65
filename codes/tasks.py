import logging
from typing import Any

from celery import shared_task

from core.queueing import LOST_DATABASE, RETRY_ON_LOST_DATABASE

from . import services

log = logging.getLogger(__name__)


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def generate_batch_task(batch_id: int) -> int:
    """Worker entry point: ids in, the service does the work (and is safe to run twice)."""
    try:
        return services.generate_batch(batch_id).codes_done
    except LOST_DATABASE:
        raise  # not the batch's fault: run again on a new connection (RETRY_ON_LOST_DATABASE)
    except Exception:
        log.exception("batch generation failed", extra={"batch": batch_id})
        services.mark_failed(batch_id, "Generation stopped on an internal error; retry resumes where it stopped.")
        raise


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def render_print_part_task(print_file_id: int) -> None:
    """One part of a print job: parts are separate tasks, so several workers render one job together."""
    from . import printing

    try:
        printing.render_part(print_file_id)
    except LOST_DATABASE:
        raise  # not the job's fault: the part is rendered again on a new connection
    except Exception:
        log.exception("print part failed", extra={"print_file": print_file_id})
        printing.fail_job_of_part(print_file_id, "Rendering stopped on an internal error; order the print again.")
        raise


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def apply_change_task(change_id: int) -> int:
    """A recall or other status change of many units; resumes after its last committed chunk."""
    from . import recalls

    try:
        return recalls.apply_change(change_id).codes_changed
    except LOST_DATABASE:
        raise  # not the change's fault: it resumes on a new connection
    except Exception:
        log.exception("status change failed", extra={"change": change_id})
        recalls.fail_change(change_id, "Stopped on an internal error; start it again to resume.")
        raise


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def resend_stalled_work_task() -> int:
    """Beat, every minute: batches, print parts and status changes still queued long after their task was sent
    (its message was lost, say with the broker down) are sent again, and running ones whose worker stopped
    committing (killed mid-way) are resumed once their lease is out, so nothing stays queued or half-done."""
    from django.conf import settings

    from core.queueing import resend_stalled

    from .models import BatchState, ChangeState, CodeBatch, PrintFile, PrintFileState, PrintState, StatusChange

    live_jobs = [PrintState.QUEUED, PrintState.RENDERING]
    parts = PrintFile.objects.filter(part__gt=PrintFile.MANIFEST, job__state__in=live_jobs)
    lease: dict[str, Any] = {"field": "heartbeat_at", "after": settings.WORK_LEASE_SECONDS}
    return sum(
        len(resend_stalled(rows, task, **options))
        for rows, task, options in (
            (CodeBatch.objects.filter(state=BatchState.QUEUED), generate_batch_task, {}),
            (parts.filter(state=PrintFileState.PENDING), render_print_part_task, {}),
            (StatusChange.objects.filter(state=ChangeState.QUEUED), apply_change_task, {}),
            (CodeBatch.objects.filter(state=BatchState.GENERATING), generate_batch_task, lease),
            (parts.filter(state=PrintFileState.RENDERING), render_print_part_task, lease),
            (StatusChange.objects.filter(state=ChangeState.RUNNING), apply_change_task, lease),
        )
    )
