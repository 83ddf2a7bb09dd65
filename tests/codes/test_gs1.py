"""Tests for codes.gs1: GTINs, AI 10/21 rules, Digital Link and element strings."""

from __future__ import annotations

import pickle
import re
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest
from biip import ParseError
from biip.checksums import gs1_standard_check_digit
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from codes import gs1
from codes.gs1 import (
    DigitalLink,
    GS1Error,
    digital_link_url,
    element_string,
    gtin_check_digit,
    human_readable,
    normalize_gtin,
    parse_digital_link,
    parse_element_string,
    parse_yymmdd,
    validate_lot,
    validate_serial,
    yymmdd,
)

# GS1 General Specifications, AI encodable character set 82, written out here
# independently of the code under test.
CHARSET_82 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!\"%&'()*+,-./:;<=>?_"
GTIN = "09506000134352"
BASE = "https://verify.example.com"
THIS_YEAR = datetime.now(UTC).year

x20 = st.text(alphabet=CHARSET_82, min_size=1, max_size=20)
# Well inside GS1's sliding century window (-49 .. +50 years).
expiries = st.dates(date(THIS_YEAR - 40, 1, 1), date(THIS_YEAR + 40, 12, 31))


@st.composite
def gtins(draw: st.DrawFn) -> str:
    """A valid GTIN-8/12/13/14 in its own length (check digit via biip)."""
    length = draw(st.sampled_from([8, 12, 13, 14]))
    body = draw(st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1))
    return body + str(gs1_standard_check_digit(body))


def dl_path(gtin: str = GTIN, lot: str | None = "L2026A", serial: str | None = "7KQ3M9X2VD4H") -> str:
    path = f"/01/{gtin}"
    if lot is not None:
        path += f"/10/{lot}"
    if serial is not None:
        path += f"/21/{serial}"
    return path


# --- GTIN ------------------------------------------------------------------


def test_check_digit_of_gs1_example_is_2():
    assert gtin_check_digit("0950600013435") == "2"
    assert gtin_check_digit("950600013435") == "2"


@pytest.mark.parametrize(
    ("body", "digit"),
    [("9638507", "4"), ("61414112345", "2"), ("950600013435", "2"), ("1950600013435", "9")],
)
def test_check_digit_for_gtin_8_12_13_14_bodies(body, digit):
    assert gtin_check_digit(body) == digit


@pytest.mark.parametrize("body", ["", "123456", "12345678", "abcdefg", "１２３４５６７", "095060001343 "])
def test_check_digit_rejects_bodies_that_are_not_gtin_bodies(body):
    with pytest.raises(GS1Error) as info:
        gtin_check_digit(body)
    assert info.value.field == "gtin"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("614141123452", "00614141123452"),  # GTIN-12
        ("9506000134352", "09506000134352"),  # GTIN-13
        ("09506000134352", "09506000134352"),  # GTIN-14
        ("19506000134359", "19506000134359"),  # GTIN-14 with indicator 1
        (" 950 6000 134352\t", "09506000134352"),  # spaces as typed by people
    ],
)
def test_normalize_gtin_pads_to_14_digits(text, expected):
    assert normalize_gtin(text) == expected


def test_wrong_check_digit_is_rejected_naming_the_field_and_expected_digit():
    with pytest.raises(GS1Error) as info:
        normalize_gtin("09506000134353")
    assert info.value.field == "gtin"
    assert str(info.value) == "GTIN check digit is wrong (expected 2)."


BAD_GTINS = [
    "",
    "1234567",
    "950600013435",
    "095060001343520",
    "0950600013435x",
    "０９５０６０００１３４３５２",
    "٠٩٥٠٦٠٠٠١٣٤٣٥٢",
]


@pytest.mark.parametrize("text", BAD_GTINS)
def test_normalize_gtin_rejects_bad_lengths_and_non_ascii_digits(text):
    with pytest.raises(GS1Error) as info:
        normalize_gtin(text)
    assert info.value.field == "gtin"


