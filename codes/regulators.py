"""Regulators' identifiers a product carries, and where the public looks them up. Pure Python, no Django.

- Malaysia, NPRA (National Pharmaceutical Regulatory Agency): a registered medicine, traditional product, health
  supplement or veterinary product carries `MAL` + 8 digits + its category (A controlled medicine, X over the
  counter, T traditional / natural product, N health supplement, H veterinary) and up to two administrative codes
  (C contract manufactured, E export only, R repacked, S second source, Y orphan product, Z zero-rated), e.g.
  `MAL19990123AZ`. The 8 digits were a year and a running number once (MAL19990123AZ), a year, month and running
  number later (MAL08011187X): only their count is checked. A notified cosmetic carries `NOT` + year, month and
  running number (yymm + 5 digits) + `K`, e.g. `NOT190500123K` (NPRA's cosmetic guidelines). Both are looked up
  in NPRA's QUEST3+ product search.
- United States, FDA: a drug's NDC (labeler-product-package, 10 digits in a 4-4-2, 5-3-2 or 5-4-1 split) is carried
  inside its GTIN: GTIN-14 `003` + the 10 digits + check digit. The GTIN is the one truth; the split cannot be read
  from the digits (labelers have 4 or 5 digits), so it is shown only when the brand gave it (as on its label),
  else as the 10 digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

NPRA_SEARCH_URL = "https://quest3plus.bpfk.gov.my/pmo2/index.php"
DAILYMED_SEARCH_URL = "https://dailymed.nlm.nih.gov/dailymed/search.cfm?query={ndc}"

MAL_CATEGORIES = "AXTNH"
MAL_ADMINISTRATIVE_CODES = "CERSYZ"
_MAL = re.compile(rf"MAL(\d{{8}})([{MAL_CATEGORIES}])([{MAL_ADMINISTRATIVE_CODES}]{{0,2}})")
_NOT = re.compile(r"NOT(\d{2})(\d{2})(\d{5})K")
_SPACING = re.compile(r"[\s\-./]+")

NDC_GTIN_START = "003"  # indicator 0, then the US drug number system's "03" (GS1 US, NDC in a GTIN)
NDC_SPLITS = ((4, 4, 2), (5, 3, 2), (5, 4, 1))
_NDC_FORM = re.compile(r"(\d{4,5})-(\d{3,4})-(\d{1,2})")


class RegulatorError(ValueError):
    """An identifier that is not one a regulator issues; `message` says why, for the person who typed it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Registration:
    """A product's identifier with a regulator, as a consumer is shown it: who (`regulator`, `country`), what kind
    (`mal` registration, `not` cosmetic notification, `ndc`), the number and the public search to check it in."""

    regulator: str
    country: str
    kind: str
    number: str
    search_url: str


MAL, NOT, NDC = "mal", "not", "ndc"


def clean_npra_number(text: str) -> str:
    """An NPRA registration (MAL…) or cosmetic notification (NOT…) number as printed, upper case without the
    spaces labels often put in ("MAL 19990123 AZ"); "" for none. Raises RegulatorError for anything else."""
    number = _SPACING.sub("", text or "").upper()
    if not number:
        return ""
    if number.startswith("MAL"):
        match = _MAL.fullmatch(number)
        if match is None:
            raise RegulatorError(
                "An NPRA registration number is MAL, 8 digits and the product's category (A, X, T, N or H), "
                "then at most two administrative letters (C, E, R, S, Y, Z): for example MAL19990123AZ."
            )
        extra = match[3]
        if len(set(extra)) != len(extra):
            raise RegulatorError("An NPRA registration number has each administrative letter once.")
        return number
    if number.startswith("NOT"):
        match = _NOT.fullmatch(number)
        if match is None or not 1 <= int(match[2]) <= 12:
            raise RegulatorError(
                "A cosmetic notification number is NOT, the year and month (yymm), 5 digits and K: "
                "for example NOT190500123K."
            )
        return number
    raise RegulatorError(
        "Enter the NPRA registration number (MAL…, for medicines, traditional products and supplements) or the "
        "cosmetic notification number (NOT…) printed on the pack."
    )


def npra_kind(number: str) -> str | None:
    """`mal` or `not` for a clean NPRA number, None for none."""
    return MAL if number.startswith("MAL") else NOT if number.startswith("NOT") else None


def ndc_digits(gtin: str | None) -> str | None:
    """The 10-digit NDC a US drug's GTIN-14 carries (`003` + NDC + check digit); None for any other GTIN."""
    if gtin and len(gtin) == 14 and gtin.isdigit() and gtin.startswith(NDC_GTIN_START):
        return gtin[3:13]
    return None


def clean_ndc(text: str, gtin: str | None) -> str:
    """The labeler-product-package form of the NDC inside `gtin` (e.g. 12345-678-90), as the brand gave it; ""
    when it gave none, or only the 10 digits, which the GTIN holds already. Raises RegulatorError when the GTIN
    carries no NDC, or a different one, or the split is not one the FDA assigns (4-4-2, 5-3-2, 5-4-1)."""
    typed = re.sub(r"\s+", "", text or "").replace("–", "-")
    if not typed:
        return ""
    digits = ndc_digits(gtin)
    if digits is None:
        raise RegulatorError(
            "Only a US drug's GTIN carries an NDC (a GTIN-14 starting 003, then the 10 NDC digits): leave the NDC "
            "empty for this product."
        )
    if typed.replace("-", "") != digits:
        raise RegulatorError(
            f"This NDC is not the one inside the product's GTIN, which carries {digits}: the GTIN is what scanners "
            "and trading partners read."
        )
    if "-" not in typed:
        return ""  # the 10 digits: the GTIN says as much
    match = _NDC_FORM.fullmatch(typed)
    if match is None or tuple(len(part) for part in match.groups()) not in NDC_SPLITS:
        raise RegulatorError("Write the NDC as labeler-product-package: 4-4-2, 5-3-2 or 5-4-1 digits (12345-678-90).")
    return typed


def ndc_shown(gtin: str | None, form: str = "") -> str | None:
    """The NDC as people read it: the brand's labeler-product-package form when it gave one that matches the
    GTIN (it is ambiguous from the digits alone), else the 10 digits; None when the GTIN carries no NDC."""
    digits = ndc_digits(gtin)
    if digits is None:
        return None
    return form if form and form.replace("-", "") == digits else digits


def registrations(*, gtin: str | None, npra_number: str = "", ndc_form: str = "") -> tuple[Registration, ...]:
    """What a product's page shows of its regulators' identifiers, each with the public search to check it."""
    found: list[Registration] = []
    kind = npra_kind(npra_number)
    if kind is not None:
        found.append(Registration("NPRA", "MY", kind, npra_number, NPRA_SEARCH_URL))
    ndc = ndc_shown(gtin, ndc_form)
    if ndc is not None:
        found.append(Registration("FDA", "US", NDC, ndc, DAILYMED_SEARCH_URL.format(ndc=quote(ndc))))
    return tuple(found)
