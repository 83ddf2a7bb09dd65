"""Sign-up and password-reset throttles (django-ratelimit in the shared cache). With the cache down they
let requests through and say so in the log: a throttle must not take sign-in down with it."""

import hashlib
import logging

from django.conf import settings
from django.utils.module_loading import import_string
from django_ratelimit.core import is_ratelimited

log = logging.getLogger(__name__)


def client_of(request) -> str:
    """The client address the log-in throttle (django-axes) uses too: proxies only when trusted."""
    return import_string(settings.AXES_CLIENT_IP_CALLABLE)(request)


def over_limit(request, *, group: str, key: str, rate: str) -> bool:
    """Count one hit of `key` in `group`; True once it is over `rate` ('10/h'; '0' = no limit)."""
    if rate.strip() in ("", "0"):
        return False
    hashed = hashlib.sha256(key.encode()).hexdigest()  # addresses never sit in the cache in clear
    try:
        return is_ratelimited(request, group=group, key=lambda _group, _request: hashed, rate=rate, increment=True)
    except Exception:  # noqa: BLE001 - a cache outage must not refuse sign-in; logged instead
        log.warning("throttle unavailable, request let through", extra={"group": group})
        return False