@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_normalize_gtin_agrees_with_biip_on_any_14_digits(digits):
    try:
        Gtin.parse(digits)
        biip_ok = True
    except ParseError:
        biip_ok = False
    try:
        ours = normalize_gtin(digits)
    except GS1Error:
        assert not biip_ok
    else:
        assert biip_ok
        assert ours == digits


def test_gs1_error_is_a_value_error_and_pickles():
    err = GS1Error("serial", "Serial is bad.")
    assert isinstance(err, ValueError)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.field, str(copy)) == ("serial", "Serial is bad.")


# --- Lot and serial (AI 10 / 21) -------------------------------------------


@pytest.mark.parametrize("validate", [validate_lot, validate_serial])
def test_every_character_of_set_82_is_accepted(validate):
    for i in range(0, len(CHARSET_82), 20):
        chunk = CHARSET_82[i : i + 20]
        assert validate(chunk) == chunk


@pytest.mark.parametrize(("validate", "field"), [(validate_lot, "lot"), (validate_serial, "serial")])
def test_characters_outside_set_82_are_rejected(validate, field):
    for code in range(0x300):
        char = chr(code)
        if char in CHARSET_82:
            continue
        with pytest.raises(GS1Error) as info:
            validate(f"AB{char}")
        assert info.value.field == field
        assert repr(char) in str(info.value)


@pytest.mark.parametrize(("validate", "field"), [(validate_lot, "lot"), (validate_serial, "serial")])
def test_lot_and_serial_are_1_to_20_characters(validate, field):
    assert validate("A") == "A"
    assert validate("A" * 20) == "A" * 20
    for value in ["", "A" * 21]:
        with pytest.raises(GS1Error, match="1 to 20 characters") as info:
            validate(value)
        assert info.value.field == field


def test_trailing_newline_is_not_accepted_in_a_serial():
    with pytest.raises(GS1Error):
        validate_serial("ABC\n")


# --- Dates (YYMMDD) ----------------------------------------------------------


def test_yymmdd_formats_a_date():
    assert yymmdd(date(2027, 12, 31)) == "271231"
    assert yymmdd(date(2030, 1, 5)) == "300105"


def test_day_00_means_last_day_of_month():
    assert parse_yymmdd("270200") == date(2027, 2, 28)
    assert parse_yymmdd("280200") == date(2028, 2, 29)
    assert parse_yymmdd("271200") == date(2027, 12, 31)


@pytest.mark.parametrize("offset", [-49, -1, 0, 1, 50])
def test_century_follows_gs1_sliding_window(offset):
    year = THIS_YEAR + offset
    assert parse_yymmdd(f"{year % 100:02d}0615") == date(year, 6, 15)
    assert yymmdd(date(year, 6, 15)) == f"{year % 100:02d}0615"


@pytest.mark.parametrize("offset", [-50, 51])
def test_yymmdd_rejects_years_outside_the_window(offset):
    with pytest.raises(GS1Error) as info:
        yymmdd(date(THIS_YEAR + offset, 6, 15))
    assert info.value.field == "expiry"


@pytest.mark.parametrize(
    "text", ["", "27123", "2712311", "270001", "271301", "271232", "270230", "27 231", "٢٧١٢٣١", "٢٧1231", "27-12-31"]
)
def test_parse_yymmdd_rejects_invalid_dates(text):
    with pytest.raises(GS1Error) as info:
        parse_yymmdd(text)
    assert info.value.field == "expiry"


@given(expiries)
def test_yymmdd_round_trips(d):
    assert parse_yymmdd(yymmdd(d)) == d


# --- Digital Link: building --------------------------------------------------


