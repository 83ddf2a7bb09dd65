"""Who is asking, as the sign-in throttle sees it: the same client address as the verify limits use."""

from django.conf import settings

from brands.models import normalise_email
from scans.geo import client_ip


def client_ip_for_axes(request) -> str:
    return client_ip(
        request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR"), settings.TRUSTED_PROXIES
    )


def username_for_axes(request, credentials) -> str:
    """The per-account count is kept under the address exactly as log-in looks the account up."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return normalise_email(username)
