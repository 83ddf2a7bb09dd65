"""The dashboard's product form and page with the regulators' identifiers (the rules: codes.services)."""

from codes.models import Product
from tests.codes.test_regulators import US_DRUG_GTIN, us_drug_brand
from tests.factories import ProductFactory


def edit(client, product, **changes):
    data = {
        "name": product.name,
        "variant": product.variant,
        "gtin": product.gtin or "",
        "ndc": product.ndc,
        "registration_number": product.registration_number,
        "serial_alphabet": product.serial_alphabet,
        "serial_length": product.serial_length,
        **changes,
    }
    if data.pop("needs_farmatag", product.needs_farmatag):
        data["needs_farmatag"] = "on"
    return client.post(f"/products/{product.pk}/edit/", data)


def test_an_owner_adds_a_products_npra_number_and_farmatag_as_printed(owner_client, brand):
    product = ProductFactory(brand=brand)
    response = edit(owner_client, product, registration_number="MAL 19990123 AZ", needs_farmatag=True)
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.registration_number, product.needs_farmatag) == ("MAL19990123AZ", True)
    page = owner_client.get(f"/products/{product.pk}/").content.decode()
    assert "MAL19990123AZ" in page and "must carry the FarmaTag" in page


def test_a_bad_npra_number_is_a_form_error_beside_its_field(owner_client, brand):
    product = ProductFactory(brand=brand)
    response = edit(owner_client, product, registration_number="MAL1999")
    assert response.status_code == 200
    assert "MAL, 8 digits" in response.context["form"].errors["registration_number"][0]
    assert Product.objects.get(pk=product.pk).registration_number == ""


def test_the_farmatag_without_a_mal_number_is_refused_beside_its_field(owner_client, brand):
    product = ProductFactory(brand=brand)
    response = edit(owner_client, product, registration_number="NOT190500123K", needs_farmatag=True)
    assert "registered with NPRA" in response.context["form"].errors["needs_farmatag"][0]
    assert not Product.objects.get(pk=product.pk).needs_farmatag


def test_an_ndc_the_gtin_does_not_carry_is_refused_beside_its_field(owner_client, brand):
    product = ProductFactory(brand=us_drug_brand(brand), gtin=US_DRUG_GTIN)
    response = edit(owner_client, product, ndc="99999-678-90")
    assert "not the one inside" in response.context["form"].errors["ndc"][0]
    edit(owner_client, product, ndc="12345-678-90")
    assert "NDC 12345-678-90" in owner_client.get(f"/products/{product.pk}/").content.decode()


def test_a_us_drugs_page_shows_the_ndc_inside_its_gtin(owner_client, brand):
    product = ProductFactory(brand=us_drug_brand(brand), gtin=US_DRUG_GTIN)
    assert "NDC 1234567890" in owner_client.get(f"/products/{product.pk}/").content.decode()


def test_a_viewer_cannot_change_a_registration(viewer_client, brand):
    product = ProductFactory(brand=brand)
    assert edit(viewer_client, product, registration_number="MAL19990123AZ").status_code == 403
    assert Product.objects.get(pk=product.pk).registration_number == ""


def test_another_brands_owner_cannot_see_or_change_it(outsider_client, brand):
    product = ProductFactory(brand=brand, registration_number="MAL19990123AZ")
    assert edit(outsider_client, product, registration_number="MAL20001564T").status_code == 404
    assert Product.objects.get(pk=product.pk).registration_number == "MAL19990123AZ"
