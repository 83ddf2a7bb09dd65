"""Distributors: the brand sets them up and hands out ranges and cartons; a distributor's people use the portal.
The distributor list and page and the portal's home also show the distributor's scans."""

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from brands import services as brand_services
from brands.access import get_for_actor, require
from brands.models import Activation, Invitation, Membership
from brands.spreadsheet import csv_lines
from codes import activation, printing, recalls
from codes.models import CodeBatch, PrintJob
from codes.printing.download import serve_print_file
from core.forms import add_service_error
from distributors import labels, queries, services
from distributors.forms import (
    AssignRangeForm,
    CartonAssignForm,
    DistributorForm,
    DistributorInviteForm,
    MoveRangeForm,
    PackCartonsForm,
    PortalPrintForm,
)
from distributors.models import Assignment, Carton, Distributor
from scans import queries as scan_queries

from .codes import activated


def _form_error(form, exc: services.DistributorError) -> None:
    add_service_error(form, exc)


def _contact(data: dict) -> dict:
    return {k: data[k] for k in ("contact_name", "contact_email", "phone")}


@require("brand.view")
def distributor_list(request):
    distributors = list(Distributor.objects.for_actor(request.actor))
    held = queries.units_held(request.brand)
    scans = scan_queries.scans_by_distributor(request.brand)
    rows = [
        (d, held.get(d.pk, 0), scans.get(d.pk, {}).get("scans", 0), scans.get(d.pk, {}).get("outside", 0))
        for d in distributors
    ]
    return render(request, "distributors/distributor_list.html", {"rows": rows, "days": scan_queries.STATS_DAYS})


@require("brand.view")
def distributor_detail(request, distributor_id: int):
    distributor = get_for_actor(request, Distributor, pk=distributor_id)
    context = {
        "distributor": distributor,
        "assignments": queries.with_receipt(Assignment.objects.for_actor(request.actor))
        .filter(distributor=distributor)
        .select_related("batch__product", "batch__lot", "assigned_by", "ended_by")
        .order_by("-assigned_at")[:200],
        "members": Membership.objects.for_actor(request.actor).filter(distributor=distributor).select_related("user"),
        "invitations": Invitation.objects.for_actor(request.actor).filter(distributor=distributor, accepted_at=None),
        "by_region": scan_queries.distributor_scans_by_region_and_day(request.brand, distributor.pk),
        "outside": scan_queries.out_of_territory_scans(request.brand, distributor.pk),
        "invite_form": DistributorInviteForm(),
        "days": scan_queries.STATS_DAYS,
    }
    return render(request, "distributors/distributor_detail.html", context)


@require("distributors.manage")
def distributor_create(request):
    form = DistributorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            distributor = services.create_distributor(
                brand=request.brand, name=data["name"], code=data["code"], territory=data["territory"], **_contact(data)
            )
        except services.DistributorError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{distributor.name} added.")
            return redirect("distributor_detail", distributor.pk)
    return render(request, "distributors/distributor_form.html", {"form": form})


