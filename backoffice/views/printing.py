"""Print jobs on the batch page: order one (operators), download its files (any member, logged)."""

from django.contrib import messages
from django.shortcuts import redirect, render

from brands.access import get_for_actor, require
from codes import printing
from codes.forms import PrintJobForm
from codes.models import CodeBatch, PrintJob
from codes.printing.download import serve_print_file


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
    return serve_print_file(request, job, part, actor=request.actor)