def test_digital_link_url_has_gtin14_qualifiers_in_order_and_expiry_in_query():
    url = digital_link_url(BASE, gtin="9506000134352", serial="7KQ3M9X2VD4H", lot="L2026A", expiry=date(2027, 12, 31))
    assert url == f"{BASE}/01/09506000134352/10/L2026A/21/7KQ3M9X2VD4H?17=271231"


def test_digital_link_url_without_lot_or_expiry():
    assert digital_link_url(BASE + "/", gtin=GTIN, serial="S1") == f"{BASE}/01/{GTIN}/21/S1"


def test_digital_link_url_keeps_a_base_path_prefix_and_http():
    assert (
        digital_link_url("http://localhost:8000/dl", gtin=GTIN, serial="S1")
        == "http://localhost:8000/dl/01/09506000134352/21/S1"
    )


@pytest.mark.parametrize(
    ("lot", "serial", "tail"),
    [
        ("A/B", "50%", "/10/A%2FB/21/50%25"),
        ("L?1", "x&y=z", "/10/L%3F1/21/x%26y%3Dz"),
        ("a+b", '"<\'>"', "/10/a%2Bb/21/%22%3C%27%3E%22"),
        ("(1),*;:!", "_-.", "/10/%281%29%2C%2A%3B%3A%21/21/_-."),
    ],
)
def test_digital_link_url_percent_encodes_reserved_characters(lot, serial, tail):
    url = digital_link_url(BASE, gtin=GTIN, serial=serial, lot=lot)
    assert url == f"{BASE}/01/{GTIN}{tail}"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"gtin": "09506000134353", "serial": "S"}, "gtin"),
        ({"gtin": GTIN, "serial": ""}, "serial"),
        ({"gtin": GTIN, "serial": "S#1"}, "serial"),
        ({"gtin": GTIN, "serial": "S", "lot": "L" * 21}, "lot"),
        ({"gtin": GTIN, "serial": "S", "expiry": date(THIS_YEAR + 60, 1, 1)}, "expiry"),
    ],
)
def test_digital_link_url_refuses_invalid_data(kwargs, field):
    with pytest.raises(GS1Error) as info:
        digital_link_url(BASE, **kwargs)
    assert info.value.field == field


@pytest.mark.parametrize(
    "base", ["verify.example.com", "ftp://verify.example.com", "https://", "https://x.com/?a=1", "https://x.com/#f"]
)
def test_digital_link_url_refuses_bad_base_urls(base):
    with pytest.raises(GS1Error) as info:
        digital_link_url(base, gtin=GTIN, serial="S")
    assert info.value.field == "base_url"


@settings(max_examples=300)
@given(gtin=gtins(), lot=st.none() | x20, serial=x20, expiry=st.none() | expiries)
def test_digital_link_round_trips_through_url(gtin, lot, serial, expiry):
    url = digital_link_url(BASE, gtin=gtin, serial=serial, lot=lot, expiry=expiry)
    parts = urlsplit(url)
    # Only unreserved characters and %XX escapes in the path.
    assert re.fullmatch(r"(?:[A-Za-z0-9._~/-]|%[0-9A-F]{2})*", parts.path)
    assert parse_digital_link(parts.path, parts.query) == DigitalLink(
        gtin=gtin.zfill(14), lot=lot, serial=serial, expiry=expiry
    )


@settings(max_examples=50, deadline=None)
@given(gtin=gtins(), lot=st.none() | x20, serial=x20, expiry=st.none() | expiries)
def test_biip_decodes_our_urls_to_the_same_values(gtin, lot, serial, expiry):
    url = digital_link_url(BASE, gtin=gtin, serial=serial, lot=lot, expiry=expiry)
    strings = GS1DigitalLinkURI.parse(url).element_strings
    assert strings.get(ai="01").value == gtin.zfill(14)
    assert strings.get(ai="21").value == serial
    lot_string = strings.get(ai="10")
    assert (lot_string.value if lot_string else None) == lot
    if expiry is not None:
        assert strings.get(ai="17").date == expiry


