"""Cross-cutting request guards that must run before Django's own host and body handling, and the
request id every log line of a request carries."""

import logging
import re
import time
import uuid

from django.conf import settings
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control

from brands.health import healthz

from .logs import request_id_var

_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
request_log = logging.getLogger("serialize.request")


class PrivatePagesMiddleware:
    """A signed-in page holds a brand's data: no shared cache (a proxy, a CDN) or browser history keeps it,
    unless the view chose its own caching (a brand's public logo)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


class RequestIdMiddleware:
    """Take the proxy's X-Request-ID (when it looks like one) or make one; echo it; log one JSON line per
    request with method, route, status and duration (never the query string or the client address)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            route = getattr(getattr(request, "resolver_match", None), "route", "") or ""
            request_log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class HealthCheckMiddleware:
    """Answer /healthz before the Host header is checked: load balancers and compose probe by IP or
    'localhost', which ALLOWED_HOSTS rightly does not list."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return healthz(request)
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Refuse bodies larger than MAX_REQUEST_BYTES before anything reads them (uploads included, which
    Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not bound): public endpoints must stay cheap to refuse."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain")
        if length > settings.MAX_REQUEST_BYTES and length > _upload_limit(request.path_info):
            return HttpResponse("Request too large.", status=413, content_type="text/plain")
        return self.get_response(request)


def _upload_limit(path: str) -> int:
    """The larger body a view takes files in (its `upload_limit`: the name of a setting, such as a file of serials'
    IMPORT_MAX_BYTES), else 0. Asked only of a body over MAX_REQUEST_BYTES, so no other request resolves twice."""
    try:
        match = resolve(path)
    except Resolver404:
        return 0
    name = getattr(match.func, "upload_limit", None) or getattr(getattr(match.func, "cls", None), "upload_limit", None)
    return int(getattr(settings, name)) if name else 0
