"""The brand's back office over scans: overview, scan list and export, code lookup, reports.

These pages span every app (codes, distributors, scans), so they live in the back office, above them all.
Each list page issues a fixed number of queries whatever its length (asserted in tests/scans).
"""

import mimetypes
from pathlib import PurePosixPath
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from brands.access import current_actor, get_for_actor, require, signed_in
from brands.services import verification_state
from codes import gs1, packstates, recalls
from codes.models import Code, CodeBatch, CodeStatus, Product
from core.files import presigned_url
from core.forms import add_service_error
from core.routers import reads_from_replica
from distributors.queries import holder_of
from owners.queries import registration_rate
from scans import alerts, export, queries, retention
from scans.forms import ReportStatusForm, ScanFilterForm, UnitStatusForm
from scans.models import Alert, CounterfeitReport, ReportStatus, Scan
from scans.rollups import since_days

PAGE_SIZE = 50


@signed_in
def dashboard(request):
    actor = current_actor(request)
    if actor is not None and actor.is_distributor:
        return redirect("portal")  # a distributor's people have a home of their own
    return _brand_dashboard(request)


@require("brand.view")
@reads_from_replica  # the overview's reads; access was checked on the primary
def _brand_dashboard(request):
    overview = queries.overview(request.brand)
    context = {
        "overview": overview,
        # Beside the first-scan rate: of the units first scanned in the same window, the share registered.
        "registration_rate": registration_rate(
            request.brand, since=since_days(queries.OVERVIEW_DAYS), first_scanned=overview.units_first_scanned
        ),
        "has_products": Product.objects.for_brand(request.brand).exists(),
        "scans": Scan.objects.for_brand(request.brand).select_related("product")[:8],
        "verification_state": verification_state(request.brand),
    }
    # htmx refreshes the tiles and charts in place (static/js/overview.js redraws the charts after a swap).
    template = "scans/overview_panel.html" if request.headers.get("HX-Request") else "brands/dashboard.html"
    return render(request, template, context)


def _filtered_scans(request):
    brand = request.brand
    products = list(Product.objects.for_brand(brand))
    batches = list(CodeBatch.objects.for_brand(brand).select_related("lot", "product").order_by("-number")[:500])
    form = ScanFilterForm(request.GET or None, products=products, batches=batches)
    return form, form.filter(Scan.objects.for_brand(brand))


@require("brand.view")
@reads_from_replica
def scan_list(request):
    """Newest first, 50 a page; pages are keyed by the last row seen (no OFFSET, no COUNT over the log)."""
    form, scans = _filtered_scans(request)
    cursor = page_cursor(request.GET.get("before", ""))
    if cursor:
        scans = scans.filter(scanned_at__lte=cursor[0]).exclude(scanned_at=cursor[0], pk__gte=cursor[1])
    rows = list(scans.select_related("product", "distributor").order_by("-scanned_at", "-pk")[: PAGE_SIZE + 1])
    page, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    params = request.GET.copy()
    params.pop("before", None)
    older = None
    if more:
        params["before"] = f"{page[-1].scanned_at.isoformat()}_{page[-1].pk}"
        older = params.urlencode()
    context = {
        "form": form,
        "scans": page,
        "older": older,
        "first_page": not cursor,
        "filters": urlencode({k: v for k, v in request.GET.items() if k != "before" and v}),
    }
    return render(request, "scans/scan_list.html", context)


def page_cursor(text: str):
    """The page's key from `?before=`; anything else (hand-edited, truncated) starts from the newest."""
    stamp, _, pk = text.rpartition("_")
    try:
        moment = parse_datetime(stamp) if stamp else None  # ValueError: well-formed but no such date
    except ValueError:
        return None
    if not (moment and pk.isdigit() and len(pk) <= 18):  # ids are bigints
        return None
    return (moment if timezone.is_aware(moment) else timezone.make_aware(moment), int(pk))