# --- Digital Link: parsing ---------------------------------------------------


def test_parse_digital_link_reads_all_fields():
    assert parse_digital_link(dl_path(), "17=271231") == DigitalLink(
        gtin=GTIN, lot="L2026A", serial="7KQ3M9X2VD4H", expiry=date(2027, 12, 31)
    )


@pytest.mark.parametrize(
    ("gtin", "expected"),
    [
        ("96385074", "00000096385074"),
        ("614141123452", "00614141123452"),
        ("9506000134352", GTIN),
        (GTIN, GTIN),
    ],
)
def test_parse_digital_link_accepts_gtin_8_12_13_14_and_returns_14(gtin, expected):
    assert parse_digital_link(f"/01/{gtin}/21/S1").gtin == expected


def test_parse_digital_link_lot_serial_and_expiry_are_optional():
    assert parse_digital_link(f"/01/{GTIN}") == DigitalLink(gtin=GTIN)
    assert parse_digital_link(f"/01/{GTIN}/10/L1") == DigitalLink(gtin=GTIN, lot="L1")
    assert parse_digital_link(f"/01/{GTIN}/21/S1") == DigitalLink(gtin=GTIN, serial="S1")


def test_parse_digital_link_decodes_percent_encoding_lower_or_upper_case():
    assert parse_digital_link(f"/01/{GTIN}/10/A%2fB/21/50%25%3F").lot == "A/B"
    assert parse_digital_link(f"/01/{GTIN}/10/A%2fB/21/50%25%3F").serial == "50%?"


def test_parse_digital_link_accepts_set_82_sub_delims_left_unencoded():
    assert parse_digital_link(f"/01/{GTIN}/21/a!b(c)*,;:=+'&").serial == "a!b(c)*,;:=+'&"


@pytest.mark.parametrize(
    "query",
    ["17=271231", "?17=271231", "utm_source=qr&17=271231", "17=271231&exp=999999&11=990101", "%31%37=271231"],
)
def test_parse_digital_link_reads_expiry_and_ignores_other_query_parameters(query):
    assert parse_digital_link(dl_path(), query).expiry == date(2027, 12, 31)


@pytest.mark.parametrize("query", ["", "?", "utm_source=qr", "a&b=&=c"])
def test_parse_digital_link_without_expiry(query):
    assert parse_digital_link(dl_path(), query).expiry is None


MALFORMED_PATHS = [
    "",
    "/",
    "01/09506000134352/21/S1",
    "//01/09506000134352/21/S1",
    "/01",
    "/01/",
    "/01/09506000134353/21/S1",  # check digit
    "/01/0950600013435/21/S1",  # 13 digits, check digit wrong
    "/01/123/21/S1",
    "/01/095060001343520/21/S1",
    "/01/０９５０６０００１３４３５２/21/S1",
    "/01/9506000134352%20/21/S1",
    "/01/09506000134352/",
    "/01/09506000134352/21",
    "/01/09506000134352/21/",
    "/01/09506000134352/21/S1/",
    "/01/09506000134352/21/" + "A" * 21,
    "/01/09506000134352/21/" + "%41" * 21,
    "/01/09506000134352/10/" + "L" * 21 + "/21/S1",
    "/01/09506000134352/21/AB%20C",  # space is not in set 82
    "/01/09506000134352/21/A%23B",  # '#' is not in set 82
    "/01/09506000134352/21/AB%ZZ",
    "/01/09506000134352/21/AB%",
    "/01/09506000134352/21/AB%4",
    "/01/09506000134352/21/A%C3%A9",  # é
    "/01/09506000134352/21/A%FF",
    "/01/09506000134352/21/Aé",
    "/01/09506000134352/21/A%00",
    "/01/09506000134352/21/A/B",
    "/01/09506000134352/21/S1/10/L1",  # order
    "/01/09506000134352/10/L1/10/L2",
    "/01/09506000134352/21/S1/21/S2",
    "/01/09506000134352/10/L1/21/S1/10/L2",
    "/01/09506000134352/01/09506000134352",
    "/01/09506000134352/99/X",
    "/01/09506000134352/17/271231",  # data attribute in the path
    "/01/09506000134352/22/V1/21/S1",
    "/01/09506000134352/235/T1",
    "/01/09506000134352/ser/S1",
    "/01/09506000134352/lot/L1",
    "/gtin/09506000134352/21/S1",
    "/10/L1/01/09506000134352/21/S1",
    "/00/106141412345678908",
    "/dl/01/09506000134352/21/S1",  # prefixes must be stripped by the caller
    "/%30%31/09506000134352/21/S1",
    "/01/09506000134352/21/S1" + "1" * 600,
    "/01/09506000134352/21/S1" + "/10/L" * 200,
]


