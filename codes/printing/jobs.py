"""Print jobs: a batch's positions [first_position, last_position] (1-based, in print order) cut into parts of at
most `part_size` codes; each part is one file, rendered by its own Celery task, so two workers render two parts at
once. The last part to finish writes the manifest and marks the job ready; a failing part fails the whole job.
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from datetime import timedelta
from typing import Any

from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from brands.models import Brand
from core.queueing import enqueue_on_commit

from .. import quotas
from ..models import BatchState, CodeBatch, PrintFile, PrintFileState, PrintJob, PrintState
from ..services import next_number
from .options import PrintError, clean_options, clean_part_size, clean_range, symbology_problem
from .rendering import PartSpec, job_filename, manifest, manifest_bytes, write_part

log = logging.getLogger(__name__)


def parts_of(job: PrintJob) -> list[PrintFile]:
    """The job's parts, unsaved: its range cut into pieces of `part_size` codes, numbered from 1. The one loop over
    a job's parts, shared by the workers' jobs (which save them) and `export_batch` (which renders them at once)."""
    first, last, size = job.first_position, job.last_position, job.part_size
    return [
        PrintFile(job=job, part=n, first_position=start, last_position=min(start + size - 1, last))
        for n, start in enumerate(range(first, last + 1, size), 1)
    ]


def check_request(
    batch: CodeBatch,
    fmt: str,
    options: dict[str, Any] | None,
    first_position: int | None,
    last_position: int | None,
    part_size: int | None,
) -> PrintJob:
    """A print request checked and completed (defaults filled in) as an unsaved job; PrintError otherwise."""
    _check_batch(batch)
    options = clean_options(fmt, options)
    problem = symbology_problem(batch.product, fmt, options)
    if problem:
        raise PrintError(*problem)
    first, last = clean_range(batch, first_position, last_position)
    return PrintJob(
        batch=batch,
        format=fmt,
        options=options,
        first_position=first,
        last_position=last,
        part_size=clean_part_size(part_size),
    )


def render_file(job: PrintJob, part: PrintFile, storage: Storage, name: str, progress=None) -> PrintFile:
    """Write one part of a job into `storage` under `name`; the part, with its stored name, size and SHA-256."""
    spec = PartSpec(job.batch, job.format, job.options, part.first_position, part.last_position, progress=progress)
    part.name, part.size, part.sha256 = write_part(spec, storage, name)
    return part


def _check_batch(batch: CodeBatch) -> None:
    if batch.state != BatchState.READY:
        raise PrintError("batch", f"Batch {batch.number} is not ready yet ({batch.get_state_display().lower()}).")


@transaction.atomic
def create_print_job(
    *,
    batch: CodeBatch,
    fmt: str,
    options: dict[str, Any] | None = None,
    first_position: int | None = None,
    last_position: int | None = None,
    requested_by=None,
    part_size: int | None = None,
    enqueue: bool = True,
) -> PrintJob:
    """Validate a print request, record the job and its parts, and queue one render task per part."""
    job = check_request(batch, fmt, options, first_position, last_position, part_size)
    # Under the brand row's lock: two requests at once cannot both take the last of the plan's room.
    brand = Brand.objects.select_for_update().get(pk=batch.product.brand_id)
    problem = quotas.print_problem(brand, fmt=fmt, codes=job.quantity)
    if problem:
        raise PrintError("format", problem)
    job.requested_by, job.number = requested_by, next_number(PrintJob, batch.product.brand_id)
    job.save()
    parts = PrintFile.objects.bulk_create(parts_of(job))
    if enqueue:
        from ..tasks import render_print_part_task

        for part in parts:
            enqueue_on_commit(render_print_part_task, part.pk)
    return job


FINISH_CLAIM_TIMEOUT = timedelta(minutes=10)


def storage() -> Storage:
    return default_storage


def _claim(file_id: int) -> PrintFile | None:
    """Claim a part for this attempt; None when it is done or its job is over.

    A redelivered task (its worker died) takes the part over: Celery redelivers only after the worker is
    gone or the visibility timeout passed, and each attempt writes under its own name, so at worst two
    attempts render the same bytes and only the one holding the claim at the end is kept. The name is
    recorded with the claim, before a byte is written: a worker killed while storing the file leaves a
    partial file that the next attempt (or a failed job, or the brand's deletion) finds and deletes.
    """
    token = uuid.uuid4().hex
    with transaction.atomic():
        part = (
            PrintFile.objects.select_for_update(of=("self",))
            .select_related("job__batch__product__brand", "job__batch__lot")
            .get(pk=file_id)
        )
        if part.state == PrintFileState.DONE or part.job.state not in (PrintState.QUEUED, PrintState.RENDERING):
            return None
        stale, job = part.name, part.job
        filename = job_filename(job, part)
        part.state, part.claim, part.claimed_at, part.heartbeat_at = PrintFileState.RENDERING, token, Now(), Now()
        part.name = f"print-jobs/{job.pk}/{token[:12]}/{filename}"
        part.codes_done = 0  # a new attempt writes the part from its first code again
        part.save(update_fields=["state", "claim", "claimed_at", "heartbeat_at", "name", "codes_done"])
        PrintJob.objects.filter(pk=part.job_id, state=PrintState.QUEUED).update(
            state=PrintState.RENDERING, started_at=Coalesce(F("started_at"), Now())
        )
    if stale:  # the unfinished file of an attempt that died
        storage().delete(stale)
    part.claim = token
    return part


def render_part(file_id: int) -> None:
    """Render one part of a print job (the worker's task); idempotent, and finishes the job after its last part."""
    part = _claim(file_id)
    if part is not None:
        job = PrintJob.objects.select_related("batch__product__key", "batch__product__brand", "batch__lot").get(
            pk=part.job_id
        )
        render_file(job, part, storage(), part.name, progress=lambda done: _note_progress(part, done))
        with transaction.atomic():
            kept = PrintFile.objects.filter(pk=part.pk, claim=part.claim, job__state=PrintState.RENDERING).update(
                state=PrintFileState.DONE,
                name=part.name,
                size=part.size,
                sha256=part.sha256,
                finished_at=Now(),
                codes_done=part.quantity,
            )
            if kept:
                _sum_progress(job.pk)
        if not kept:  # another attempt took the part over, or the job failed meanwhile
            storage().delete(part.name)
            return
        log.info("print part rendered", extra={"print_job": job.pk, "part": part.part, "bytes": part.size})
    finish_job(PrintFile.objects.values_list("job_id", flat=True).get(pk=file_id))


def _note_progress(part: PrintFile, done: int) -> None:
    """Record how far this attempt has written its part, unless another attempt took the part over."""
    with transaction.atomic():
        if PrintFile.objects.filter(pk=part.pk, claim=part.claim).update(codes_done=done, heartbeat_at=Now()):
            _sum_progress(part.job_id)


def _sum_progress(job_id: int) -> None:
    """The job's codes done = the sum over its parts. Each part counts its own codes (a redelivered part starts
    again from 0, never counted twice); the job row is locked first, so two parts reporting at once take turns
    and the second one's sum sees the first one's count (each statement reads what is committed when it starts)."""
    PrintJob.objects.select_for_update().filter(pk=job_id).values_list("pk", flat=True).first()
    total = (
        PrintFile.objects.filter(job_id=OuterRef("pk"), part__gt=0)
        .values("job_id")
        .annotate(n=Sum("codes_done"))
        .values("n")
    )
    PrintJob.objects.filter(pk=job_id).update(codes_done=Coalesce(Subquery(total), 0))


def render_job_here(job: PrintJob) -> PrintJob:
    """Render every part of a job in this process, as the workers would (demo data, tests, scripts)."""
    for file_id in job.files.filter(part__gt=0).order_by("part").values_list("pk", flat=True):
        render_part(file_id)
    job.refresh_from_db()
    return job


def finish_job(job_id: int) -> bool:
    """Write the manifest and mark the job ready once every part is done; True if this call did it."""
    pending = PrintFile.objects.filter(job_id=job_id, part__gt=0).exclude(state=PrintFileState.DONE)
    # Two parts finishing together may both get here: the conditional UPDATE lets exactly one continue.
    # A claim left by a worker that died while writing the manifest is taken over once it is stale.
    stale = timezone.now() - FINISH_CLAIM_TIMEOUT
    claimed = (
        PrintJob.objects.filter(
            Q(state=PrintState.RENDERING) | Q(state=PrintState.FINISHING, finishing_since__lt=stale), pk=job_id
        )
        .exclude(pk__in=pending.values("job_id"))
        .update(state=PrintState.FINISHING, finishing_since=Now())
    )
    if not claimed:
        return False
    job = PrintJob.objects.select_related("batch__product__brand", "batch__lot").get(pk=job_id)
    parts = list(job.files.filter(part__gt=0).order_by("part"))
    body = manifest_bytes(manifest(job, parts))
    name = _manifest_name_for_this_attempt(job)
    name = storage().save(name, File(io.BytesIO(body)))
    with transaction.atomic():
        PrintFile.objects.filter(job=job, part=PrintFile.MANIFEST).update(
            state=PrintFileState.DONE,
            name=name,
            size=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            finished_at=timezone.now(),
        )
        ready = PrintJob.objects.filter(pk=job.pk, state=PrintState.FINISHING).update(
            state=PrintState.READY, finished_at=Now()
        )
        if ready:
            _publish_ready(job)
    log.info("print job ready", extra={"print_job": job.pk, "parts": len(parts)})
    return True


def _manifest_name_for_this_attempt(job: PrintJob) -> str:
    """Record where this attempt writes the manifest before writing it (as parts do), deleting the file of a
    finisher that died: a job keeps exactly one manifest file."""
    whole = PrintFile(
        job=job, part=PrintFile.MANIFEST, first_position=job.first_position, last_position=job.last_position
    )
    name = f"print-jobs/{job.pk}/{uuid.uuid4().hex[:12]}/{job_filename(job, whole)}"
    stale = PrintFile.objects.filter(job=job, part=PrintFile.MANIFEST).values_list("name", flat=True).first()
    if stale:
        storage().delete(stale)
    PrintFile.objects.update_or_create(
        job=job,
        part=PrintFile.MANIFEST,
        defaults={
            "first_position": job.first_position,
            "last_position": job.last_position,
            "state": PrintFileState.RENDERING,
            "name": name,
            "size": None,
            "sha256": "",
            "finished_at": None,
        },
    )
    return name


def _publish_ready(job: PrintJob) -> None:
    from notifications.services import publish

    publish(
        brand_id=job.batch.product.brand_id,
        event="print_job.ready",
        data={
            "print_job": job.pk,
            "batch": job.batch_id,
            "format": job.format,
            "first_position": job.first_position,
            "last_position": job.last_position,
        },
    )


def fail_job(job_id: int, reason: str) -> None:
    """Mark a job failed and delete every file it wrote: nothing half-written stays downloadable."""
    PrintJob.objects.filter(pk=job_id).exclude(state=PrintState.READY).update(
        state=PrintState.FAILED, error=reason[:500], finished_at=Now()
    )
    if not PrintJob.objects.filter(pk=job_id, state=PrintState.FAILED).exists():
        return
    files = storage()
    for name in PrintFile.objects.filter(job_id=job_id).exclude(name="").values_list("name", flat=True):
        files.delete(name)
    PrintFile.objects.filter(job_id=job_id, part=PrintFile.MANIFEST).delete()
    PrintFile.objects.filter(job_id=job_id).update(state=PrintFileState.PENDING, name="", size=None, sha256="")


def fail_job_of_part(file_id: int, reason: str) -> None:
    job_id = PrintFile.objects.filter(pk=file_id).values_list("job_id", flat=True).first()
    if job_id is not None:
        fail_job(job_id, reason)