@require("brand.view")
def scan_export(request):
    """Every matching scan as CSV, streamed row by row from a server-side cursor: memory stays flat."""
    _form, scans = _filtered_scans(request)
    response = StreamingHttpResponse(export.csv_lines(scans), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{request.brand.slug}-scans-{stamp}.csv"'
    return response


# --- code lookup -----------------------------------------------------------------------------------------


def _serial_and_product(text: str) -> tuple[str, dict | None]:
    """A pasted serial, or a whole verify URL (its serial, and its product's GTIN or ref as a filter)."""
    text = text.strip()
    if not any(marker in text for marker in ("/01/", f"/{gs1.REF_PATH}/")):
        return text, None
    try:
        link = gs1.parse_verify_url(text)
    except gs1.GS1Error:
        return text, None
    found = {"gtin": link.gtin} if isinstance(link, gs1.DigitalLink) else {"ref": link.ref}
    return (link.serial or ""), found


@require("brand.view")
def code_lookup(request):
    query = lookup_query(request)
    matches = units_matching(request.brand, query)
    if len(matches) == 1:
        return redirect("code_detail", matches[0].pk)
    return render(request, "scans/code_lookup.html", {"query": query, "matches": matches})


def lookup_query(request) -> str:
    return request.GET.get("q", "").replace("\x00", "").strip()[:300]  # PostgreSQL text cannot hold NUL


def units_matching(brand, query: str) -> list[Code]:
    """The brand's units (at most 20) whose serial is `query`, or that a pasted verify URL points at."""
    if not query:
        return []
    serial, product = _serial_and_product(query)
    products = Product.objects.for_brand(brand)
    if product:
        products = products.filter(**product)
    candidates = {(p.pk, p.serial_format.normalise(serial)) for p in products}
    matches = list(
        Code.objects.for_brand(brand)
        .filter(product_id__in={p for p, _ in candidates}, serial__in={s for _, s in candidates})
        .select_related("product", "batch__lot")[:20]
    )
    return [c for c in matches if (c.product_id, c.serial) in candidates]


@require("brand.view", write="codes.status")
def code_detail(request, code_id: int):
    code = get_for_actor(request, Code.objects.select_related("product", "batch__lot"), pk=code_id)
    form = UnitStatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        status = form.cleaned_data["status"]
        try:
            change = recalls.change_unit_status(
                brand=request.brand,
                code=code,
                to_status=status,
                reason=form.cleaned_data["reason"],
                created_by=request.user,
            )
        except recalls.ChangeError as exc:
            add_service_error(form, exc)
        else:
            if change.codes_changed:
                messages.success(request, f"Unit {code.serial} is now {CodeStatus(status).label.lower()}.")
            else:
                messages.error(request, _unchanged(code))
            return redirect("code_detail", code.pk)
    context = {
        "code": code,
        "form": form,
        "holder": holder_of(code.batch, code.position),
        "scans": Scan.objects.for_brand(request.brand).filter(code_id=code.pk).order_by("scanned_at")[:200],
        "alerts": Alert.objects.for_brand(request.brand).filter(code_id=code.pk).order_by("-last_seen_at")[:20],
    }
    return render(request, "scans/code_detail.html", context, status=400 if form.errors else 200)


@require_POST
@require("brand.view", write="codes.status")
def code_clear_copy_flag(request, code_id: int):
    code = get_for_actor(request, Code, pk=code_id)
    try:
        closed = alerts.clear_copy_flag(code=code, reason=request.POST.get("reason", ""), by=request.user)
    except alerts.AlertError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Copy flag cleared; {closed} alert{'s' if closed != 1 else ''} closed.")
    return redirect("code_detail", code.pk)


def _unchanged(code: Code) -> str:
    code.refresh_from_db(fields=["status"])
    if code.status in packstates.FINAL:
        return f"Unit {code.serial} stays {code.get_status_display().lower()}: that state is final."
    return f"Unit {code.serial} was already {code.get_status_display().lower()}."


# --- reports ---------------------------------------------------------------------------------------------


@require("brand.view")
def report_list(request):
    status = request.GET.get("status", "")
    reports = CounterfeitReport.objects.for_brand(request.brand).select_related("scan")
    if status in ReportStatus.values:
        reports = reports.filter(status=status)
    context = {"reports": reports[:200], "status": status, "statuses": ReportStatus.choices}
    return render(request, "scans/report_list.html", context)


@require_POST
@require("brand.view", write="reports.manage")
def report_status(request, report_id: int):
    report = get_for_actor(request, CounterfeitReport, pk=report_id)
    form = ReportStatusForm(request.POST)
    if form.is_valid():
        CounterfeitReport.objects.filter(pk=report.pk).update(
            status=form.cleaned_data["status"], status_changed_at=timezone.now()
        )
        messages.success(request, f"Report {report.pk} marked {ReportStatus(form.cleaned_data['status']).label}.")
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/reports/") else "report_list")


@require("brand.view")
def report_photo(request, report_id: int):
    """A consumer's photo: evidence for the brand's eyes only, so it is served through the tenancy check."""
    report = get_for_actor(request, CounterfeitReport.objects.exclude(photo=""), pk=report_id)
    kind = mimetypes.guess_type(report.photo.name)[0] or "application/octet-stream"
    name = f"report-{report.pk}{PurePosixPath(report.photo.name).suffix}"
    url = presigned_url(report.photo.storage, report.photo.name, filename=name, content_type=kind, inline=True)
    response = redirect(url) if url else FileResponse(report.photo.open("rb"), content_type=kind)
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@require("reports.erase")
def report_erase(request, report_id: int):
    """Erase a consumer's report and its photo on the consumer's request (the brand is the controller)."""
    report = get_for_actor(request, CounterfeitReport, pk=report_id)
    retention.erase_report(report=report)
    messages.success(request, "The report and its photo are erased.")
    return redirect("report_list")