@pytest.mark.parametrize("path", MALFORMED_PATHS)
def test_parse_digital_link_rejects_malformed_paths(path):
    with pytest.raises(GS1Error):
        parse_digital_link(path)


MALFORMED_QUERIES = [
    "17=271232",
    "17=270230",
    "17=270001",
    "17=27123",
    "17=2712311",
    "17=abcdef",
    "17=",
    "17",
    "17=27+231",
    "17=٢٧١٢٣١",
    "17=٢٧1231",  # non-ASCII digits in the year
    "17=271231&17=271231",
    "17=271231&17=281231",
    "10=L1",
    "21=S1",
    "01=09506000134352",
    "22=V1",
    "17=271231&" + "x=y&" * 2000,
]


@pytest.mark.parametrize("query", MALFORMED_QUERIES)
def test_parse_digital_link_rejects_malformed_queries(query):
    with pytest.raises(GS1Error):
        parse_digital_link(dl_path(), query)


def test_parse_digital_link_refuses_overlong_paths_before_looking_inside():
    path = f"/01/{GTIN}/21/S1/" + "x" * 600
    with pytest.raises(GS1Error, match="too long") as info:
        parse_digital_link(path)
    assert info.value.field == "path"


def test_parse_errors_name_the_field():
    cases = {
        "/01/09506000134353/21/S1": "gtin",
        f"/01/{GTIN}/10/{'L' * 21}": "lot",
        f"/01/{GTIN}/21/S%20": "serial",
        f"/01/{GTIN}/21/S1/10/L1": "path",
    }
    for path, field in cases.items():
        with pytest.raises(GS1Error) as info:
            parse_digital_link(path)
        assert info.value.field == field, path
    with pytest.raises(GS1Error) as info:
        parse_digital_link(dl_path(), "17=279999")
    assert info.value.field == "expiry"
    with pytest.raises(GS1Error) as info:
        parse_digital_link(dl_path(), "21=X")
    assert info.value.field == "query"


def _check_accepted(result: DigitalLink) -> None:
    """Whatever parse_digital_link accepts must be valid GS1 data."""
    assert isinstance(result, DigitalLink)
    assert normalize_gtin(result.gtin) == result.gtin
    for value in (result.lot, result.serial):
        assert value is None or (1 <= len(value) <= 20 and set(value) <= set(CHARSET_82))
    assert result.expiry is None or isinstance(result.expiry, date)


def _parse_or_gs1_error(path: str, query: str) -> None:
    try:
        result = parse_digital_link(path, query)
    except GS1Error as exc:
        str(exc).encode("utf-8")  # messages are always safe to send back
        return
    _check_accepted(result)


URL_TOKENS = [*"/0123456789%AaFfZz?&=#+.é\x00\ud800 ", "01", "10", "21", "17", "%2F", "%25", "/01/", "/21/"]
url_ish = st.lists(st.sampled_from(URL_TOKENS), max_size=30).map("".join)


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.text() | url_ish | url_ish.map(lambda s: "/01/09506000134352" + s), query=st.text() | url_ish)
@example(path="/01/09506000134352/21/\ud800", query="17=\ud800")
@example(path="/01/09506000134352/21/%ED%A0%80", query="%FF=%FF")
def test_parse_digital_link_raises_only_gs1_error_on_arbitrary_text(path, query):
    _parse_or_gs1_error(path, query)


