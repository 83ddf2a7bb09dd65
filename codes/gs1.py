"""GS1 identifiers of a product unit: GTIN, lot, serial and expiry.

Builds and strictly parses GS1 Digital Link paths (the consumer QR) and GS1
element strings (the DataMatrix payload). Pure Python, no Django.

`biip` does the standard's heavy lifting: GTIN check digits, the AI 10/21
character rules, the YYMMDD date rules and element string parsing. The Digital
Link parser is our own because it sits on the public hot path and must be
stricter than biip's.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from biip import ParseConfig, ParseError
from biip.checksums import gs1_standard_check_digit
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message

from brands.prefixes import RULE, is_company_prefix

__all__ = [
    "GS1Error",
    "DigitalLink",
    "normalize_gtin",
    "gtin_check_digit",
    "validate_lot",
    "validate_serial",
    "yymmdd",
    "parse_yymmdd",
    "digital_link_url",
    "parse_digital_link",
    "element_string",
    "human_readable",
    "parse_element_string",
    "RefLink",
    "is_product_ref",
    "product_ref",
    "ref_link_url",
    "parse_ref_link",
    "parse_verify_link",
    "parse_verify_url",
]

GS = "\x1d"
"""ASCII group separator, ends a variable-length field that is not last."""

MAX_PATH_LENGTH = 512
"""Longest Digital Link path accepted; a real one is under 160 characters."""

MAX_QUERY_LENGTH = 4096
MAX_ELEMENT_STRING_LENGTH = 256

_DEFAULT_CONFIG = ParseConfig()
_AI = {ai: GS1ApplicationIdentifier.extract(ai) for ai in ("01", "17", "10", "21")}
# The AI table's own pattern for 10 and 21 ("X..20"): 1 to 20 characters of
# the AI encodable character set 82.
_X20 = {ai: re.compile(_AI[ai].pattern) for ai in ("10", "21")}
_GTIN = re.compile(r"[0-9]{8}|[0-9]{12,14}")
_GTIN_BODY = re.compile(r"[0-9]{7}|[0-9]{11,13}")
_SIX_DIGITS = re.compile(r"[0-9]{6}")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

# Key qualifiers of AI 01, in the order the Digital Link standard fixes.
_QUALIFIER_RANK = {"10": 1, "21": 2}
_UNSUPPORTED_QUALIFIERS = {"22": "consumer product variant", "235": "TPX"}
# Primary key and key qualifiers belong in the path, never in the query.
_PATH_ONLY_AIS = frozenset({"01", "22", "10", "21", "235"})


class GS1Error(ValueError):
    """Invalid GS1 data; `field` names the offending part, e.g. "gtin"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[GS1Error], tuple[str, str]]:
        return (type(self), (self.field, self.message))


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """The GS1 data of one unit's code; `gtin` is always 14 digits."""

    gtin: str
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None

    @property
    def key(self) -> str:
        """What the product is looked up by."""
        return self.gtin


def _shown(text: str, limit: int = 24) -> str:
    """Quote untrusted text for a message: short, escaped, encodable."""
    if len(text) > limit:
        return repr(text[:limit]) + "…"
    return repr(text)


def gtin_check_digit(body: str) -> str:
    """Check digit for a GTIN-8/12/13/14 body (the digits before it)."""
    if not _GTIN_BODY.fullmatch(body):
        raise GS1Error("gtin", "GTIN body must be 7, 11, 12 or 13 digits.")
    return str(gs1_standard_check_digit(body))


def sscc(extension: int, company_prefix: str, serial_reference: int) -> str:
    """An 18-digit SSCC (AI 00): extension digit, GS1 company prefix, serial reference, mod-10 check digit."""
    if not is_company_prefix(company_prefix):
        raise GS1Error("company_prefix", RULE)
    if not 0 <= extension <= 9:
        raise GS1Error("extension", "The SSCC extension digit is 0 to 9.")
    width = 16 - len(company_prefix)
    if not 0 <= serial_reference < 10**width:
        raise GS1Error("serial_reference", f"Serial references under this prefix have at most {width} digits.")
    body = f"{extension}{company_prefix}{serial_reference:0{width}d}"
    return body + str(gs1_standard_check_digit(body))


def is_valid_sscc(text: str) -> bool:
    return (
        len(text) == 18 and text.isascii() and text.isdigit() and text[-1] == str(gs1_standard_check_digit(text[:-1]))
    )


