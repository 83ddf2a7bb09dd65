"""Registered owners. The support desk: who registered a unit, their contact decrypted, the consents they gave
and the warranty (`owners.view`; the contact is shown, never logged). The brand's registrations page: counts and
consent rates for every member (`owners.stats`), and the marketing list as CSV for `owners.view` alone."""

from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from brands.access import get_for_actor, require
from codes.models import Code
from owners import services
from owners.export import marketing_csv_lines
from owners.models import ErasedBy, Registration
from owners.queries import registration_stats
from owners.services import registration_of

from .scans import lookup_query, units_matching


@require("owners.view")
def owner_lookup(request):
    query = lookup_query(request)
    matches = units_matching(request.brand, query)
    if len(matches) == 1:
        return redirect("owner_unit", matches[0].pk)
    return render(request, "owners/lookup.html", {"query": query, "matches": matches})


@require("owners.view")
def owner_unit(request, code_id: int):
    code = get_for_actor(request, Code.objects.select_related("product", "batch__lot"), pk=code_id)
    registration = registration_of(code)
    page = {
        "code": code,
        "registration": registration,
        "contact": registration.contact() if registration and not registration.erased else None,
        "warranty_ends_on": registration.warranty_ends_on() if registration and not registration.erased else None,
    }
    response = render(request, "owners/unit.html", page)
    response["Cache-Control"] = "no-store"  # personal data: no copy in a shared or back-button cache
    return response


def _live_registration(request, code_id: int):
    code = get_for_actor(request, Code.objects.all(), pk=code_id)
    registration = registration_of(code)
    if registration is None or registration.erased:
        raise Http404("Nobody's details are registered with this unit.")
    return code, registration


@require("owners.view")
def owner_unit_export(request, code_id: int):
    """A registration with its contact decrypted, for an owner who asked the brand for their data."""
    code, registration = _live_registration(request, code_id)  # another brand's unit: 404 whatever the method
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    response = JsonResponse(services.export_registration(registration), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="registration-{code.serial}.json"'
    response["Cache-Control"] = "no-store"
    return response


@require("owners.view")
@require_http_methods(["POST"])
def owner_unit_erase(request, code_id: int):
    """Erase the owner's details on their request (confirmed on the unit page); the unit and its scans stay."""
    code, registration = _live_registration(request, code_id)
    if request.POST.get("confirm") != code.serial:
        messages.error(request, "Type the unit's serial to confirm the erasure.")
    else:
        services.erase_registration(registration=registration, by=ErasedBy.BRAND)
        messages.success(request, "The owner's details are erased; the unit and its scans are kept.")
    return redirect("owner_unit", code.pk)


@require("owners.stats")
def registrations(request):
    stats = registration_stats(Registration.objects.for_actor(request.actor))
    return render(request, "owners/registrations.html", {"stats": stats})


@require("owners.view")
def marketing_export(request):
    """Owners who agreed to marketing and still do, decrypted row by row as the file streams."""
    lines = marketing_csv_lines(Registration.objects.for_actor(request.actor))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{request.brand.slug}-marketing-{stamp}.csv"'
    response["Cache-Control"] = "no-store"  # personal data: no copy in a shared cache
    return response
