"""The secret IP hashes are keyed with: a random one per day, shared by every process through the cache
and dropped after two days. Once it is gone, nobody (not even whoever holds SECRET_KEY) can test guesses
against a stored hash; within a day, equal addresses still hash alike for detection and rate limits."""

import logging
import secrets
import threading

from django.core.cache import cache
from django.utils import timezone

log = logging.getLogger(__name__)
KEEP_SECONDS = 2 * 24 * 3600

_lock = threading.Lock()
_current: tuple[str, bytes] | None = None  # (day, salt) memoised per process: no cache read per scan


def daily_salt() -> bytes:
    global _current
    day = timezone.now().strftime("%Y-%m-%d")
    memo = _current
    if memo is not None and memo[0] == day:
        return memo[1]
    with _lock:
        salt = _shared_salt(day)
        _current = (day, salt)
    return salt


def _shared_salt(day: str) -> bytes:
    key = f"ip-hash-salt:{day}"
    fresh = secrets.token_hex(32)
    try:
        cache.add(key, fresh, KEEP_SECONDS)  # the first process of the day wins; the others read its salt
        value = cache.get(key) or fresh
    except Exception:  # noqa: BLE001 - cache down: a salt of this process alone, still never stored
        log.warning("cache unavailable: IP hashes use a per-process salt until it is back")
        value = fresh
    return value.encode()


def forget() -> None:
    """Drop this process's memo (tests; a new day does it by itself)."""
    global _current
    _current = None
