"""The GS1 Company Prefix, written once: what one looks like and which GTINs lie under it. Pure (no Django):
brands' claims, codes' SSCCs and distributors' cartons all ask here.

GS1 General Specifications 1.4.4: a Company Prefix has 6 to 12 digits; a GTIN-14 is an indicator digit, the
Company Prefix, an item reference and a check digit; an SSCC is an extension digit, the Company Prefix, a
serial reference and a check digit."""

from __future__ import annotations

DIGITS = range(6, 13)
RULE = "A GS1 Company Prefix has 6 to 12 digits."


def is_company_prefix(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) in DIGITS


def prefix_covers(prefix: str, gtin14: str) -> bool:
    """Is the GTIN-14 under the prefix? Matched after the indicator digit (cases and pallets of a product share
    its prefix)."""
    return len(gtin14) == 14 and gtin14[1:13].startswith(prefix)


def prefixes_under(prefix: str) -> list[str]:
    """The prefix and every shorter prefix it lies under, shortest first."""
    return [prefix[:digits] for digits in DIGITS if digits <= len(prefix)]


def prefixes_of(gtin14: str) -> list[str]:
    """Every prefix a GTIN-14 could lie under, shortest first."""
    return [gtin14[1 : 1 + digits] for digits in DIGITS]


GLN_RULE = "A GLN has 13 digits, the last a GS1 check digit."


def check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of the digits before it (GTIN, GLN, SSCC alike): weights 3, 1, 3 … from the
    right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def is_gln(text: str) -> bool:
    """A Global Location Number: 13 digits whose last is their check digit (GS1 General Specifications 2.4.4)."""
    return text.isascii() and text.isdigit() and len(text) == 13 and text[-1] == check_digit(text[:-1])
