"""The support desk: who registered a unit, their contact decrypted, the consents they gave and the warranty.
Only for members with `owners.view`; the contact is shown, never logged."""

from django.shortcuts import redirect, render

from brands.access import get_for_actor, require
from codes.models import Code
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