@require("distributors.manage")
def distributor_edit(request, distributor_id: int):
    distributor = get_for_actor(request, Distributor, pk=distributor_id)
    form = DistributorForm(request.POST or None, instance=distributor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_distributor(
                distributor,
                name=data["name"],
                code=data["code"],
                territory=data["territory"],
                **_contact(data),
            )
        except services.DistributorError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Distributor saved.")
            return redirect("distributor_detail", distributor.pk)
    return render(request, "distributors/distributor_form.html", {"form": form, "distributor": distributor})


@require_POST
@require("distributors.manage")
def distributor_invite(request, distributor_id: int):
    distributor = get_for_actor(request, Distributor, pk=distributor_id)
    form = DistributorInviteForm(request.POST)
    if form.is_valid():
        brand_services.invite_member(
            by=request.actor,
            email=form.cleaned_data["email"],
            role="distributor",
            distributor=distributor,
            accept_url_base=request.build_absolute_uri("/"),
        )
        messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
    else:
        messages.error(request, "Enter a valid e-mail address to invite.")
    return redirect("distributor_detail", distributor.pk)


# Ranges and cartons of a batch --------------------------------------------------------------------------------


def _batch(request, batch_id: int) -> CodeBatch:
    return get_for_actor(request, CodeBatch.objects.select_related("product", "lot"), pk=batch_id)


def _batch_page(request, batch: CodeBatch, **forms):
    """Refused forms come back on a page of their own, with the batch's ranges and the reason beside the field."""
    context = {"batch": batch, "assignments": services.current_assignments(batch), "free": services.free_ranges(batch)}
    return render(request, "distributors/batch_ranges.html", {**context, **forms}, status=400 if forms else 200)


@require("brand.view", write="assignments.manage")
def batch_ranges(request, batch_id: int):
    batch = _batch(request, batch_id)
    return _batch_page(request, batch)


@require_POST
@require("assignments.manage")
def assignment_create(request, batch_id: int):
    batch = _batch(request, batch_id)
    form = AssignRangeForm(request.POST, brand=request.brand)
    if form.is_valid():
        data = form.cleaned_data
        try:
            assignment = services.assign_range(
                batch=batch,
                distributor=data["distributor"],
                first_position=data["first_position"],
                last_position=data["last_position"],
                assigned_by=request.user,
                shipment_reference=data["shipment_reference"],
            )
        except services.DistributorError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request,
                f"Positions {assignment.first_position:,}–{assignment.last_position:,} assigned to "
                f"{assignment.distributor.name}.",
            )
            return redirect("batch_detail", batch.pk)
    return _batch_page(request, batch, assign_form=form)


@require_POST
@require("assignments.manage")
def assignment_move(request, batch_id: int):
    batch = _batch(request, batch_id)
    form = MoveRangeForm(request.POST, brand=request.brand)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.reassign_range(
                batch=batch,
                first_position=data["first_position"],
                last_position=data["last_position"],
                to=data["to"],
                by=request.user,
            )
        except services.DistributorError as exc:
            _form_error(form, exc)
        else:
            where = data["to"].name if data["to"] else "the brand"
            messages.success(
                request, f"Positions {data['first_position']:,}–{data['last_position']:,} moved to {where}."
            )
            return redirect("batch_detail", batch.pk)
    return _batch_page(request, batch, move_form=form)


@require_POST
@require("assignments.manage")
def carton_pack(request, batch_id: int):
    batch = _batch(request, batch_id)
    form = PackCartonsForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            cartons = services.pack_cartons(
                batch=batch,
                first_position=data["first_position"],
                last_position=data["last_position"],
                size=data["size"],
                company_prefix=data["company_prefix"],
                extension=data["extension"],
                packed_by=request.user,
            )
        except services.DistributorError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{len(cartons):,} cartons packed.")
            return redirect("batch_detail", batch.pk)
    return _batch_page(request, batch, pack_form=form)


@require_POST
@require("assignments.manage")
def carton_assign(request, carton_id: int):
    carton = get_for_actor(request, Carton.objects.select_related("batch__product"), pk=carton_id)
    form = CartonAssignForm(request.POST, brand=request.brand)
    if not form.is_valid():
        messages.error(request, "Choose a distributor for the carton.")
    else:
        try:
            services.assign_carton(
                carton=carton, distributor=form.cleaned_data["distributor"], assigned_by=request.user
            )
        except services.DistributorError as exc:
            messages.error(request, f"Carton {carton.sscc}: {exc.message}")
        else:
            messages.success(request, f"Carton {carton.sscc} assigned to {form.cleaned_data['distributor'].name}.")
    return redirect("batch_detail", carton.batch_id)


@require_POST
@require("codes.activate")
def carton_activate(request, carton_id: int):
    """A carton's labels are on its units: exactly those codes go live."""
    carton = get_for_actor(request, Carton.objects.select_related("batch__product"), pk=carton_id)
    try:
        change = activation.activate(
            brand=request.brand,
            batch=carton.batch,
            first_position=carton.first_position,
            last_position=carton.last_position,
            by=request.user,
            reason=f"Carton {carton.sscc}: labels applied",
        )
    except recalls.ChangeError as exc:
        messages.error(request, f"Carton {carton.sscc}: {exc.message}")
        return redirect("batch_detail", carton.batch_id)
    return activated(request, change, back=redirect("batch_detail", carton.batch_id))


