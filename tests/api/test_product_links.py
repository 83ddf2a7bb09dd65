"""A product's GS1 links through the API: attached, listed, removed, refused naming the field, scoped to the key."""

import pytest

from codes import links
from tests.codes.test_product_links import LEAFLET, resolves
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(brand):
    return ProductFactory(brand=brand)


@pytest.fixture
def link(product):
    return links.add_link(product=product, link_type="gs1:pip", href="https://acme.example/p", title="Product page")


def test_a_link_is_attached_listed_and_removed_through_the_api(api, product):
    made = api.post("/api/v1/product-links/", {"product": product.pk, **LEAFLET}, format="json")
    assert made.status_code == 201, made.content
    listed = api.get(f"/api/v1/product-links/?product={product.pk}").json()["results"]
    assert [row["href"] for row in listed] == [LEAFLET["href"]]
    assert resolves(product, "gs1:epil") is not None
    assert api.delete(f"/api/v1/product-links/{made.json()['id']}/").status_code == 204
    assert resolves(product, "gs1:epil") is None


def test_a_bad_address_is_a_problem_naming_the_field(api, product):
    refused = api.post(
        "/api/v1/product-links/", {"product": product.pk, **LEAFLET, "href": "ftp://acme.example/x"}, format="json"
    )
    assert refused.status_code == 400 and "href" in refused.json()["errors"]


def test_another_brands_links_are_not_there_for_a_key(outsider_api, link):
    assert outsider_api.get("/api/v1/product-links/").json()["results"] == []
    assert outsider_api.delete(f"/api/v1/product-links/{link.pk}/").status_code == 404
    made = outsider_api.post("/api/v1/product-links/", {"product": link.product.pk, **LEAFLET}, format="json")
    assert made.status_code == 400 and "product" in made.json()["errors"]


def test_a_read_only_key_cannot_attach(read_api, product):
    refused = read_api.post("/api/v1/product-links/", {"product": product.pk, **LEAFLET}, format="json")
    assert refused.status_code == 403
