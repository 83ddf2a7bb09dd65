"""Fixed-window rate limits in the shared cache (Redis in production): one round trip per hit.

With the cache down, limits fail open: verify keeps answering (and logging scans), and says so in the log.
"""

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int] | None:
    """'60/m' -> (60, 60); '0' or '' -> None (no limit). Raises ValueError on nonsense."""
    rate = rate.strip()
    if rate in ("", "0"):
        return None
    count, _, unit = rate.partition("/")
    if unit not in UNITS or not count.isdigit():
        raise ValueError(f"rate must look like 60/m, got {rate!r}")
    return (int(count), UNITS[unit]) if int(count) else None


def scale(rate: str, factor: int) -> str:
    """'60/m' scaled by 4 -> '240/m'; no limit stays no limit."""
    limit = parse_rate(rate)
    if limit is None:
        return "0"
    count, window = limit
    unit = next(u for u, seconds in UNITS.items() if seconds == window)
    return f"{count * factor}/{unit}"


def allow(scope: str, key: str, rate: str) -> bool:
    """Count one hit for `key`; False once it is over `rate` in the current window."""
    limit = parse_rate(rate)
    if limit is None:
        return True
    count, window = limit
    bucket = f"rl:{scope}:{key}:{int(time.time()) // window}"
    try:
        return add_one(bucket, window + 1) <= count
    except Exception:  # noqa: BLE001 - any cache failure: let the request through, loudly
        log.warning("rate limit unavailable, request let through", extra={"scope": scope})
        return True


def add_one(key: str, lifetime: int) -> int:
    """Count one in the shared cache under `key` (a counter that lives `lifetime` seconds); returns the count.
    One round trip on Redis (Django's cache.incr takes two, and a third to create the key)."""
    client = _redis_client()
    if client is not None:
        name = cache.make_and_validate_key(key)
        pipe = client.pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, lifetime)
        return pipe.execute()[0]
    cache.add(key, 0, lifetime)
    return cache.incr(key)


def _redis_client():
    inner = getattr(cache, "_cache", None)
    get_client = getattr(inner, "get_client", None)
    return get_client(write=True) if get_client else None
