import pytest
from hypothesis import given
from hypothesis import strategies as st

from distributors.territory import TerritoryError, describe, is_outside, parse_territory, region_label

KL_SELANGOR = frozenset({"MY-14", "MY-10"})


def test_codes_typed_by_a_person_are_normalised_and_sorted():
    assert parse_territory(" my-14, MY-10;sg  my-14 ") == ["MY-10", "MY-14", "SG"]


@pytest.mark.parametrize("code", ["MY-99", "XX", "MALAYSIA", "MY14", "M", "MY-", "🇲🇾"])
def test_unknown_codes_are_refused_by_name(code):
    with pytest.raises(TerritoryError, match=code.upper()[:2]):
        parse_territory(code)


def test_scan_in_a_listed_subdivision_is_inside():
    assert is_outside(KL_SELANGOR, "MY", "MY-14") is False


def test_scan_in_another_subdivision_of_the_same_country_is_outside():
    assert is_outside(KL_SELANGOR, "MY", "MY-01") is True


def test_scan_in_another_country_is_outside():
    assert is_outside(KL_SELANGOR, "SG", "") is True


def test_whole_country_territory_covers_its_subdivisions():
    assert is_outside(frozenset({"SG", "MY"}), "MY", "MY-01") is False


def test_unknown_place_or_region_cannot_be_called_outside():
    assert is_outside(KL_SELANGOR, "", "") is False
    assert is_outside(KL_SELANGOR, "MY", "") is False  # somewhere in Malaysia: maybe KL


def test_empty_territory_means_anywhere():
    assert is_outside(frozenset(), "US", "US-CA") is False


@given(st.sampled_from(["MY", "SG", "ID", "TH"]), st.sampled_from(["", "-01", "-10", "-14"]))
def test_a_place_listed_in_the_territory_is_never_outside(country, suffix):
    region = country + suffix if suffix else ""
    assert is_outside(frozenset({country, region} - {""}), country, region) is False


@pytest.mark.parametrize(
    "code,label",
    [("MY-10", "Selangor, MY"), ("MY-14", "Kuala Lumpur, MY"), ("SG", "Singapore"), ("ZZ-9", "ZZ-9"), ("", "")],
)
def test_a_region_is_shown_by_name_with_its_country(code, label):
    assert region_label(code) == label


def test_a_territory_reads_as_names():
    assert describe(["MY-10", "MY-14", "SG"]) == "Selangor, MY; Kuala Lumpur, MY; Singapore"
