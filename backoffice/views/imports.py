"""Code import pages: upload a file of serials for a product, watch it being checked, download its report."""

from django.contrib import messages
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from brands.access import get_for_actor, require
from codes import imports, services
from codes.forms import SerialImportForm
from codes.models import Product, SerialImport
from core.forms import add_service_error

FORM_FIELDS = {"lot": "lot_number", "expiry": "expires_on", "upload": "file"}


@require("brand.view", write="codes.order")
def import_new(request, product_id: int):
    product = get_for_actor(request, Product, pk=product_id)
    form = SerialImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            serial_import = imports.start_import(
                brand=request.brand,
                product=product,
                lot_number=data["lot_number"],
                expires_on=data["expires_on"],
                manufactured_on=data["manufactured_on"],
                upload=data["file"],
                fmt=data["format"],
                requested_by=request.user,
            )
        except services.OrderError as exc:
            add_service_error(form, exc, FORM_FIELDS)
        except imports.SerialImportError as exc:
            add_service_error(form, exc, FORM_FIELDS)
        else:
            messages.success(request, "File uploaded: its serials are being checked and registered.")
            return redirect("import_detail", serial_import.pk)
    recent = SerialImport.objects.for_brand(request.brand).filter(product=product).select_related("lot")[:20]
    return render(request, "codes/import_new.html", {"form": form, "product": product, "imports": recent})


import_new.upload_limit = "IMPORT_MAX_BYTES"  # type: ignore[attr-defined]  # a file of up to 10 million serials


@require("brand.view")
def import_detail(request, import_id: int):
    serial_import = get_for_actor(request, SerialImport.objects.select_related("product", "lot", "batch"), pk=import_id)
    refused = serial_import.refused_lines.order_by("line")[:100]
    return render(request, "codes/import_detail.html", {"serial_import": serial_import, "refused": refused})


@require("brand.view")
def import_progress(request, import_id: int):
    serial_import = get_for_actor(request, SerialImport, pk=import_id)
    return JsonResponse(serial_import.progress(state_label=serial_import.get_state_display()))


@require("brand.view")
def import_report(request, import_id: int):
    """Every refused line, with its number and reason, as CSV (streamed: a bad file can refuse millions)."""
    serial_import = get_for_actor(request, SerialImport.objects.select_related("brand"), pk=import_id)

    response = StreamingHttpResponse(imports.refused_report(serial_import), content_type="text/csv; charset=utf-8")
    filename = f"{serial_import.brand.slug}-import{serial_import.pk}-refused.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@require("codes.order")
def import_retry(request, import_id: int):
    serial_import = get_for_actor(request, SerialImport, pk=import_id)
    if imports.retry_import(serial_import):
        messages.success(request, "The import resumes where it stopped.")
    return redirect("import_detail", serial_import.pk)
