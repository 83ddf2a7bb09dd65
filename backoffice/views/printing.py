"""Print jobs on the batch page: order one (operators), download its files (any member, logged)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from brands.access import get_for_actor, require
from codes import printing
from codes.downloads import Unsatisfiable, parse_range, ranged_file_response
from codes.forms import PrintJobForm
from codes.models import CodeBatch, PrintDownload, PrintFile, PrintFileState, PrintJob
from core.files import presigned_url


@require("brand.view", write="print.create")
def print_job_create(request, batch_id: int):
    batch = get_for_actor(request, CodeBatch.objects.select_related("product", "lot"), pk=batch_id)
    form = PrintJobForm(request.POST or None, batch=batch)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = printing.create_print_job(
                batch=batch,
                fmt=data["format"],
                options=data["options"],
                first_position=data["first_position"],
                last_position=data["last_position"],
                requested_by=request.user,
            )
        except printing.PrintError as exc:
            form.add_print_error(exc)
        else:
            messages.success(request, f"Print job #{job.pk} queued: {job.quantity:,} codes.")
            return redirect("batch_detail", batch.pk)
    return render(request, "codes/print_job_form.html", {"batch": batch, "form": form})


@require("print.download")  # viewers may download: reading codes is their role; creating print jobs is not
def print_file_download(request, print_job_id: int, part: int):
    job = get_for_actor(
        request, PrintJob.objects.select_related("batch__product__brand", "batch__lot"), pk=print_job_id
    )
    return serve_print_file(request, job, part)


def serve_print_file(request, job: PrintJob, part: int):
    """Send one part of a print job the caller may see (resumable), and log who took which bytes."""
    if request.method != "GET":  # after the caller's scope check, so an outsider learns nothing from the status
        return HttpResponseNotAllowed(["GET"])
    if printing.carries_pins(batch=job.batch, fmt=job.format) and not request.actor.can("print.download_pins"):
        # A file with scratch PINs lets its holder pass every PIN check: operators and up only.
        raise PermissionDenied("Print files with PINs are for operators and above.")
    file = PrintFile.objects.filter(job=job, part=part, state=PrintFileState.DONE).first()
    if file is None or not job.is_ready:
        raise Http404("No such file, or the print job is not ready.")
    extension = "json" if file.is_manifest else printing.EXTENSIONS[job.format]
    filename = printing.job_filename(job, file)
    content_type = "application/json" if file.is_manifest else printing.CONTENT_TYPES[extension]
    # On S3 the client fetches the bytes (and any Range of them) from S3 itself: no web worker holds a part.
    url = presigned_url(printing.storage(), file.name, filename=filename, content_type=content_type)
    if url is not None:
        response = redirect(url)
        response["Cache-Control"] = "private, no-store"
        first, last = _asked_range(request, file.size)
    else:
        response = ranged_file_response(
            request,
            printing.storage(),
            file.name,
            size=file.size,
            filename=filename,
            content_type=content_type,
            etag=f'"{file.sha256}"',
        )
        first, last = _logged_range(response)
    PrintDownload.objects.create(
        job=job, file=file, user=request.user, first_byte=first, last_byte=last, status=response.status_code
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
