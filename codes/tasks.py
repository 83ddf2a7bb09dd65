import functools
import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task

from core.queueing import LOST_DATABASE, RETRY_ON_LOST_DATABASE

from . import imports, printing, recalls, services

log = logging.getLogger(__name__)


def failing_cleanly(what: str, *, key: str, fail: Callable[[int, str], Any], reason: str):
    """The one failure hook of the work tasks (ids in): an error of the work itself is logged, the work marked
    failed with `reason` (what its page shows) and the error raised again; a lost database is not the work's
    fault, so it is raised untouched and RETRY_ON_LOST_DATABASE runs the task again on a new connection."""

    def decorate(task: Callable[[int], Any]) -> Callable[[int], Any]:
        @functools.wraps(task)
        def run(work_id: int) -> Any:
            try:
                return task(work_id)
            except LOST_DATABASE:
                raise
            except Exception:
                log.exception(f"{what} failed", extra={key: work_id})
                fail(work_id, reason)
                raise

        return run

    return decorate


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
@failing_cleanly(
    "batch generation",
    key="batch",
    fail=services.mark_failed,
    reason="Generation stopped on an internal error; retry resumes where it stopped.",
)
def generate_batch_task(batch_id: int) -> int:
    """Worker entry point: ids in, the service does the work (and is safe to run twice)."""
    return services.generate_batch(batch_id).codes_done


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
@failing_cleanly(
    "print part",
    key="print_file",
    fail=printing.fail_job_of_part,
    reason="Rendering stopped on an internal error; order the print again.",
)
def render_print_part_task(print_file_id: int) -> None:
    """One part of a print job: parts are separate tasks, so several workers render one job together."""
    printing.render_part(print_file_id)


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
@failing_cleanly(
    "status change",
    key="change",
    fail=recalls.fail_change,
    reason="Stopped on an internal error; start it again to resume.",
)
def apply_change_task(change_id: int) -> int:
    """A recall or other status change of many units; resumes after its last committed chunk."""
    return recalls.apply_change(change_id).codes_changed


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
@failing_cleanly(
    "serial import",
    key="import",
    fail=imports.fail_import,
    reason="The import stopped on an internal error; retry resumes where it stopped.",
)
def import_serials_task(import_id: int) -> int:
    """Check and register an uploaded file of serials; resumes after its last committed chunk."""
    return imports.run_import(import_id).lines_accepted


@shared_task(acks_late=True, **RETRY_ON_LOST_DATABASE)
def resend_stalled_work_task() -> int:
    """Beat, every minute: batches, print parts, status changes and serial imports still queued long after their
    task was sent (its message was lost, say with the broker down) are sent again, and running ones whose worker
    stopped committing (killed mid-way) are resumed once their lease is out, so nothing stays queued or half-done."""
    from django.conf import settings

    from core.queueing import resend_stalled

    from .models import (
        BatchState,
        ChangeState,
        CodeBatch,
        ImportState,
        PrintFile,
        PrintFileState,
        PrintState,
        SerialImport,
        StatusChange,
    )

    live_jobs = [PrintState.QUEUED, PrintState.RENDERING]
    parts = PrintFile.objects.filter(part__gt=PrintFile.MANIFEST, job__state__in=live_jobs)
    lease: dict[str, Any] = {"field": "heartbeat_at", "after": settings.WORK_LEASE_SECONDS}
    batches = CodeBatch.objects.filter(imported=False)  # an imported batch moves with its import
    return sum(
        len(resend_stalled(rows, task, **options))
        for rows, task, options in (
            (batches.filter(state=BatchState.QUEUED), generate_batch_task, {}),
            (parts.filter(state=PrintFileState.PENDING), render_print_part_task, {}),
            (StatusChange.objects.filter(state=ChangeState.QUEUED), apply_change_task, {}),
            (batches.filter(state=BatchState.GENERATING), generate_batch_task, lease),
            (parts.filter(state=PrintFileState.RENDERING), render_print_part_task, lease),
            (StatusChange.objects.filter(state=ChangeState.RUNNING), apply_change_task, lease),
            (SerialImport.objects.filter(state=ImportState.QUEUED), import_serials_task, {}),
            (SerialImport.objects.filter(state=ImportState.RUNNING), import_serials_task, lease),
        )
    )
