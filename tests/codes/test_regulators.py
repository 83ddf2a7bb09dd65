"""Regulators' identifiers on a product: NPRA's MAL and NOT numbers, the US NDC inside a drug's GTIN, the FarmaTag
flag; the one rule in the service (the dashboard, the API and the admin all save through it)."""

import importlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brands.models import ClaimState, PrefixClaim
from codes import regulators, services
from codes.gs1 import gtin_check_digit
from codes.models import Product
from tests.factories import ProductFactory, ready_batch

US_DRUG_GTIN = "003" + "1234567890" + gtin_check_digit("0031234567890")  # NDC 1234567890 inside
US_PREFIX = "0312345"  # the GS1 US company prefix of FDA labeler 12345


def us_drug_brand(brand):
    PrefixClaim.objects.create(brand=brand, prefix=US_PREFIX, state=ClaimState.APPROVED)
    return brand


# --- the pure rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed,clean",
    [
        ("MAL19990123AZ", "MAL19990123AZ"),  # a scheduled poison, zero-rated
        ("MAL20001564T", "MAL20001564T"),  # a traditional product (the Ministry's own example)
        ("mal 2012 5467 x", "MAL20125467X"),  # as typed from a label, in any case
        ("MAL08011187NC", "MAL08011187NC"),  # a health supplement, contract manufactured
        ("MAL19860012H", "MAL19860012H"),  # veterinary
        ("MAL20071545XCR", "MAL20071545XCR"),  # two administrative codes
        ("NOT190500123K", "NOT190500123K"),  # a notified cosmetic: NOT yymm nnnnn K
        ("NOT 1905 00123 K", "NOT190500123K"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_npra_numbers_as_printed_are_accepted_and_written_one_way(typed, clean):
    assert regulators.clean_npra_number(typed) == clean


@pytest.mark.parametrize(
    "typed,why",
    [
        ("MAL1999012AZ", "8 digits"),  # 7 digits
        ("MAL199901234A", "8 digits"),  # 9 digits
        ("MAL19990123", "category"),  # no category
        ("MAL19990123Q", "category"),  # not a category
        ("MAL19990123S", "category"),  # S is an administrative code, never a category
        ("MAL19990123AZZ", "once"),
        ("MAL19990123AZCE", "category"),  # three administrative codes
        ("NOT19050012K", "NOT, the year and month"),  # 8 digits
        ("NOT191300123K", "NOT, the year and month"),  # month 13
        ("NOT190500123", "NOT, the year and month"),  # no K
        ("NOT190500123X", "NOT, the year and month"),
        ("12345678", "MAL…"),  # another scheme altogether
        ("BPOM RI MD 123", "MAL…"),
    ],
)
def test_numbers_npra_never_issues_are_refused_saying_what_one_looks_like(typed, why):
    with pytest.raises(regulators.RegulatorError) as refused:
        regulators.clean_npra_number(typed)
    assert why in refused.value.message


def test_the_ndc_is_read_from_a_us_drug_gtin_only():
    assert regulators.ndc_digits(US_DRUG_GTIN) == "1234567890"
    assert regulators.ndc_digits("09506000134352") is None  # GS1's example: no NDC
    assert regulators.ndc_digits("50312345678906") is None  # a case's GTIN (indicator 5): not the unit's NDC
    assert regulators.ndc_digits(None) is None


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_every_ndc_put_in_a_gtin_comes_back_out(ndc):
    body = "003" + ndc
    gtin = body + gtin_check_digit(body)
    assert regulators.ndc_digits(gtin) == ndc
    assert regulators.ndc_shown(gtin) == ndc  # the 10 digits: their split is not in them


@pytest.mark.parametrize("form", ["1234-5678-90", "12345-678-90", "12345-6789-0"])
def test_the_labels_split_of_the_gtins_ndc_is_kept_and_shown(form):
    assert regulators.clean_ndc(f" {form} ", US_DRUG_GTIN) == form
    assert regulators.ndc_shown(US_DRUG_GTIN, form) == form


def test_the_ten_digits_alone_add_nothing_to_the_gtin():
    assert regulators.clean_ndc("1234567890", US_DRUG_GTIN) == ""
    assert regulators.ndc_shown(US_DRUG_GTIN, "") == "1234567890"


@pytest.mark.parametrize(
    "typed,gtin,why",
    [
        ("12345-678-91", US_DRUG_GTIN, "not the one inside"),
        ("123-45678-90", US_DRUG_GTIN, "4-4-2, 5-3-2 or 5-4-1"),
        ("12345-67-890", US_DRUG_GTIN, "4-4-2, 5-3-2 or 5-4-1"),
        ("12345-678-90", "09506000134352", "Only a US drug's GTIN"),
        ("12345-678-90", None, "Only a US drug's GTIN"),
    ],
)
def test_an_ndc_the_gtin_does_not_carry_is_refused(typed, gtin, why):
    with pytest.raises(regulators.RegulatorError) as refused:
        regulators.clean_ndc(typed, gtin)
    assert why in refused.value.message


def test_a_products_registrations_link_to_the_regulators_own_search():
    found = regulators.registrations(gtin=US_DRUG_GTIN, npra_number="MAL19990123AZ", ndc_form="12345-678-90")
    assert found == (
        regulators.Registration("NPRA", "MY", "mal", "MAL19990123AZ", "https://quest3plus.bpfk.gov.my/pmo2/index.php"),
        regulators.Registration(
            "FDA", "US", "ndc", "12345-678-90", "https://dailymed.nlm.nih.gov/dailymed/search.cfm?query=12345-678-90"
        ),
    )
    assert regulators.registrations(gtin="09506000134352") == ()


# --- the service: one rule for the dashboard, the API and the admin ---------------------------------------


def test_a_product_is_made_with_its_npra_number_and_farmatag(brand):
    product = services.create_product(
        brand=brand, name="Panadol", gtin="09506000134352", registration_number="mal 19990123 az", needs_farmatag=True
    )
    product.refresh_from_db()
    assert (product.registration_number, product.needs_farmatag) == ("MAL19990123AZ", True)


def test_a_bad_npra_number_is_refused_naming_the_field(brand):
    with pytest.raises(services.OrderError) as refused:
        services.create_product(brand=brand, name="Panadol", gtin="09506000134352", registration_number="MAL123")
    assert refused.value.field == "registration_number" and not Product.objects.exists()


@pytest.mark.parametrize("number", ["", "NOT190500123K"])
def test_only_a_product_registered_with_npra_carries_the_farmatag(brand, number):
    with pytest.raises(services.OrderError) as refused:
        services.create_product(
            brand=brand, name="Lipstick", gtin="09506000134352", registration_number=number, needs_farmatag=True
        )
    assert refused.value.field == "needs_farmatag"


def test_a_us_drugs_ndc_is_derived_from_its_gtin(brand):
    product = services.create_product(brand=us_drug_brand(brand), name="Ibuprofen 200 mg", gtin=US_DRUG_GTIN)
    assert product.ndc == "" and product.ndc_shown == "1234567890"
    product = services.update_product(product=product, changes={"ndc": "12345-678-90"})
    assert Product.objects.get(pk=product.pk).ndc_shown == "12345-678-90"


def test_an_ndc_is_refused_for_a_gtin_that_carries_none(brand):
    product = ProductFactory(brand=brand)
    with pytest.raises(services.OrderError) as refused:
        services.update_product(product=product, changes={"ndc": "12345-678-90"})
    assert refused.value.field == "ndc" and Product.objects.get(pk=product.pk).ndc == ""


def test_a_new_gtin_must_still_hold_the_ndc_given_for_the_old_one(brand):
    product = services.create_product(
        brand=us_drug_brand(brand), name="Ibuprofen", gtin=US_DRUG_GTIN, ndc="12345-678-90"
    )
    with pytest.raises(services.OrderError) as refused:
        services.update_product(product=product, changes={"gtin": "09506000134352"})
    assert refused.value.field == "ndc" and Product.objects.get(pk=product.pk).gtin == US_DRUG_GTIN


def test_registration_number_and_farmatag_may_change_once_codes_exist(brand):
    product = ProductFactory(brand=brand)
    ready_batch(product, quantity=2)
    services.update_product(product=product, changes={"registration_number": "MAL20001564T", "needs_farmatag": True})
    product.refresh_from_db()
    assert (product.registration_number, product.needs_farmatag) == ("MAL20001564T", True)


def test_the_migration_keeps_only_the_ndcs_their_gtins_carry(brand):
    """NDCs typed before the GTIN was their one truth: a split of the GTIN's digits stays, the rest goes."""
    from django.apps import apps

    migration = importlib.import_module("codes.migrations.0015_product_regulator")
    us_drug_brand(brand)
    body = "0031234567891"
    kept = ProductFactory(brand=brand, gtin=US_DRUG_GTIN)
    other_us = ProductFactory(brand=brand, gtin=body + gtin_check_digit(body))
    elsewhere = ProductFactory(brand=brand)
    stored = {kept: "12345-678-90", other_us: "55555-555-55", elsewhere: "0002-3227-30"}
    for product, ndc in stored.items():
        Product.objects.filter(pk=product.pk).update(ndc=ndc)
    migration.ndc_from_the_gtin(apps, None)
    after = dict(Product.objects.values_list("pk", "ndc"))
    assert after == {kept.pk: "12345-678-90", other_us.pk: "", elsewhere.pk: ""}
