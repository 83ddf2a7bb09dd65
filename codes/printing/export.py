"""In-process export (the `export_batch` command): a batch's parts and manifest rendered into a directory by the
job's own parts loop, renderer and manifest, without a job row, its workers or its claims."""

from __future__ import annotations

import io
from typing import Any

from django.core.files import File
from django.core.files.storage import Storage

from .. import quotas
from ..models import CodeBatch, PrintFile
from .jobs import check_request, parts_of, render_file
from .options import PrintError
from .rendering import job_filename, manifest, manifest_bytes


def export_batch(
    *,
    batch: CodeBatch,
    fmt: str,
    options: dict[str, Any] | None,
    storage: Storage,
    first_position: int | None = None,
    last_position: int | None = None,
    part_size: int | None = None,
) -> dict[str, Any]:
    """Render a batch's parts and manifest into `storage` in this process; returns the manifest.

    Files are written under their final names; on any error the files written so far are deleted.
    """
    job = check_request(batch, fmt, options, first_position, last_position, part_size)
    problem = quotas.print_problem(batch.product.brand)
    if problem:
        raise PrintError("format", problem)
    written: list[str] = []
    try:
        parts = []
        for part in parts_of(job):
            parts.append(render_file(job, part, storage, _replaced(storage, job_filename(job, part))))
            written.append(part.name)
        whole = PrintFile(
            job=job, part=PrintFile.MANIFEST, first_position=job.first_position, last_position=job.last_position
        )
        data = manifest(job, parts)
        written.append(
            storage.save(_replaced(storage, job_filename(job, whole)), File(io.BytesIO(manifest_bytes(data))))
        )
    except BaseException:
        for name in written:
            storage.delete(name)
        raise
    return data


def _replaced(storage: Storage, name: str) -> str:
    """Make room for `name`: a re-run replaces its files, never gets "name_xyz" from the storage."""
    storage.delete(name)
    return name
