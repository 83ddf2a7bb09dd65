"""Per-key rate limits and the plan's daily calls, both in Redis (shared by every worker).

With Redis down both let calls through (core.ratelimit logs it): the API keeps answering.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from brands.apikeys import count_call
from brands.plans import plan_named
from core.ratelimit import allow, parse_rate

from .exceptions import QuotaExceeded


def _seconds_left(window: int) -> int:
    return window - int(time.time()) % window


class KeyRateThrottle(BaseThrottle):
    """`API_KEY_RATE` calls per key per window ('600/m'); 429 with Retry-After until the window turns."""

    def allow_request(self, request, view) -> bool:
        key = request.auth
        if key is None:
            return True
        self.window = (parse_rate(settings.API_KEY_RATE) or (0, 1))[1]
        return allow("api-key", str(key.pk), settings.API_KEY_RATE)

    def wait(self) -> float:
        return _seconds_left(self.window)


class DailyQuotaThrottle(BaseThrottle):
    """The plan's `api_calls_per_day` per brand, counted for every call a key makes (UTC days)."""

    def allow_request(self, request, view) -> bool:
        key = request.auth
        if key is None:
            return True
        allowed, _ = count_call(key.brand)
        if not allowed:
            plan = plan_named(key.brand.plan)
            now = timezone.now()
            tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            raise QuotaExceeded(plan=plan.label, limit=plan.api_calls_per_day or 0, wait=(tomorrow - now).seconds + 1)
        return True
