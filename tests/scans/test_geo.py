"""Tests for scans.geo: offline IP and coordinate geolocation, client IP extraction, IP hashing."""

from __future__ import annotations

import hashlib
import hmac
import math
import random
import threading
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import maxminddb
import numpy as np
import pytest

from scans import geo
from scans.geo import GeoLocator, Place, client_ip, default_locator, ip_hash


@pytest.fixture(scope="module")
def locator() -> GeoLocator:
    return GeoLocator()


# --- Place ---------------------------------------------------------------------------------------


def test_label_joins_city_region_name_and_country_code() -> None:
    place = Place("Kuala Lumpur", "MY-14", "Kuala Lumpur", "MY", "Malaysia", "ip")
    assert place.label == "Kuala Lumpur, Kuala Lumpur, MY"


def test_label_skips_missing_parts() -> None:
    assert Place(None, None, None, "US", "United States", "ip").label == "US"
    assert Place("Miri", "MY-13", None, "MY", None, "gps").label == "Miri, MY"
    assert Place(None, None, None, None, None, "ip").label == ""


# --- IP lookups (packaged GeoLite2-City, 2019-12-24) ---------------------------------------------


def test_malaysian_ip_resolves_with_iso_3166_2_region(locator: GeoLocator) -> None:
    # 175.139.0.0/16 is TM Net; this is what the packaged database says of it.
    assert locator.from_ip("175.139.1.1") == Place(
        city="Kuala Lumpur",
        region_code="MY-14",
        region_name="Kuala Lumpur",
        country_code="MY",
        country_name="Malaysia",
        source="ip",
    )
    assert locator.from_ip("175.139.1.1").label == "Kuala Lumpur, Kuala Lumpur, MY"


def test_other_malaysian_range_gives_its_own_state(locator: GeoLocator) -> None:
    place = locator.from_ip("175.139.200.1")
    assert place is not None
    assert (place.city, place.region_code, place.country_code) == ("George Town", "MY-07", "MY")


def test_us_ip_resolves_to_state_code(locator: GeoLocator) -> None:
    place = locator.from_ip("171.64.0.1")  # Stanford University
    assert place == Place("Stanford", "US-CA", "California", "US", "United States", "ip")


def test_ip_known_only_to_country_level(locator: GeoLocator) -> None:
    assert locator.from_ip("18.0.0.1") == Place(None, None, None, "US", "United States", "ip")


def test_ipv6_address(locator: GeoLocator) -> None:
    place = locator.from_ip("2001:e68::1")  # TM Net IPv6
    assert place is not None and place.country_code == "MY"


def test_ipv4_mapped_ipv6_and_surrounding_space_match_plain_ipv4(locator: GeoLocator) -> None:
    expected = locator.from_ip("175.139.1.1")
    assert locator.from_ip("::ffff:175.139.1.1") == expected
    assert locator.from_ip("  175.139.1.1 ") == expected


@pytest.mark.parametrize(
    "ip",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "100.64.0.1",  # carrier-grade NAT
        "169.254.1.1",
        "0.0.0.0",
        "224.0.0.1",
        "192.0.2.1",  # documentation range
        "::ffff:10.0.0.1",
    ],
)
def test_non_public_ip_gives_none(locator: GeoLocator, ip: str) -> None:
    assert locator.from_ip(ip) is None


class _EverywhereReader:
    """Stands in for a database that would place any address, so filtering is what's tested."""

    def __init__(self, error: Exception | None = None) -> None:
        self.looked_up: list[object] = []
        self.error = error

    def get(self, addr: object) -> dict:
        self.looked_up.append(addr)
        if self.error is not None:
            raise self.error
        return {"country": {"iso_code": "MY", "names": {"en": "Malaysia"}}}


def test_non_public_ip_never_reaches_the_database() -> None:
    fake = _EverywhereReader()
    fresh = GeoLocator()
    fresh._reader = fake
    for ip in ["10.1.2.3", "127.0.0.1", "::1", "100.64.0.1", "224.0.0.1", "192.0.2.1", "::ffff:10.0.0.1"]:
        assert fresh.from_ip(ip) is None, ip
    assert fake.looked_up == []
    assert fresh.from_ip("175.139.1.1") == Place(None, None, None, "MY", "Malaysia", "ip")
    assert len(fake.looked_up) == 1


def test_ipv6_against_ipv4_only_database_gives_none() -> None:
    fresh = GeoLocator()
    fresh._reader = _EverywhereReader(ValueError("IPv6 address in an IPv4-only database"))
    assert fresh.from_ip("2001:e68::1") is None


