"""The JSON verify's fast path through the middleware stack."""

import functools

from django.db import connection
from django.middleware.common import CommonMiddleware
from django.middleware.locale import LocaleMiddleware
from django.urls import get_script_prefix, resolve, reverse
from django.utils import translation

from . import views


@functools.cache
def _verify_prefixes(script_prefix: str) -> tuple[str, ...]:
    """Where verify's routes start in a request's path_info ("/01/", "/p/"), from the routes themselves."""
    paths = (reverse(name, kwargs={"rest": ""}) for name in ("verify", "verify_ref"))
    return tuple(path[len(script_prefix) - 1 :] for path in paths)


class JsonVerifyFastPath:
    """A JSON verify (brands' apps, and the bulk of a launch-day load) goes straight to its view once the
    host is checked and the language chosen (by Django's own CommonMiddleware and LocaleMiddleware steps): it has
    no session, user, messages, CSRF token, static file or page to protect with CSP and frame headers, and each
    of those middlewares costs time on every scan. Page views and everything else keep the whole stack. Sits
    after SecurityMiddleware (HTTPS redirect, nosniff).

    It also skips the connection health check (CONN_HEALTH_CHECKS: a `SELECT 1` round trip before each
    request's first query). What that check guards against, a connection the server dropped (a PostgreSQL
    restart or failover), verify handles itself, for page views too: it answers once more on a new connection,
    counting the scan once (scans.verify.surviving_a_lost_connection)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.common = CommonMiddleware(get_response)
        self.locale = LocaleMiddleware(get_response)

    # Verify answers once more on a new connection when the old one was dropped: it needs no health check.
    skips_health_check = True

    def takes(self, request) -> bool:
        """Whether the request goes the fast way: a GET of a verify route asking for JSON."""
        verify_path = request.path_info.startswith(_verify_prefixes(get_script_prefix()))
        return request.method == "GET" and verify_path and views.wants_json(request)

    def __call__(self, request):
        if not self.takes(request):
            return self.get_response(request)
        refused = self.common.process_request(request)  # ALLOWED_HOSTS (DisallowedHost is a 400), PREPEND_WWW
        if refused is not None:
            return refused
        self.locale.process_request(request)
        try:
            match = resolve(request.path_info)
            request.resolver_match = match
            if self.skips_health_check:
                connection.health_check_done = True
            response = match.func(request, *match.args, **match.kwargs)
            return self.locale.process_response(request, response)  # Vary and Content-Language
        finally:
            translation.deactivate()
