"""What the verify page says about a code, and what a scan tells the brand: pure rules, no Django.

Warnings and findings are data (a stable code plus parameters); only a renderer turns them into words.
Detection is incremental: the code row keeps a small set of the regions and devices it was scanned from
and its last located fix (see `codes.models.Code`), so a rule never re-reads the scan history.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from codes import packstates
from codes.regulators import Registration

# Warning codes: a public contract (the JSON verdict publishes them). A unit's state is warned of by its name.
RECALLED = packstates.RECALLED
EXPIRED = packstates.EXPIRED
LIKELY_COPY = "likely_copy"
PIN_REUSED = "pin_reused"
ALREADY_REGISTERED = "already_registered"  # told to a second person registering a unit (params: since)
INACTIVE = "inactive"  # any other state that is not for sale (params: status)
# Also a verdict status: a code the brand issued whose unit it has not marked applied (or received) yet.
NOT_ACTIVATED = packstates.NOT_ACTIVATED
STATE_WARNINGS = packstates.WARNED

# Alert kinds: also a contract (webhook payloads carry them).
GREY_MARKET = "grey_market"
OFF_MARKET = "off_market"
HOT_SPOT = "hot_spot"
LATE_SCAN = "late_scan"
EARLY_SCAN = "early_scan"  # a code scanned before its unit was activated: its labels (or print file) are out
# A unit someone else registered already: two people holding one unit is a copied label (owners.services).
SECOND_REGISTRATION = "second_registration"
ALERT_KINDS = (LIKELY_COPY, GREY_MARKET, OFF_MARKET, HOT_SPOT, LATE_SCAN, EARLY_SCAN, SECOND_REGISTRATION)

# A late scan is one of a unit that should no longer circulate.
LATE_STATES = packstates.OUT_OF_CIRCULATION

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class VerdictWarning:
    """A warning to show, as data: `code` is stable, `params` fill the words the renderer chooses."""

    code: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductFacts:
    name: str
    gtin: str | None  # None for a product without a GTIN: its ref is never published as one
    lot: str | None
    expiry: str | None
    brand: str
    ref: str | None = None  # the Serialize product ref, for products of brands without a GS1 prefix
    registrations: tuple[Registration, ...] = ()  # its regulators' identifiers, as the brand declared them
    needs_farmatag: bool = False  # must also carry Malaysia's official FarmaTag security label

    @property
    def expires_on(self) -> date | None:
        return date.fromisoformat(self.expiry) if self.expiry else None


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
    warnings: list[VerdictWarning] = field(default_factory=list)
    pin_required: bool = False
    pin: PinCheck | None = None

    def as_json(
        self,
        word: Callable[[VerdictWarning], str],
        describe: Callable[[Registration], str] | None = None,
        farmatag_notice: Callable[[], str] | None = None,
    ) -> dict[str, object]:
        """The public JSON verdict; `word` turns a warning into a message in the reader's language, `describe` a
        registration and `farmatag_notice` says the FarmaTag must be checked too (no message without them)."""
        # Spelled out rather than dataclasses.asdict, whose deep copies cost more than the rest of a verdict.
        product: dict[str, object] | None = None
        if self.product is not None:
            product = {
                "name": self.product.name,
                "gtin": self.product.gtin,
                "lot": self.product.lot,
                "expiry": self.product.expiry,
                "brand": self.product.brand,
            }
            if self.product.ref is not None:
                # A product without a GTIN ("gtin": null) is named by its Serialize ref, never as a GTIN.
                product["ref"] = self.product.ref
            # Added only for a product that has them: every other answer stays as it was.
            if self.product.registrations:
                product["registrations"] = [_registration(r, describe) for r in self.product.registrations]
            if self.product.needs_farmatag:
                product["needs_farmatag"] = True
                if farmatag_notice is not None:
                    product["farmatag_message"] = farmatag_notice()
        data: dict[str, object] = {
            "authentic": self.authentic,
            "status": self.status,
            "first_scan": self.first_scan,
            "scan_count": self.scan_count,
            "first_scanned_at": _iso(self.first_scanned_at),
            "first_scanned_in": self.first_scanned_in,
            "product": product,
            "warnings": [{"code": w.code, "message": word(w)} for w in self.warnings],
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
        return self.authentic and self.status == packstates.ACTIVE

    @property
    def is_likely_copy(self) -> bool:
        return any(w.code == LIKELY_COPY for w in self.warnings)


def _registration(registration: Registration, describe: Callable[[Registration], str] | None) -> dict[str, str]:
    shown = {
        "regulator": registration.regulator,
        "country": registration.country,
        "kind": registration.kind,
        "number": registration.number,
        "search_url": registration.search_url,
    }
    if describe is not None:
        shown["message"] = describe(registration)
    return shown


def effective_status(stored_status: str, expires_on: date | None, today: date) -> str:
    """Expiry is derived, never stored: an active unit past its lot's expiry reads as expired."""
    if stored_status == packstates.ACTIVE and expires_on is not None and expires_on < today:
        return EXPIRED
    return stored_status