def _gtin14(digits: str) -> str:
    """Validate 8/12/13/14 ASCII digits with their check digit; pad to 14."""
    if not _GTIN.fullmatch(digits):
        raise GS1Error("gtin", "GTIN must be 8, 12, 13 or 14 digits.")
    expected = str(gs1_standard_check_digit(digits[:-1]))
    if digits[-1] != expected:
        raise GS1Error("gtin", f"GTIN check digit is wrong (expected {expected}).")
    # Check digit weights count from the right, so leading zeros keep it valid.
    return digits.zfill(14)


def normalize_gtin(text: str) -> str:
    """Validate a GTIN-8/12/13/14 typed by a person; return it as 14 digits."""
    return _gtin14("".join(text.split()))


def _validate_x20(value: str, ai: str, label: str, field: str) -> str:
    pattern = _X20[ai]
    if pattern.fullmatch(ai + value):
        return value
    if not 1 <= len(value) <= 20:
        raise GS1Error(field, f"{label} must be 1 to 20 characters (got {len(value)}).")
    bad = next((c for c in value if not pattern.fullmatch(ai + c)), None)
    shown = f" {bad!r}" if bad is not None else ""
    raise GS1Error(field, f"{label} has a character{shown} outside the GS1 character set 82.")


def validate_lot(value: str) -> str:
    """Validate a lot/batch (AI 10): 1-20 characters of GS1 set 82."""
    return _validate_x20(value, "10", "Lot", "lot")


def validate_serial(value: str) -> str:
    """Validate a serial number (AI 21): 1-20 characters of GS1 set 82."""
    return _validate_x20(value, "21", "Serial", "serial")


@functools.lru_cache(maxsize=1024)
def _date_from_yymmdd(text: str, current_year: int) -> date | None:
    # current_year is only a cache key: GS1's century window slides with it.
    try:
        return GS1ElementString.parse("17" + text).date
    except (ParseError, ValueError):
        return None


def parse_yymmdd(text: str) -> date:
    """Read a GS1 YYMMDD date; DD 00 is the month's last day.

    The century follows GS1 General Specifications 7.12 (a window from 49
    years ago to 50 years ahead), as implemented by biip.
    """
    parsed = None
    if _SIX_DIGITS.fullmatch(text):
        parsed = _date_from_yymmdd(text, datetime.now(UTC).year)
    if parsed is None:
        raise GS1Error("expiry", f"Expiry date {_shown(text)} is not a valid YYMMDD date.")
    return parsed


def yymmdd(d: date) -> str:
    """Write a date as GS1 YYMMDD; reject years the two digits can't carry."""
    text = f"{d.year % 100:02d}{d.month:02d}{d.day:02d}"
    if parse_yymmdd(text).year != d.year:
        raise GS1Error(
            "expiry",
            f"Expiry year {d.year} is outside the GS1 two-digit year window.",
        )
    return text


