"""A product's regulators' identifiers through the API: written, refused naming the field, read back."""

import pytest

from codes.models import Product
from tests.codes.test_regulators import US_DRUG_GTIN, us_drug_brand
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

QUEST3 = "https://quest3plus.bpfk.gov.my/pmo2/index.php"


def test_a_product_is_made_with_its_npra_number_and_read_back(api):
    body = {"name": "Panadol", "gtin": "09506000134352", "registration_number": "mal19990123az", "needs_farmatag": True}
    made = api.post("/api/v1/products/", body, format="json")
    assert made.status_code == 201, made.content
    read = api.get(f"/api/v1/products/{made.json()['id']}/").json()
    assert (read["registration_number"], read["needs_farmatag"], read["ndc"]) == ("MAL19990123AZ", True, "")
    assert read["registrations"] == [
        {"regulator": "NPRA", "country": "MY", "kind": "mal", "number": "MAL19990123AZ", "search_url": QUEST3}
    ]


def test_a_bad_npra_number_is_a_problem_naming_the_field(api, brand):
    product = ProductFactory(brand=brand)
    refused = api.patch(f"/api/v1/products/{product.pk}/", {"registration_number": "MAL123"}, format="json")
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    assert "registration_number" in refused.json()["errors"]
    assert Product.objects.get(pk=product.pk).registration_number == ""


def test_the_farmatag_needs_a_mal_number(api, brand):
    product = ProductFactory(brand=brand, registration_number="NOT190500123K")
    refused = api.patch(f"/api/v1/products/{product.pk}/", {"needs_farmatag": True}, format="json")
    assert refused.status_code == 400 and "needs_farmatag" in refused.json()["errors"]


def test_a_us_drugs_ndc_reads_from_its_gtin_and_takes_its_labels_split(api, brand):
    product = ProductFactory(brand=us_drug_brand(brand), gtin=US_DRUG_GTIN)
    url = f"/api/v1/products/{product.pk}/"
    assert api.get(url).json()["ndc"] == "1234567890"
    changed = api.patch(url, {"ndc": "12345-678-90"}, format="json").json()
    assert changed["ndc"] == "12345-678-90"
    assert changed["registrations"][0]["search_url"].endswith("?query=12345-678-90")
    refused = api.patch(url, {"ndc": "12345-678-91"}, format="json")
    assert refused.status_code == 400 and "ndc" in refused.json()["errors"]
    assert api.get(url).json()["ndc"] == "12345-678-90"