def state_warnings(status: str) -> list[VerdictWarning]:
    """A unit not for sale always warns, naming its state."""
    if status == packstates.ACTIVE:
        return []
    if status in STATE_WARNINGS:
        return [VerdictWarning(status)]
    return [VerdictWarning(INACTIVE, {"status": status})]


def pin_reused_warning(first_used_at: datetime | None) -> VerdictWarning:
    return VerdictWarning(PIN_REUSED, {"first_used_at": _iso(first_used_at)})


def not_recognised() -> Verdict:
    return Verdict(authentic=False)


def early_scan() -> Finding:
    """A scan of a code whose unit is not activated yet: its label exists outside any released product (a leaked
    print file, or labels taken from the line), which the brand should hear about."""
    return Finding(EARLY_SCAN, "high", {})


def second_registration(first_registered_at: datetime) -> Finding:
    """Someone registering a unit another person registered before: one unit has two holders, so at least one
    label is a copy (an owner who registers again with the same address or number is not counted)."""
    return Finding(SECOND_REGISTRATION, "high", {"first_registered_at": _iso(first_registered_at)})


def already_registered_warning(first_registered_at: datetime) -> VerdictWarning:
    """What the second person is told: the unit is registered already, so the label may be a copy."""
    return VerdictWarning(ALREADY_REGISTERED, {"since": _iso(first_registered_at)})


def not_activated(product: ProductFacts) -> Verdict:
    """A genuine code whose unit has not gone live: never `authentic`, since a label on no product the brand
    released is what a leaked print file looks like. It names the product (a packaging line checks its labels
    with it) but says nothing of earlier scans, which are not counted."""
    return Verdict(authentic=False, status=NOT_ACTIVATED, product=product, warnings=[VerdictWarning(NOT_ACTIVATED)])


UNVERIFIED_BRAND = "unverified_brand"


def unverified_brand() -> Verdict:
    """The GTIN is registered, but by a brand no operator has verified as its prefix's owner: whatever
    brand, product or lot it claims, the platform cannot vouch for it (never `authentic`)."""
    return Verdict(authentic=False, status=UNVERIFIED_BRAND)


# --- Detection --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """A brand's detection settings. Markets and blocked countries are ISO 3166-1 alpha-2 codes."""

    max_regions: int = 4  # more distinct regions than this: likely a copy
    max_devices: int = 10  # more distinct devices than this: likely a copy
    max_speed_kmh: float = 900.0  # faster than an airliner between two scans: impossible travel
    min_travel_km: float = 300.0  # closer than this, coarse IP places cannot tell travel from noise
    markets: frozenset[str] = frozenset()  # where the brand sells; empty means everywhere
    blocked: frozenset[str] = frozenset()  # where the brand's goods must never be
    hot_spot_scans: int = 20  # not-recognised scans of one GTIN from one region …
    hot_spot_minutes: int = 60  # … within this window
    late_scans: bool = True


@dataclass(frozen=True)
class Fix:
    """Where and when a code was last seen, with coordinates: what impossible travel is measured on."""

    lat: float
    lon: float
    at: float  # Unix seconds

    def encode(self) -> str:
        return f"{self.lat:.4f},{self.lon:.4f},{int(self.at)}"

    @staticmethod
    def parse(text: str | None) -> Fix | None:
        if not text:
            return None
        try:
            lat, lon, at = (float(part) for part in text.split(","))
        except ValueError:
            return None
        return Fix(lat, lon, at)


@dataclass(frozen=True)
class CodeSignals:
    """The code row after this scan was counted on it."""

    scan_count: int
    regions: int
    devices: int
    previous_fix: Fix | None = None
    suspect: bool = False  # flagged as a likely copy by an earlier scan


@dataclass(frozen=True)
class ScanFacts:
    status: str  # effective state of the unit
    country_code: str | None = None
    fix: Fix | None = None
    out_of_territory: bool = False  # set by the distributor lookup on the verify path
    status_change: int | None = None  # the status change (a recall …) that put the unit in its state


