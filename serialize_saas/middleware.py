"""Cross-cutting request guards that must run before Django's own host and body handling."""

from django.conf import settings
from django.http import HttpResponse

from brands.health import healthz


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
        if length > settings.MAX_REQUEST_BYTES:
            return HttpResponse("Request too large.", status=413, content_type="text/plain")
        return self.get_response(request)
