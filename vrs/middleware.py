"""Trading partners' requests take verify's fast path through the middleware stack."""

import functools

from django.urls import get_script_prefix, reverse

from scans.middleware import JsonVerifyFastPath


@functools.cache
def _prefix(script_prefix: str) -> str:
    """Where the responder's routes start in a request's path_info ("/vrs/"), from the routes themselves."""
    path = reverse("vrs_check_connectivity")
    return path[len(script_prefix) - 1 :].rsplit("/", 1)[0] + "/"


class PartnerFastPath(JsonVerifyFastPath):
    """A partner's system sends a key, never a cookie: no session, user, messages, CSRF token or page to protect
    is of use to it (the host is still checked; the language is chosen, though the answer has no words). Unlike
    verify, the responder does not answer again on a new connection, so Django's connection health check stays."""

    skips_health_check = False

    def takes(self, request) -> bool:
        return request.method == "GET" and request.path_info.startswith(_prefix(get_script_prefix()))