@pytest.mark.parametrize("ip", ["", "   ", "not-an-ip", "999.1.1.1", "1.2.3", "175.139.1.1/24", "::g", "01.2.3.4"])
def test_garbage_ip_gives_none(locator: GeoLocator, ip: str) -> None:
    assert locator.from_ip(ip) is None


def test_non_string_ip_gives_none(locator: GeoLocator) -> None:
    assert locator.from_ip(None) is None  # type: ignore[arg-type]
    assert locator.from_ip(2945908993) is None  # type: ignore[arg-type]


def test_city_db_path_defaults_to_packaged_file() -> None:
    assert GeoLocator().city_db_path == geo.packaged_city_db_path()
    assert geo.packaged_city_db_path().endswith("GeoLite2-City.mmdb")


def test_city_db_path_override_is_used(tmp_path) -> None:
    explicit = GeoLocator(city_db_path=geo.packaged_city_db_path())
    assert explicit.from_ip("171.64.0.1").region_code == "US-CA"
    missing = GeoLocator(city_db_path=tmp_path / "GeoLite2-City.mmdb")
    assert missing.city_db_path == str(tmp_path / "GeoLite2-City.mmdb")
    with pytest.raises(FileNotFoundError):
        missing.from_ip("171.64.0.1")


def test_ip_database_build_date(locator: GeoLocator) -> None:
    built = locator.ip_database_built_at
    assert built.tzinfo is not None
    assert datetime(2019, 1, 1, tzinfo=UTC) < built < datetime.now(tz=UTC)


