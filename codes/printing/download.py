"""Handing out one print file: a presigned S3 link or the bytes streamed (resumable), and the log of who took
which bytes. The dashboard, the distributor portal and the API all serve print files through this."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect

from core.files import presigned_url

from ..downloads import Unsatisfiable, parse_range, ranged_file_response
from ..models import PrintDownload, PrintFile, PrintFileState, PrintJob
from .jobs import storage
from .options import carries_pins
from .rendering import CONTENT_TYPES, EXTENSIONS, job_filename


def serve_print_file(request, job: PrintJob, part: int, *, actor):
    """Send one part of a print job the actor may see (resumable), and log who took which bytes."""
    if request.method != "GET":  # after the caller's scope check, so an outsider learns nothing from the status
        return HttpResponseNotAllowed(["GET"])
    if carries_pins(batch=job.batch, fmt=job.format) and not actor.can("print.download_pins"):
        # A file with scratch PINs lets its holder pass every PIN check: operators and up only.
        raise PermissionDenied("Print files with PINs are for operators and above.")
    file = PrintFile.objects.filter(job=job, part=part, state=PrintFileState.DONE).first()
    if file is None or not job.is_ready:
        raise Http404("No such file, or the print job is not ready.")
    extension = "json" if file.is_manifest else EXTENSIONS[job.format]
    filename = job_filename(job, file)
    content_type = "application/json" if file.is_manifest else CONTENT_TYPES[extension]
    # On S3 the client fetches the bytes (and any Range of them) from S3 itself: no web worker holds a part.
    url = presigned_url(storage(), file.name, filename=filename, content_type=content_type)
    if url is not None:
        response = redirect(url)
        response["Cache-Control"] = "private, no-store"
        first, last = _asked_range(request, file.size)
    else:
        response = ranged_file_response(
            request,
            storage(),
            file.name,
            size=file.size,
            filename=filename,
            content_type=content_type,
            etag=f'"{file.sha256}"',
        )
        first, last = _logged_range(response)
    PrintDownload.objects.create(
        job=job, file=file, user=actor.user, first_byte=first, last_byte=last, status=response.status_code
    )
    return response


def _logged_range(response) -> tuple[int | None, int | None]:
    if response.status_code != 206:
        return None, None
    first, last = response["Content-Range"].removeprefix("bytes ").split("/")[0].split("-")
    return int(first), int(last)


def _asked_range(request, size: int) -> tuple[int | None, int | None]:
    """The byte range a redirected client asks for (it sends the same Range to S3): logged like a 206."""
    try:
        wanted = parse_range(request.headers.get("Range"), size)
    except Unsatisfiable:
        wanted = None
    return wanted or (None, None)