@functools.lru_cache(maxsize=16)
def _base(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GS1Error("base_url", "Base URL must be an absolute http(s) URL.")
    if parts.query or parts.fragment:
        raise GS1Error("base_url", "Base URL must have no query or fragment.")
    return base_url.rstrip("/")


def digital_link_url(
    base_url: str,
    *,
    gtin: str,
    serial: str,
    lot: str | None = None,
    expiry: date | None = None,
) -> str:
    """Build `{base}/01/{gtin14}[/10/{lot}]/21/{serial}[?17=YYMMDD]`."""
    url = f"{_base(base_url)}/01/{normalize_gtin(gtin)}"
    # Every character outside RFC 3986 "unreserved" is percent-encoded, so
    # set 82's "/", "%", "?", "&", "+" ... can never split or end a segment.
    if lot is not None:
        url += "/10/" + quote(validate_lot(lot), safe="")
    url += "/21/" + quote(validate_serial(serial), safe="")
    if expiry is not None:
        url += "?17=" + yymmdd(expiry)
    return url


def parse_digital_link(path: str, query: str = "") -> DigitalLink:
    """Strictly parse a Digital Link path and query (as sent, still encoded).

    `path` is exactly `/01/{gtin}[/10/{lot}][/21/{serial}]`, with no prefix and
    no trailing slash; `query` may carry `17=YYMMDD` and unrelated parameters.
    Raises GS1Error, and nothing else, for any malformed input.
    """
    if len(path) > MAX_PATH_LENGTH:
        raise GS1Error("path", f"Digital Link path is too long ({len(path)} characters).")
    parts = path.split("/")
    if len(parts) < 3 or parts[0] or parts[1] != "01":
        raise GS1Error("path", "Digital Link path must start with /01/ and a GTIN.")
    if len(parts) % 2 == 0:
        raise GS1Error("path", "Digital Link path must be AI/value pairs.")
    if _BAD_PERCENT.search(path):
        raise GS1Error("path", "Digital Link path has a malformed percent-encoding.")

    gtin = _gtin14(unquote(parts[2]))
    lot, serial = _qualifiers(parts)
    return DigitalLink(gtin=gtin, lot=lot, serial=serial, expiry=_query_expiry(query))


def _qualifiers(parts: list[str]) -> tuple[str | None, str | None]:
    """Lot (10) and serial (21) of the AI/value pairs after the primary key, in the standard's order."""
    lot: str | None = None
    serial: str | None = None
    last_rank = 0
    for i in range(3, len(parts), 2):
        ai = parts[i]
        rank = _QUALIFIER_RANK.get(ai)
        if rank is None:
            if ai == "01":
                raise GS1Error("path", "AI 01 appears more than once.")
            if ai in _UNSUPPORTED_QUALIFIERS:
                name = _UNSUPPORTED_QUALIFIERS[ai]
                raise GS1Error("path", f"AI {ai} ({name}) is not supported.")
            raise GS1Error("path", f"Unknown AI {_shown(ai)} in Digital Link path.")
        if rank == last_rank:
            raise GS1Error("path", f"AI {ai} appears more than once.")
        if rank < last_rank:
            raise GS1Error("path", "AI 10 (lot) must come before AI 21 (serial).")
        last_rank = rank
        value = unquote(parts[i + 1])
        if ai == "10":
            lot = validate_lot(value)
        else:
            serial = validate_serial(value)
    return lot, serial


def _query_expiry(query: str) -> date | None:
    query = query.removeprefix("?")
    if not query:
        return None
    if len(query) > MAX_QUERY_LENGTH:
        raise GS1Error("query", f"Query string is too long ({len(query)} characters).")
    raw: str | None = None
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "17":
            if raw is not None:
                raise GS1Error("query", "AI 17 appears more than once.")
            raw = value
        elif key in _PATH_ONLY_AIS:
            raise GS1Error("query", f"AI {key} belongs in the path, not the query.")
        # Anything else (other data attributes, utm_* ...) is ignored.
    return None if raw is None else parse_yymmdd(raw)


def _fields(gtin: str, serial: str, lot: str | None, expiry: date | None) -> list[tuple[str, str]]:
    # Fixed-length fields first (01, 17), then 10, 21: needs the fewest GS.
    fields = [("01", normalize_gtin(gtin))]
    if expiry is not None:
        fields.append(("17", yymmdd(expiry)))
    if lot is not None:
        fields.append(("10", validate_lot(lot)))
    fields.append(("21", validate_serial(serial)))
    return fields


def element_string(
    *,
    gtin: str,
    serial: str,
    lot: str | None = None,
    expiry: date | None = None,
    separator: str = GS,
) -> str:
    """GS1 element string (01)(17)(10)(21) for a DataMatrix, without FNC1."""
    fields = _fields(gtin, serial, lot, expiry)
    out = []
    for i, (ai, value) in enumerate(fields):
        out.append(ai + value)
        if _AI[ai].separator_required and i < len(fields) - 1:
            out.append(separator)
    return "".join(out)


def human_readable(
    *,
    gtin: str,
    serial: str,
    lot: str | None = None,
    expiry: date | None = None,
) -> str:
    """Text under the code: `(01) 09506000134352 (17) 271231 (10) ... (21) ...`."""
    return " ".join(f"({ai}) {value}" for ai, value in _fields(gtin, serial, lot, expiry))


def parse_element_string(data: str, *, separator: str = GS) -> DigitalLink:
    """Strictly parse an element string (no FNC1/symbology prefix) with biip.

    Only AIs 01 (required), 17, 10 and 21 are accepted, each at most once.
    """
    if len(separator) != 1:
        raise ValueError("separator must be exactly one character")
    if len(data) > MAX_ELEMENT_STRING_LENGTH:
        raise GS1Error("element_string", f"Element string is too long ({len(data)}).")
    config = _DEFAULT_CONFIG if separator == GS else ParseConfig(separator_chars=(separator,))
    try:
        message = GS1Message.parse(data, config=config)
    except (ParseError, ValueError) as exc:
        raise GS1Error("element_string", f"Element string is not valid: {exc}") from None

    values: dict[str, str] = {}
    for es in message.element_strings:
        ai = es.ai.ai
        if ai not in _AI:
            raise GS1Error("element_string", f"AI {ai} is not supported.")
        if ai in values:
            raise GS1Error("element_string", f"AI {ai} appears more than once.")
        values[ai] = es.value
    if "01" not in values:
        raise GS1Error("element_string", "Element string has no GTIN (01).")
    # biip's patterns use \d, which also matches non-ASCII digits: recheck.
    lot, serial, expiry = values.get("10"), values.get("21"), values.get("17")
    return DigitalLink(
        gtin=_gtin14(values["01"]),
        lot=None if lot is None else validate_lot(lot),
        serial=None if serial is None else validate_serial(serial),
        expiry=None if expiry is None else parse_yymmdd(expiry),
    )


# --- Serialize product refs: codes of brands without a GS1 Company Prefix --------------------------------
# A product without a GTIN is identified by a ref the platform issues: the brand's short code (its slug), a
# dot and a number (`acme.3`). Its codes carry a Digital Link-style URL, `{base}/p/{ref}/10/{lot}/21/{serial}`:
# the lot and serial AIs of the standard, but no primary key 01, so no tool reads it as a GTIN. A ref always
# holds a dot, so it is never all digits and can never be taken for a GTIN, in a URL or in a lookup.

PRODUCT_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,59}\.[1-9][0-9]{0,6}")
REF_PATH = "p"
"""The first path segment of a product ref's verify URL (where a GS1 Digital Link has `01`)."""