@dataclass(frozen=True)
class Finding:
    """Something the brand should hear about: becomes (or grows) an alert of `kind`."""

    kind: str
    severity: str
    params: Mapping[str, object] = field(default_factory=dict)


def set_size(entries: str | None) -> int:
    return entries.count(";") if entries else 0


def device_count(entries: str | None) -> int:
    """How many devices a code's `seen_devices` set stands for. Entries are `network.device`: entries that share
    a network or a device are one device (a household's phones on one connection, one phone on two
    connections), so cookies forged from one address count once. Entries without a network (older rows) count
    each on their own."""
    members = set_members(entries)
    parent = list(range(len(members)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[str, int] = {}
    for i, entry in enumerate(members):
        network, _, device = entry.rpartition(".")
        for key in (f"n:{network}" if network else "", f"d:{device}"):
            if not key:
                continue
            if key in seen:
                parent[root(i)] = root(seen[key])
            else:
                seen[key] = i
    return len({root(i) for i in range(len(members))})


def set_members(entries: str | None) -> tuple[str, ...]:
    """The entries of a `;`-terminated set, in the order they were added."""
    return tuple(entry for entry in entries.split(";") if entry) if entries else ()


def distance_km(a: Fix, b: Fix) -> float:
    """Great-circle distance (haversine)."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def travel(previous: Fix | None, current: Fix | None, limits: Thresholds) -> tuple[float, float] | None:
    """(km, km/h) when getting from `previous` to `current` needs more than the speed limit, else None."""
    if previous is None or current is None:
        return None
    km = distance_km(previous, current)
    if km < limits.min_travel_km:
        return None
    hours = max(current.at - previous.at, 1.0) / 3600  # the same second still takes a second
    speed = km / hours
    return (km, speed) if speed > limits.max_speed_kmh else None


def copy_evidence(signals: CodeSignals, facts: ScanFacts, limits: Thresholds) -> dict[str, object] | None:
    """Why a code looks copied (regions, devices or impossible travel), or None. Never from scan counts alone:
    an honest owner who rescans ten times is not a counterfeiter."""
    moved = travel(signals.previous_fix, facts.fix, limits)
    reasons = []
    if signals.regions > limits.max_regions:
        reasons.append("regions")
    if signals.devices > limits.max_devices:
        reasons.append("devices")
    if moved is not None:
        reasons.append("travel")
    if not reasons:
        return None
    evidence: dict[str, object] = {"reasons": reasons, "regions": signals.regions, "devices": signals.devices}
    if moved is not None:
        evidence.update(km=round(moved[0]), kmh=round(moved[1]))
    return evidence


def findings(signals: CodeSignals, facts: ScanFacts, limits: Thresholds) -> list[Finding]:
    """Everything one counted scan of a genuine code tells the brand."""
    found = []
    evidence = copy_evidence(signals, facts, limits)
    if evidence is not None or signals.suspect:
        found.append(Finding(LIKELY_COPY, "high", evidence or {"regions": signals.regions}))
    if facts.out_of_territory:
        found.append(Finding(GREY_MARKET, "medium", {"country": facts.country_code}))
    if off_market(facts.country_code, limits):
        found.append(Finding(OFF_MARKET, "high" if facts.country_code in limits.blocked else "medium", {}))
    if limits.late_scans and facts.status in LATE_STATES:
        late: dict[str, object] = {"status": facts.status}
        if facts.status_change is not None and facts.status == RECALLED:  # one alert per recall, not per unit
            late["recall"] = facts.status_change
        found.append(Finding(LATE_SCAN, "high" if facts.status == RECALLED else "low", late))
    return found


def off_market(country_code: str | None, limits: Thresholds) -> bool:
    """A scan in a blocked country, or outside the brand's markets when it names them (unknown places never)."""
    if not country_code:
        return False
    return country_code in limits.blocked or bool(limits.markets and country_code not in limits.markets)


def likely_copy_warning(
    signals: CodeSignals, *, places: str | None = None, since: datetime | None = None
) -> VerdictWarning:
    """What later scanners are told: how often, where (`places`: the code's set of region codes, in the order
    first seen) and since when; never "fake"."""
    return VerdictWarning(
        LIKELY_COPY,
        {
            "scan_count": signals.scan_count,
            "regions": signals.regions,
            "places": set_members(places),
            "since": _iso(since),
        },
    )


def hot_spot_reached(count: int, limits: Thresholds) -> bool:
    """Alert when a window's count reaches the threshold, then again at each further multiple of it."""
    return limits.hot_spot_scans > 0 and count >= limits.hot_spot_scans and count % limits.hot_spot_scans == 0


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
