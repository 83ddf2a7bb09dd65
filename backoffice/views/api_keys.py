"""API keys for the brand's own systems (Settings): made, listed and revoked by owners and admins.

A new key's secret is on the page that answers the POST that made it, and nowhere else: never in a redirect's
URL, a flash message (stored in the session) or a log; the database keeps only its hash (brands.apikeys).
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from brands import apikeys
from brands.access import get_for_actor, require
from brands.forms import ApiKeyForm
from brands.models import ApiKey
from core.forms import add_service_error
from distributors.models import Distributor


@require("api_keys.manage")
def api_keys(request):
    distributors = Distributor.objects.for_actor(request.actor)
    form = ApiKeyForm(request.POST or None, distributors=distributors)
    new_key = raw = None
    if request.method == "POST" and form.is_valid():
        try:
            new_key, raw = apikeys.create_api_key(brand=request.brand, created_by=request.user, **form.cleaned_data)
        except apikeys.ApiKeyError as exc:
            add_service_error(form, exc)
        else:
            form = ApiKeyForm(distributors=distributors)
    keys = ApiKey.objects.for_actor(request.actor).select_related("distributor").order_by("-created_at")
    context = {"form": form, "keys": keys, "new_key": new_key, "raw_key": raw}
    response = render(request, "brands/api_keys.html", context, status=400 if form.errors else 200)
    response["Cache-Control"] = "private, no-store"  # the one page with a key's secret must not be kept
    return response


@require_POST
@require("api_keys.manage")
def api_key_revoke(request, api_key_id: int):
    key = get_for_actor(request, ApiKey, pk=api_key_id)
    if apikeys.revoke_api_key(key=key):
        messages.success(request, f"Key “{key.name}” revoked: its next request is refused.")
    else:
        messages.info(request, f"Key “{key.name}” was already revoked.")
    return redirect("api_keys")
