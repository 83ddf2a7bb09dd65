"""What the verify page says about a code: pure rules, no Django."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

CLONE = "clone"
INACTIVE = "inactive"


@dataclass(frozen=True)
class VerdictWarning:
    """A warning to show, as data: the web layer words it in the reader's language."""

    kind: str
    status: str | None = None
    scan_count: int = 0
    places: int = 0


@dataclass(frozen=True)
class ProductFacts:
    name: str
    gtin: str
    lot: str | None
    expiry: str | None
    brand: str


@dataclass(frozen=True)
class PinCheck:
    verified: bool
    first_use: bool = False
    first_used_at: datetime | None = None


@dataclass
class Verdict:
    authentic: bool
    status: str | None = None
    first_scan: bool = False
    scan_count: int = 0
    first_scanned_at: datetime | None = None
    first_scanned_in: str | None = None
    product: ProductFacts | None = None
    warnings: list[str] = field(default_factory=list)
    pin_required: bool = False
    pin: PinCheck | None = None

    def as_json(self) -> dict[str, object]:
        # Spelled out rather than dataclasses.asdict, whose deep copies cost more than the rest of a verdict.
        data: dict[str, object] = {
            "authentic": self.authentic,
            "status": self.status,
            "first_scan": self.first_scan,
            "scan_count": self.scan_count,
            "first_scanned_at": _iso(self.first_scanned_at),
            "first_scanned_in": self.first_scanned_in,
            "product": None
            if self.product is None
            else {
                "name": self.product.name,
                "gtin": self.product.gtin,
                "lot": self.product.lot,
                "expiry": self.product.expiry,
                "brand": self.product.brand,
            },
            "warnings": list(self.warnings),
            "pin_required": self.pin_required,
        }
        if self.pin is not None:
            data["pin"] = {
                "verified": self.pin.verified,
                "first_use": self.pin.first_use,
                "first_used_at": _iso(self.pin.first_used_at),
            }
        return data

    @property
    def is_active(self) -> bool:
        return self.authentic and self.status == "active"


def effective_status(stored_status: str, expires_on: date | None, today: date) -> str:
    """Expiry is derived, never stored: an active unit past its lot's expiry reads as expired."""
    if stored_status == "active" and expires_on is not None and expires_on < today:
        return "expired"
    return stored_status


def warnings_for(*, status: str, scan_count: int, distinct_places: int, clone_threshold: int) -> list[VerdictWarning]:
    """Inactive units always warn; a unit seen in `clone_threshold` or more places is likely copied."""
    warnings = []
    if status != "active":
        warnings.append(VerdictWarning(INACTIVE, status=status))
    if clone_threshold and distinct_places >= clone_threshold:
        warnings.append(VerdictWarning(CLONE, scan_count=scan_count, places=distinct_places))
    return warnings


def not_recognised() -> Verdict:
    return Verdict(authentic=False)


UNVERIFIED_BRAND = "unverified_brand"


def unverified_brand() -> Verdict:
    """The GTIN is registered, but by a brand no operator has verified as its prefix's owner: whatever
    brand, product or lot it claims, the platform cannot vouch for it (never `authentic`)."""
    return Verdict(authentic=False, status=UNVERIFIED_BRAND)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
