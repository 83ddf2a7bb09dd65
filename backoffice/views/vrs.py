"""The brand's log of trading partners' verification requests (vrs): who asked of which unit, and the answer."""

from urllib.parse import urlencode

from django.shortcuts import render

from brands.access import require
from vrs.forms import RequestFilterForm
from vrs.models import VrsRequest

from .scans import PAGE_SIZE, page_cursor


@require("vrs.requests")
def request_list(request):
    """Newest first, 50 a page, keyed by the last row seen (no OFFSET, no COUNT), as the scan list."""
    form = RequestFilterForm(request.GET or None)
    requests = form.filter(VrsRequest.objects.for_actor(request.actor))
    cursor = page_cursor(request.GET.get("before", ""))
    if cursor:
        requests = requests.filter(requested_at__lte=cursor[0]).exclude(requested_at=cursor[0], pk__gte=cursor[1])
    rows = list(requests.select_related("api_key").order_by("-requested_at", "-pk")[: PAGE_SIZE + 1])
    page, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    params = request.GET.copy()
    params.pop("before", None)
    older = None
    if more:
        params["before"] = f"{page[-1].requested_at.isoformat()}_{page[-1].pk}"
        older = params.urlencode()
    context = {
        "form": form,
        "requests": page,
        "older": older,
        "first_page": not cursor,
        "filters": urlencode({k: v for k, v in request.GET.items() if k != "before" and v}),
    }
    return render(request, "vrs/request_list.html", context)
