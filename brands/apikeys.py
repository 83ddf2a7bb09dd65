"""API keys: made, found and revoked here; the access layer turns a found key into an actor.

A key reads ``srz_<prefix>_<secret>``: the prefix is shown in Settings to tell keys apart, the whole key
is shown once and only its SHA-256 is stored. Every request reads the key's row (no cache), so a revoked
or expired key is refused on the very next request in every worker.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.errors import ServiceError
from core.ratelimit import add_one

from .models import ApiKey, ApiKeyScope, Brand
from .plans import plan_named

log = logging.getLogger(__name__)

KEY_START = "srz_"
LAST_USED_EVERY = timedelta(minutes=1)  # last-used time to the minute: one UPDATE a minute per key, not per call


class ApiKeyError(ServiceError):
    pass


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def clean_scopes(scopes) -> list[str]:
    if isinstance(scopes, str):
        scopes = [s for s in (part.strip() for part in scopes.split(",")) if s]
    known = set(ApiKeyScope.values)
    unknown = sorted(set(scopes) - known)
    if unknown or not scopes:
        raise ApiKeyError("scopes", f"Scopes must be among {', '.join(ApiKeyScope.values)} (got {', '.join(unknown)}).")
    return sorted(set(scopes))


def _check(brand: Brand, scopes: list[str], distributor, partner_gln: str) -> None:
    if distributor is not None and distributor.brand_id != brand.pk:
        raise ApiKeyError("distributor", "No such distributor in this brand.")
    if distributor is not None and not set(scopes) <= {ApiKeyScope.READ, ApiKeyScope.WRITE}:
        raise ApiKeyError("scopes", "A distributor's key can only read and write (receive) its own rows.")
    if partner_gln and not (partner_gln.isdigit() and len(partner_gln) == 13):
        raise ApiKeyError("partner_gln", "A GLN has 13 digits.")
    if ApiKeyScope.VRS in scopes and not partner_gln:
        raise ApiKeyError("partner_gln", "A verification key belongs to a trading partner: give its GLN.")


def create_api_key(
    *,
    brand: Brand,
    name: str,
    scopes,
    distributor=None,
    partner_gln: str = "",
    expires_days: int | None = None,
    created_by=None,
) -> tuple[ApiKey, str]:
    """Make a key; returns it with its secret, which is never readable again."""
    name = (name or "").strip()
    if not name:
        raise ApiKeyError("name", "Give the key a name (the system that will use it).")
    scopes = clean_scopes(scopes)
    _check(brand, scopes, distributor, partner_gln)
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise ApiKeyError("expires_days", "A key expires after 1 to 3650 days, or never.")
    prefix = secrets.token_hex(4)
    raw = f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        brand=brand,
        name=name[:80],
        prefix=prefix,
        hashed=hash_key(raw),
        scopes=scopes,
        distributor=distributor,
        partner_gln=partner_gln,
        created_by=created_by,
        expires_at=timezone.now() + timedelta(days=expires_days) if expires_days else None,
    )
    return key, raw


def revoke_api_key(*, key: ApiKey, now: datetime | None = None) -> bool:
    """Revoke once; False when it already was."""
    return bool(ApiKey.objects.filter(pk=key.pk, revoked_at=None).update(revoked_at=now or timezone.now()))


def key_of(raw: str, *, now: datetime | None = None) -> ApiKey | None:
    """The usable key a request presents, or None (unknown, revoked or expired alike)."""
    if not raw.startswith(KEY_START) or len(raw) > 100:
        return None
    key = ApiKey.objects.select_related("brand", "created_by", "distributor").filter(hashed=hash_key(raw)).first()
    now = now or timezone.now()
    if key is None or not key.is_usable(now):
        return None
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY:
        # Conditional, so concurrent calls write it once; outside any request transaction.
        with transaction.atomic():
            ApiKey.objects.filter(pk=key.pk).exclude(last_used_at__gt=now - LAST_USED_EVERY).update(last_used_at=now)
    return key


def _day_key(brand_id: int, day: date) -> str:
    return f"api-calls:{brand_id}:{day.isoformat()}"


def count_call(brand: Brand, *, now: datetime | None = None) -> tuple[bool, int]:
    """Count one API call against the brand's plan for today (UTC): (allowed, calls so far). With Redis down
    the call is let through and not counted (the API fails open; core.ratelimit logs it)."""
    limit = plan_named(brand.plan).api_calls_per_day
    day = (now or timezone.now()).date()
    try:
        calls = add_one(_day_key(brand.pk, day), 2 * 86400)
    except Exception:  # noqa: BLE001 - a cache outage must not take the API down
        log.warning("API call metering unavailable, call let through")
        return True, 0
    return (limit is None or calls <= limit), calls


def calls_today(brand: Brand, *, now: datetime | None = None) -> int | None:
    """Today's counted calls, for Settings; None when the counter cannot be read."""
    try:
        return int(cache.get(_day_key(brand.pk, (now or timezone.now()).date())) or 0)
    except Exception:  # noqa: BLE001 - shown as unknown
        return None