def test_ip_database_opened_once_under_concurrent_first_use(monkeypatch) -> None:
    opened: list[str] = []
    real_open = maxminddb.open_database

    def slow_open(path: str):
        opened.append(path)
        time.sleep(0.05)
        return real_open(path)

    monkeypatch.setattr(geo.maxminddb, "open_database", slow_open)
    fresh = GeoLocator()
    results: list[Place | None] = []
    threads = [threading.Thread(target=lambda: results.append(fresh.from_ip("175.139.1.1"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(opened) == 1
    assert len(results) == 8 and all(r is not None and r.region_code == "MY-14" for r in results)


def test_default_locator_is_cached_per_path() -> None:
    assert default_locator() is default_locator()
    assert default_locator(None) is not default_locator(geo.packaged_city_db_path())
    path = geo.packaged_city_db_path()
    assert default_locator(path) is default_locator(path)


# --- IP records without subdivision ISO codes (DB-IP Lite layout) --------------------------------


def test_dbip_style_record_region_mapped_by_english_name() -> None:
    record = {
        "city": {"names": {"en": "Miri"}},
        "country": {"iso_code": "MY", "names": {"en": "Malaysia"}},
        "subdivisions": [{"names": {"en": "Sarawak"}}],
    }
    assert geo._place_from_ip_record(record) == Place("Miri", "MY-13", "Sarawak", "MY", "Malaysia", "ip")


@pytest.mark.parametrize(
    ("country", "name", "code"),
    [
        ("MY", "Kuala Lumpur", "MY-14"),  # alias of "Wilayah Persekutuan Kuala Lumpur"
        ("US", "California", "US-CA"),
        ("DE", "Bavaria", "DE-BY"),  # English alias of "Bayern"
        ("ES", "Madrid", "ES-MD"),  # also a province (ES-M): only first-level counts
        ("MY", "Atlantis", None),
        ("ZZ", "California", None),
    ],
)
def test_region_code_by_name(country: str, name: str, code: str | None) -> None:
    assert geo._region_code_by_name(country, name) == code


def test_maxmind_iso_code_wins_over_name() -> None:
    record = {
        "country": {"iso_code": "MY", "names": {"en": "Malaysia"}},
        "subdivisions": [{"iso_code": "14", "names": {"en": "Somewhere Else"}}],
    }
    assert geo._place_from_ip_record(record).region_code == "MY-14"


@pytest.mark.parametrize(
    "record",
    [None, "MY", [], {}, {"continent": {"code": "AS"}}, {"country": "MY", "subdivisions": "x"}],
)
def test_record_without_place_data_gives_none(record: object) -> None:
    assert geo._place_from_ip_record(record) is None


# --- Coordinates ---------------------------------------------------------------------------------


def test_kuala_lumpur_coordinates(locator: GeoLocator) -> None:
    place = locator.from_coordinates(3.139, 101.6869)
    assert place is not None
    assert (place.city, place.region_code, place.country_code) == ("Kuala Lumpur", "MY-14", "MY")
    assert place.country_name == "Malaysia"
    assert place.source == "gps"


def test_johor_bahru_coordinates(locator: GeoLocator) -> None:
    place = locator.from_coordinates(1.4927, 103.7414)
    assert place is not None
    assert (place.region_code, place.region_name, place.country_code) == ("MY-01", "Johor", "MY")


def test_los_angeles_coordinates(locator: GeoLocator) -> None:
    place = locator.from_coordinates(34.0522, -118.2437)
    assert place is not None
    assert (place.city, place.region_code, place.country_code) == ("Los Angeles", "US-CA", "US")


def test_numeric_strings_are_accepted(locator: GeoLocator) -> None:
    assert locator.from_coordinates("3.139", "101.6869").region_code == "MY-14"  # type: ignore[arg-type]


def test_search_crosses_the_antimeridian(locator: GeoLocator) -> None:
    # Fiji's Vanua Levu lies at +179.x; a point just east of 180 degrees is next to it.
    place = locator.from_coordinates(-16.8, -179.99)
    assert place is not None and place.country_code == "FJ"


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (90.0001, 0.0),
        (-91.0, 0.0),
        (0.0, 180.5),
        (0.0, -181.0),
        (math.nan, 101.0),
        (3.0, math.inf),
        (-math.inf, 0.0),
        ("north", 101.0),
        (None, 101.0),
        (3.0, [101.0]),
        (True, 101.0),
    ],
)
def test_invalid_coordinates_give_none(locator: GeoLocator, lat: object, lon: object) -> None:
    assert locator.from_coordinates(lat, lon) is None  # type: ignore[arg-type]


def test_point_far_from_any_town_gives_none(locator: GeoLocator) -> None:
    assert locator.from_coordinates(0.0, 0.0) is None  # "null island", Gulf of Guinea
    assert locator.from_coordinates(0.0, -140.0) is None  # central Pacific
    far_reaching = GeoLocator(max_gps_distance_km=1000)
    assert far_reaching.from_coordinates(0.0, 0.0).country_code == "GH"


def test_nearest_matches_brute_force_search() -> None:
    index = geo._city_index()
    assert len(index) > 200_000
    xyz, ids = index._xyz, index._ids
    rng = random.Random(20240611)
    points = [(math.degrees(math.asin(rng.uniform(-1, 1))), rng.uniform(-180, 180)) for _ in range(150)]
    points += [(rng.uniform(35, 60), rng.uniform(-10, 30)) for _ in range(50)]  # dense Europe
    points += [(89.9, 10.0), (-89.9, 10.0), (0.0, 180.0), (0.0, -180.0)]
    for lat, lon in points:
        found = index.nearest(lat, lon, max_km=50_000)
        assert found is not None
        query = geo._unit_vectors(np.array(lat), np.array(lon))
        cosines = xyz @ query
        found_cos = cosines[int(np.flatnonzero(ids == found)[0])]
        assert found_cos == pytest.approx(cosines.max(), abs=1e-12), (lat, lon)


def test_nearest_respects_max_distance() -> None:
    index = geo._city_index()
    kl = index.nearest(3.139, 101.6869, max_km=200)
    assert kl is not None
    assert index.nearest(3.139, 101.6869, max_km=0.0001) is None


def test_city_coordinates_fallback_uses_public_iteration() -> None:
    cities = [
        SimpleNamespace(id=7, lat=3.1412, lng=101.68653),
        SimpleNamespace(id=9, lat=1.4655, lng=103.7578),
    ]
    ids, lats, lons = geo._city_coordinates(cities)
    assert ids.tolist() == [7, 9]
    assert lats.tolist() == [3.1412, 1.4655]
    assert lons.tolist() == [101.68653, 103.7578]
    index = geo._CityIndex(ids, lats, lons)
    assert index.nearest(1.5, 103.7, max_km=100) == 9
    assert index.nearest(3.0, 101.0, max_km=100) == 7
    assert index.nearest(40.0, -100.0, max_km=100) is None


# --- client_ip -----------------------------------------------------------------------------------


def test_forwarded_for_ignored_without_trusted_proxies() -> None:
    assert client_ip("203.0.113.9", "198.51.100.7", []) == "203.0.113.9"
    assert client_ip("203.0.113.9", None, ["10.0.0.0/8"]) == "203.0.113.9"
    assert client_ip("203.0.113.9", "", ["10.0.0.0/8"]) == "203.0.113.9"


def test_forwarded_for_ignored_when_remote_is_not_trusted() -> None:
    assert client_ip("203.0.113.9", "198.51.100.7", ["10.0.0.1"]) == "203.0.113.9"


def test_single_trusted_proxy_address() -> None:
    assert client_ip("10.0.0.1", "198.51.100.7", ["10.0.0.1"]) == "198.51.100.7"


def test_cidr_proxies_walked_from_the_right_spoofed_left_entries_ignored() -> None:
    forwarded = "6.6.6.6, 198.51.100.7, 10.1.1.1, 10.2.2.2"
    assert client_ip("10.3.3.3", forwarded, ["10.0.0.0/8"]) == "198.51.100.7"


def test_several_trusted_networks() -> None:
    forwarded = "198.51.100.7, 172.20.0.4"
    trusted = ["10.0.0.0/8", "172.16.0.0/12"]
    assert client_ip("10.0.0.2", forwarded, trusted) == "198.51.100.7"


def test_garbage_entries_are_skipped() -> None:
    forwarded = "junk, 198.51.100.7, unknown, , 10.1.1.1"
    assert client_ip("10.0.0.2", forwarded, ["10.0.0.0/8"]) == "198.51.100.7"
    assert client_ip("10.0.0.2", "unknown, ,,", ["10.0.0.0/8"]) == "10.0.0.2"


def test_all_hops_trusted_returns_leftmost() -> None:
    assert client_ip("10.0.0.3", "10.0.0.1, 10.0.0.2", ["10.0.0.0/8"]) == "10.0.0.1"


def test_ports_brackets_and_ipv6() -> None:
    forwarded = "[2001:DB8:1::5]:443, 198.51.100.7:8080"
    trusted = ["2001:db8:ffff::/48", "198.51.100.7"]
    assert client_ip("2001:db8:ffff::1", forwarded, trusted) == "2001:db8:1::5"


def test_ipv4_mapped_remote_matches_ipv4_network() -> None:
    assert client_ip("::ffff:10.0.0.5", "198.51.100.7", ["10.0.0.0/8"]) == "198.51.100.7"
    assert client_ip("::ffff:198.51.100.7", None, []) == "198.51.100.7"


def test_trusted_proxies_as_single_string_and_host_bits() -> None:
    assert client_ip("10.9.9.9", "198.51.100.7", "10.0.0.0/8") == "198.51.100.7"
    assert client_ip("10.9.9.9", "198.51.100.7", ["10.9.9.1/8"]) == "198.51.100.7"


def test_invalid_trusted_proxy_entry_raises() -> None:
    with pytest.raises(ValueError, match="trusted proxy"):
        client_ip("10.0.0.1", "198.51.100.7", ["10.0.0.0/33"])


def test_garbage_remote_addr_is_returned_as_is() -> None:
    assert client_ip(" nonsense ", "198.51.100.7", ["10.0.0.0/8"]) == "nonsense"


# --- ip_hash -------------------------------------------------------------------------------------


def test_ip_hash_is_truncated_hmac_sha256() -> None:
    expected = hmac.new(b"pepper", b"198.51.100.7", hashlib.sha256).hexdigest()[:32]
    assert ip_hash("198.51.100.7", b"pepper") == expected
    assert len(expected) == 32 and int(expected, 16) >= 0


def test_ip_hash_is_stable_and_salt_and_ip_dependent() -> None:
    assert ip_hash("198.51.100.7", b"a") == ip_hash("198.51.100.7", b"a")
    assert ip_hash("198.51.100.7", b"a") != ip_hash("198.51.100.7", b"b")
    assert ip_hash("198.51.100.7", b"a") != ip_hash("198.51.100.8", b"a")


def test_ip_hash_canonicalises_address_spellings() -> None:
    salt = b"s3cret"
    assert ip_hash("2001:DB8:0:0::1", salt) == ip_hash("2001:db8::1", salt)
    assert ip_hash("::ffff:198.51.100.7", salt) == ip_hash("198.51.100.7", salt)
    assert ip_hash(" 198.51.100.7 ", salt) == ip_hash("198.51.100.7", salt)


def test_ip_hash_of_non_address_still_hashes() -> None:
    assert ip_hash("unknown", b"s") == hmac.new(b"s", b"unknown", hashlib.sha256).hexdigest()[:32]


def test_ip_hash_requires_salt() -> None:
    with pytest.raises(ValueError, match="salt"):
        ip_hash("198.51.100.7", b"")


def test_ipv6_rate_limit_subjects_are_the_64_and_the_56():
    from scans.geo import rate_limit_subjects

    assert rate_limit_subjects("2001:db8:1:2a3::1") == ("2001:db8:1:2a3::/64", "2001:db8:1:200::/56")
    assert rate_limit_subjects("175.139.1.1") == ("175.139.1.1",)
    assert rate_limit_subjects("::ffff:175.139.1.1") == ("175.139.1.1",)