@st.composite
def mutated_links(draw: st.DrawFn) -> tuple[str, str]:
    gtin = draw(gtins())
    lot = draw(st.none() | x20)
    serial = draw(x20)
    expiry = draw(st.none() | expiries)
    parts = urlsplit(digital_link_url(BASE, gtin=gtin, serial=serial, lot=lot, expiry=expiry))
    path, query = parts.path, parts.query
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(["path", "query"]))
        text = path if target == "path" else query
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 5)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "swap_segments", "duplicate"]))
        if kind == "insert":
            piece = draw(st.text(max_size=4) | st.sampled_from(["/", "%", "/21/", "/10/", "&17=", "0"]))
            text = text[:i] + piece + text[i:]
        elif kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "replace":
            text = text[:i] + draw(st.text(min_size=1, max_size=3)) + text[j:]
        elif kind == "swap_segments":
            segs = text.split("/")
            a, b = draw(st.integers(0, len(segs) - 1)), draw(st.integers(0, len(segs) - 1))
            segs[a], segs[b] = segs[b], segs[a]
            text = "/".join(segs)
        else:
            text = text + text[i:j]
        if target == "path":
            path = text
        else:
            query = text
    return path, query


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_links())
def test_parse_digital_link_raises_only_gs1_error_on_mutated_valid_links(link):
    _parse_or_gs1_error(*link)


# --- Element strings (DataMatrix) --------------------------------------------


def test_element_string_orders_fixed_length_first_and_separates_variable_fields():
    data = element_string(gtin=GTIN, serial="7KQ3M9X2VD4H", lot="L2026A", expiry=date(2027, 12, 31))
    assert data == "01095060001343521727123110L2026A\x1d217KQ3M9X2VD4H"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"serial": "S1"}, "010950600013435221S1"),
        ({"serial": "S1", "expiry": date(2027, 12, 31)}, "01095060001343521727123121S1"),
        ({"serial": "S1", "lot": "L1"}, "010950600013435210L1\x1d21S1"),
    ],
)
def test_element_string_puts_gs_only_after_a_variable_field_that_is_not_last(kwargs, expected):
    assert element_string(gtin="9506000134352", **kwargs) == expected


def test_element_string_custom_separator():
    assert element_string(gtin=GTIN, serial="S1", lot="L1", separator="<GS>") == "010950600013435210L1<GS>21S1"


def test_element_string_validates_its_fields():
    with pytest.raises(GS1Error) as info:
        element_string(gtin=GTIN, serial="S 1")
    assert info.value.field == "serial"


def test_human_readable_form():
    text = human_readable(gtin="9506000134352", serial="7KQ3M9X2VD4H", lot="L2026A", expiry=date(2027, 12, 31))
    assert text == "(01) 09506000134352 (17) 271231 (10) L2026A (21) 7KQ3M9X2VD4H"
    assert human_readable(gtin=GTIN, serial="S1") == "(01) 09506000134352 (21) S1"


@settings(max_examples=200, deadline=None)
@given(
    gtin=gtins(),
    lot=st.none() | x20,
    serial=x20,
    expiry=st.none() | expiries,
    separator=st.sampled_from(["\x1d", "|", "^"]),  # none of them in set 82
)
def test_element_string_round_trips_through_biip(gtin, lot, serial, expiry, separator):
    data = element_string(gtin=gtin, serial=serial, lot=lot, expiry=expiry, separator=separator)
    assert parse_element_string(data, separator=separator) == DigitalLink(
        gtin=gtin.zfill(14), lot=lot, serial=serial, expiry=expiry
    )