@dataclass(frozen=True, slots=True)
class RefLink:
    """A unit's code under a Serialize product ref: lot, serial and expiry as in a Digital Link, no GTIN."""

    ref: str
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None

    @property
    def key(self) -> str:
        """What the product is looked up by."""
        return self.ref


def is_product_ref(text: str) -> bool:
    return PRODUCT_REF.fullmatch(text) is not None


def product_ref(short_code: str, number: int) -> str:
    """The ref of a brand's `number`th product without a GTIN: `{short_code}.{number}`."""
    ref = f"{short_code}.{number}"
    if not is_product_ref(ref):
        raise GS1Error("ref", f"{_shown(ref)} is not a valid product ref.")
    return ref


def ref_link_url(
    base_url: str,
    *,
    ref: str,
    serial: str,
    lot: str | None = None,
    expiry: date | None = None,
) -> str:
    """Build `{base}/p/{ref}[/10/{lot}]/21/{serial}[?17=YYMMDD]`."""
    if not is_product_ref(ref):
        raise GS1Error("ref", f"{_shown(ref)} is not a valid product ref.")
    url = f"{_base(base_url)}/{REF_PATH}/{ref}"
    if lot is not None:
        url += "/10/" + quote(validate_lot(lot), safe="")
    url += "/21/" + quote(validate_serial(serial), safe="")
    if expiry is not None:
        url += "?17=" + yymmdd(expiry)
    return url


def parse_ref_link(path: str, query: str = "") -> RefLink:
    """Strictly parse `/p/{ref}[/10/{lot}][/21/{serial}]` (as sent, still encoded) and its query, as
    `parse_digital_link` does a Digital Link. Raises GS1Error, and nothing else, for any malformed input."""
    if len(path) > MAX_PATH_LENGTH:
        raise GS1Error("path", f"Path is too long ({len(path)} characters).")
    parts = path.split("/")
    if len(parts) < 3 or parts[0] or parts[1] != REF_PATH:
        raise GS1Error("path", "A product ref path must start with /p/ and a ref.")
    if len(parts) % 2 == 0:
        raise GS1Error("path", "A product ref path must be AI/value pairs after the ref.")
    if _BAD_PERCENT.search(path):
        raise GS1Error("path", "Path has a malformed percent-encoding.")
    ref = unquote(parts[2])
    if not is_product_ref(ref):
        raise GS1Error("ref", f"{_shown(ref)} is not a valid product ref.")
    lot, serial = _qualifiers(parts)
    return RefLink(ref=ref, lot=lot, serial=serial, expiry=_query_expiry(query))


def parse_verify_link(path: str, query: str = "") -> DigitalLink | RefLink:
    """A verify path of either shape: a GS1 Digital Link (`/01/...`) or a product ref's (`/p/...`)."""
    if path.startswith(f"/{REF_PATH}/"):
        return parse_ref_link(path, query)
    return parse_digital_link(path, query)


def parse_verify_url(text: str) -> DigitalLink | RefLink:
    """A whole verify URL as people paste it (any host, under any path prefix, or its path alone): its Digital
    Link or product-ref part, parsed as the verify path parses it. Raises GS1Error for anything else."""
    text = text.strip()
    if len(text) > MAX_PATH_LENGTH + MAX_QUERY_LENGTH:
        raise GS1Error("url", "The URL is too long.")
    parts = urlsplit(text if "://" in text else "https://host/" + text.lstrip("/"))
    found = [i for i in (parts.path.find("/01/"), parts.path.find(f"/{REF_PATH}/")) if i >= 0]
    if not found:
        raise GS1Error("url", "Not a verify URL: it has no /01/{GTIN} or /p/{ref} part.")
    return parse_verify_link(parts.path[min(found) :], parts.query)
