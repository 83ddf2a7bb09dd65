"""Registered owners. The support desk: who registered a unit, their contact decrypted, the consents they gave
and the warranty (`owners.view`; the contact is shown, never logged). The brand's registrations page: counts and
consent rates for every member (`owners.stats`), and the marketing list as CSV for `owners.view` alone."""

from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from brands.access import get_for_actor, require
from codes.models import Code
from owners.export import marketing_csv_lines
from owners.models import Registration
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
        "contact": registration.contact() if registration else None,
        "warranty_ends_on": registration.warranty_ends_on() if registration else None,
    }
    response = render(request, "owners/unit.html", page)
    response["Cache-Control"] = "no-store"  # personal data: no copy in a shared or back-button cache
    return response


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
