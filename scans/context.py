"""Who scanned, coarsely (never the raw IP), and what a scan adds to its code's detection state."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from codes import rows

from . import rules
from .geo import Place
from .models import ScanSource


@dataclass(frozen=True)
class ScanContext:
    """Who scanned, coarsely: never the raw IP."""

    ip_hash: str
    place: Place | None
    user_agent_family: str
    source: str = ScanSource.QR
    device: str = ""  # a first-party cookie's id, else derived from the hashed IP and browser family

    @property
    def counts(self) -> bool:
        """Link previews and crawlers see the verdict but must not use up a code's first scan."""
        return self.source != ScanSource.PREVIEW


@dataclass(frozen=True)
class Sighting:
    """What this scan adds to its code's detection state."""

    region: str
    device: str
    fix: rules.Fix | None

    @classmethod
    def of(cls, context: ScanContext, now: datetime) -> "Sighting":
        place = context.place
        fix = None
        if place is not None and place.latitude is not None and place.longitude is not None:
            fix = rules.Fix(place.latitude, place.longitude, now.timestamp())
        region = (place.region_code or place.country_code or "") if place else ""
        device = context.device or device_id(context.ip_hash, context.user_agent_family)
        # With its network: cookies forged from one address must count as one device (rules.device_count).
        network = context.ip_hash[:8]
        return cls(region=region, device=f"{network}.{device}" if network else device, fix=fix)

    def seen(self) -> rows.Seen:
        """As the code's count statement takes it."""
        return rows.Seen(region=self.region, device=self.device, fix=self.fix.encode() if self.fix else "")


def device_id(ip_hash: str, user_agent_family: str) -> str:
    """A device, coarsely: the hashed network address and browser family (used when there is no cookie)."""
    return hashlib.sha256(f"{ip_hash}|{user_agent_family}".encode()).hexdigest()[:10]


def place_fields(place: Place | None) -> dict:
    """A scan's place columns, from a place (IP-based or a GPS fix) or none."""
    if place is None:
        return {"place": "", "city": "", "region_code": "", "country_code": "", "location_source": ""}
    return {
        "place": place.label[:160],
        "city": (place.city or "")[:100],
        "region_code": place.region_code or "",
        "country_code": place.country_code or "",
        "location_source": place.source,
    }
