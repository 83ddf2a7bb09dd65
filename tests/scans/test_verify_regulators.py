"""A unit's regulator registration on the verify page and in its JSON: the number, a link to the regulator's own
public search, and for FarmaTag products the notice to check that official label too; in every page language,
at no query more on the hot path."""

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from brands.models import ClaimState, PrefixClaim
from codes import regulators, services
from codes.models import Code
from scans import rules, wording
from scans.products import product_cache
from tests.codes.test_regulators import US_DRUG_GTIN, US_PREFIX
from tests.factories import ProductFactory, ready_batch
from tests.scans.test_verify import IPHONE, KUALA_LUMPUR_IP, qr_path

QUEST3 = "https://quest3plus.bpfk.gov.my/pmo2/index.php"


def units(product, quantity=4):
    batch = ready_batch(product, quantity=quantity, activated=True)
    return list(Code.objects.select_related("batch__lot", "product").filter(batch=batch).order_by("ordinal"))


def page(code, language="en"):
    response = Client().get(
        qr_path(code), HTTP_ACCEPT_LANGUAGE=language, REMOTE_ADDR=KUALA_LUMPUR_IP, HTTP_USER_AGENT=IPHONE
    )
    assert response.status_code == 200
    return response.content.decode()


def verdict_json(code, language="en"):
    response = Client().get(
        qr_path(code),
        HTTP_ACCEPT="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
        REMOTE_ADDR=KUALA_LUMPUR_IP,
        HTTP_USER_AGENT=IPHONE,
    )
    return response.json()


def regulators_block(html: str) -> str:
    match = re.search(r'<div class="card" id="regulators">(.*?)</div>', html, re.S)
    return match[1] if match else ""


@pytest.fixture
def panadol(brand):
    return ProductFactory(brand=brand, name="Panadol 500 mg", registration_number="MAL19990123AZ", needs_farmatag=True)


@pytest.fixture
def us_drug(brand):
    PrefixClaim.objects.create(brand=brand, prefix=US_PREFIX, state=ClaimState.APPROVED)
    return services.create_product(brand=brand, name="Ibuprofen 200 mg", gtin=US_DRUG_GTIN, ndc="12345-678-90")


def test_the_page_shows_the_npra_registration_linked_to_npras_product_search(panadol):
    block = regulators_block(page(units(panadol)[0]))
    assert "Registered with NPRA (Malaysia): MAL19990123AZ" in block
    assert f'<a href="{QUEST3}" rel="noopener noreferrer external">Check it in NPRA&#x27;s product search' in block


def test_the_page_says_it_in_bahasa_melayu(panadol):
    block = regulators_block(page(units(panadol)[0], "ms"))
    assert "Berdaftar dengan NPRA (Malaysia): MAL19990123AZ" in block and "Semak dalam carian produk NPRA" in block
    assert "label keselamatan FarmaTag Kementerian Kesihatan" in block
    assert "Registered with" not in block and "must also carry" not in block


def test_a_farmatag_product_tells_the_consumer_to_check_that_official_label_too(panadol):
    block = regulators_block(page(units(panadol)[0]))
    assert 'id="farmatag"' in block
    assert "must also carry the Ministry of Health&#x27;s FarmaTag security label" in block
    assert "it is the official mark, and this page does not replace it" in block


def test_a_cosmetics_notification_number_reads_as_notified_without_a_farmatag(brand):
    lipstick = ProductFactory(brand=brand, name="Lipstick", registration_number="NOT190500123K")
    block = regulators_block(page(units(lipstick)[0]))
    assert "Cosmetic notified to NPRA (Malaysia): NOT190500123K" in block and QUEST3 in block
    assert "FarmaTag" not in block


def test_a_us_drug_shows_its_ndc_from_the_gtin_linked_to_dailymed(us_drug):
    block = regulators_block(page(units(us_drug)[0]))
    assert "US NDC 12345-678-90" in block
    assert 'href="https://dailymed.nlm.nih.gov/dailymed/search.cfm?query=12345-678-90"' in block


def test_a_product_without_registrations_shows_no_block(brand):
    html = page(units(ProductFactory(brand=brand))[0])
    assert 'id="regulators"' not in html and "NPRA" not in html


def test_a_made_up_serial_of_a_registered_product_shows_no_registration(panadol):
    units(panadol)
    response = Client().get(f"/01/{panadol.gtin}/21/NOTAREALCODE", REMOTE_ADDR=KUALA_LUMPUR_IP)
    assert response.status_code == 404 and "MAL19990123AZ" not in response.content.decode()


def test_the_json_verdict_carries_the_registrations_and_the_farmatag(panadol):
    product = verdict_json(units(panadol)[0], "ms")["product"]
    assert product["registrations"] == [
        {
            "regulator": "NPRA",
            "country": "MY",
            "kind": "mal",
            "number": "MAL19990123AZ",
            "search_url": QUEST3,
            "message": "Berdaftar dengan NPRA (Malaysia): MAL19990123AZ",
        }
    ]
    assert product["needs_farmatag"] is True and "FarmaTag" in product["farmatag_message"]


def test_the_json_of_a_product_without_registrations_keeps_its_keys(brand):
    product = verdict_json(units(ProductFactory(brand=brand))[0])["product"]
    assert set(product) == {"name", "gtin", "lot", "expiry", "brand"}


def test_a_registered_products_scan_is_still_one_statement(panadol, django_assert_num_queries):
    codes = units(panadol)
    verdict_json(codes[0])  # warms the per-process product cache
    expected = 1 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(expected):
        assert "registrations" in verdict_json(codes[1])["product"]
    with django_assert_num_queries(expected):
        assert "Registered with NPRA" in page(codes[2])


def test_loading_a_registered_product_costs_no_query_more(brand, panadol):
    """Its registrations come with the product row the cache loads anyway."""
    verdict_json(units(ProductFactory(brand=brand))[0])  # the brand's other per-process caches, warmed
    counts = []
    for product in (ProductFactory(brand=brand), panadol):
        code = units(product)[0]
        product_cache.clear()
        with CaptureQueriesContext(connection) as queries:
            verdict_json(code)
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def every_regulator_word(language: str) -> list[str]:
    registrations = regulators.registrations(
        gtin=US_DRUG_GTIN, npra_number="MAL19990123AZ", ndc_form="12345-678-90"
    ) + regulators.registrations(gtin=None, npra_number="NOT190500123K")
    facts = rules.ProductFacts("Panadol", None, "L1", None, "Acme", registrations=registrations)
    with translation.override(language):
        lines = wording.regulator_lines(facts)
        return [words for line in lines for words in (line.text, line.link_text)] + [wording.farmatag_notice()]


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE])
def test_every_regulator_word_is_translated_in_every_page_language(language):
    english, translated = every_regulator_word(settings.LANGUAGE_CODE), every_regulator_word(language)
    assert len(english) == len(translated) == 7
    for original, words in zip(english, translated, strict=True):
        assert words != original and "%(" not in words, (language, words)
    assert all(number in " ".join(translated) for number in ("MAL19990123AZ", "NOT190500123K", "12345-678-90"))