# biip's HRI reader splits on "(", so keep parentheses out of this one.
x20_no_parens = st.text(alphabet=CHARSET_82.replace("(", "").replace(")", ""), min_size=1, max_size=20)


@settings(max_examples=50, deadline=None)
@given(gtin=gtins(), lot=st.none() | x20_no_parens, serial=x20_no_parens, expiry=st.none() | expiries)
def test_biip_reads_our_element_string_and_hri_alike(gtin, lot, serial, expiry):
    data = element_string(gtin=gtin, serial=serial, lot=lot, expiry=expiry)
    hri = human_readable(gtin=gtin, serial=serial, lot=lot, expiry=expiry)
    assert GS1Message.parse(data).as_hri() == GS1Message.parse_hri(hri).as_hri()


@pytest.mark.parametrize(
    "data",
    [
        "",
        "21S1",  # no GTIN
        "0109506000134353" + "21S1",  # check digit
        "01095060001343" + "21S1",  # short GTIN swallows the AI
        "010950600013435221S1\x1d21S2",  # duplicate serial
        "0109506000134352" + "0109506000134352",
        "010950600013435211271231" + "21S1",  # AI 11 not supported
        "0109506000134352" + "17271232" + "21S1",
        "0109506000134352" + "17٢٧1231" + "21S1",
        "01٠٩٥٠٦٠٠٠١٣٤٣٥٢" + "21S1",
        "0109506000134352" + "21" + "S" * 21,
        "0109506000134352" + "21S 1",
        "0109506000134352" + "10L1\x1d" + "21",
        "0109506000134352" + "99XYZ",
        "]d2010950600013435221S1",  # symbology identifiers are the caller's job
        "0109506000134352" + "21S1" * 100,
    ],
)
def test_parse_element_string_rejects_malformed_data(data):
    with pytest.raises(GS1Error):
        parse_element_string(data)


def test_parse_element_string_reads_fields_in_any_order():
    assert parse_element_string("21S1\x1d10L1\x1d17271231" + "0109506000134352") == DigitalLink(
        gtin=GTIN, lot="L1", serial="S1", expiry=date(2027, 12, 31)
    )


def test_parse_element_string_rejects_a_multi_character_separator():
    with pytest.raises(ValueError, match="one character"):
        parse_element_string("010950600013435221S1", separator="<GS>")


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text() | st.text(alphabet="0123456789\x1dABZ%").map(lambda s: "0109506000134352" + s))
def test_parse_element_string_raises_only_gs1_error_on_arbitrary_text(data):
    try:
        result = parse_element_string(data)
    except GS1Error as exc:
        str(exc).encode("utf-8")
        return
    _check_accepted(result)


@pytest.mark.parametrize(
    "url",
    [
        "https://verify.example.com/01/09506000134352/10/L1/21/ABC123?17=271231",
        "https://example.org/some/prefix/01/09506000134352/10/L1/21/ABC123?17=271231",
        "verify.example.com/01/09506000134352/10/L1/21/ABC123?17=271231",
        "/01/09506000134352/10/L1/21/ABC123?17=271231",
    ],
)
def test_a_whole_verify_url_parses_under_any_host_or_prefix(url):
    assert gs1.parse_verify_url(url) == gs1.DigitalLink("09506000134352", "L1", "ABC123", date(2027, 12, 31))


def test_a_product_ref_url_parses_too():
    link = gs1.parse_verify_url("https://verify.example.com/p/herbs.3/10/L1/21/ABC123")
    assert link == gs1.RefLink("herbs.3", "L1", "ABC123")


@pytest.mark.parametrize("url", ["https://example.org/about", "https://x/01/123/21/A", "", "https://x/?u=/01/1/21/A"])
def test_anything_else_is_a_gs1_error(url):
    with pytest.raises(gs1.GS1Error):
        gs1.parse_verify_url(url)