@require("brand.view")
def cartons_csv(request, batch_id: int):
    batch = _batch(request, batch_id)
    return _cartons_csv(
        Carton.objects.for_actor(request.actor).filter(batch=batch),
        f"{batch.product.brand.slug}-batch{batch.number}-cartons.csv",
    )


def _cartons_csv(cartons, filename: str) -> StreamingHttpResponse:
    rows = cartons.order_by("first_position").values_list("sscc", "first_position", "last_position").iterator()
    body = csv_lines(("sscc", "first_position", "last_position"), rows)
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require("brand.view")
def carton_label(request, carton_id: int):
    carton = get_for_actor(request, Carton.objects.select_related("batch__product", "batch__lot"), pk=carton_id)
    return _label_response(carton)


def _label_response(carton: Carton) -> HttpResponse:
    response = HttpResponse(labels.carton_label_pdf(carton), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="carton-{carton.sscc}.pdf"'
    return response


# The distributor portal -------------------------------------------------------------------------------------


@require("portal.view")
def portal(request):
    actor = request.actor
    assignments = queries.with_receipt(
        Assignment.objects.for_actor(actor).select_related("batch__product", "batch__lot").order_by("-assigned_at")
    )
    context = {
        "distributor": Distributor.objects.for_actor(actor).get(),
        "current": [a for a in assignments if a.is_current],
        "past": [a for a in assignments[:200] if not a.is_current],
        "cartons": queries.with_receipt(Carton.objects.for_actor(actor).select_related("batch__product"))[:500],
        "print_jobs": PrintJob.objects.for_actor(actor).select_related("batch").prefetch_related("files")[:50],
        "by_region": scan_queries.distributor_scans_by_region_and_day(request.brand, actor.distributor_id),
        "print_form": PortalPrintForm(),
        "days": scan_queries.STATS_DAYS,
    }
    return render(request, "distributors/portal.html", context)


@require_POST
@require("portal.receive")
def portal_receive_assignment(request, assignment_id: int):
    assignment = get_for_actor(
        request, Assignment.objects.filter(ended_at__isnull=True).select_related("batch"), pk=assignment_id
    )
    units = services.receive_assignment(assignment=assignment, by=request.user)
    messages.success(
        request,
        f"Received positions {assignment.first_position:,}–{assignment.last_position:,} ({units:,} units)."
        + _live_now(request, units),
    )
    return redirect("portal")


@require_POST
@require("portal.receive")
def portal_receive_carton(request, carton_id: int):
    carton = get_for_actor(request, Carton.objects.select_related("batch"), pk=carton_id)
    units = services.receive_carton(carton=carton, by=request.user)
    messages.success(request, f"Carton {carton.sscc} received: {carton.quantity:,} units." + _live_now(request, units))
    return redirect("portal")


def _live_now(request, units: int) -> str:
    """A brand whose codes go live on receipt: the receiver is told that these units now verify."""
    return " Their codes now verify as authentic." if units and request.brand.activation == Activation.RECEIVED else ""


@require("portal.view")
def portal_carton_label(request, carton_id: int):
    queryset = Carton.objects.select_related("batch__product", "batch__lot")
    return _label_response(get_for_actor(request, queryset, pk=carton_id))


@require_POST
@require("portal.print")
def portal_print_job_create(request, assignment_id: int):
    assignment = get_for_actor(
        request, Assignment.objects.filter(ended_at__isnull=True).select_related("batch__product"), pk=assignment_id
    )
    form = PortalPrintForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a print format.")
        return redirect("portal")
    try:
        job = services.create_distributor_print_job(
            assignment=assignment, fmt=form.cleaned_data["format"], requested_by=request.user
        )
    except printing.PrintError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Print files for positions {job.first_position:,}–{job.last_position:,} queued.")
    return redirect("portal")


@require("portal.print")
def portal_print_file_download(request, print_job_id: int, part: int):
    jobs = PrintJob.objects.select_related("batch__product__brand", "batch__lot")
    job = get_for_actor(request, jobs, pk=print_job_id)  # its distributor's ranges only (distributors.models)
    return serve_print_file(request, job, part, actor=request.actor)
