"""The responder's two routes, for trading partners' systems (through the Verification Router Service): a key of
scope `vrs` carrying the requester's GLN, or no answer. Only a 200 carries a body (GS1 Lightweight Messaging
Standard for verification, R1.3); nothing is cached anywhere on the way (`private, no-cache`)."""

import time

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from brands.access import Actor
from brands.apikeys import key_of
from brands.models import ApiKey
from core import ratelimit
from scans.views import raw_path

from . import services

PREFIX = "/vrs/verify/"


def _private(response):
    response["Cache-Control"] = "private, no-cache"  # a recall or a flag must reach the very next answer
    return response


def _empty(status: int, **headers):
    response = HttpResponse(status=status, content=b"")
    del response["Content-Type"]
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return _private(response)


def _partner(request) -> tuple[ApiKey | None, HttpResponse | None]:
    """The requester's key, or the refusal: 401 without a usable key, 403 for a key that does not answer
    verification requests or does not carry the request's GLN, 429 over the key's rate."""
    words = request.META.get("HTTP_AUTHORIZATION", "").split()
    key = key_of(words[1]) if len(words) == 2 and words[0].lower() == "bearer" else None
    if key is None:
        return None, _empty(401, WWW_Authenticate='Bearer realm="vrs"')
    if not Actor.of_api_key(key).can("vrs.verify") or request.GET.get("reqGLN", "") != key.partner_gln:
        return None, _empty(403)
    if not ratelimit.allow("vrs-key", str(key.pk), settings.API_KEY_RATE):
        window = (ratelimit.parse_rate(settings.API_KEY_RATE) or (0, 60))[1]
        return None, _empty(429, Retry_After=str(window - int(time.time()) % window))
    return key, None


@csrf_exempt  # keys, not cookies
@require_GET
def verify(request, rest: str = ""):
    """`GET /vrs/verify/gtin/{gtin14}/lot/{lot}/ser/{serial}?exp=YYMMDD&corrUUID=…&reqGLN=…&context=…`"""
    key, refused = _partner(request)
    if key is None:
        return refused
    path = raw_path(request) or request.path_info  # as sent: a lot's %2F stays inside the lot
    try:
        question = services.question_of(path=path.partition(PREFIX)[2], query=request.GET)
    except services.RequestError:
        return _empty(400)
    answer, logged = services.respond(key=key, question=question)
    body = services.response_body(brand=key.brand, corr_uuid=question.corr_uuid, answer=answer, now=logged.requested_at)
    return _private(JsonResponse(body))


@csrf_exempt
@require_GET
def check_connectivity(request):
    """`GET /vrs/checkConnectivity?reqGLN=…`: the router's ping; the same credentials as a request."""
    key, refused = _partner(request)
    if key is None:
        return refused
    corr = request.GET.get("corrUUID", "")[:36] or None
    return _private(
        JsonResponse(services.response_body(brand=key.brand, corr_uuid=corr, answer=None, now=timezone.now()))
    )


# Machines' routes with keys of their own: no session, no permission of a member (tests/test_tenancy.py).
verify.public = check_connectivity.public = True
