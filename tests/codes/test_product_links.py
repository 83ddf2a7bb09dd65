"""A product's GS1 links in the dashboard (the product page's "Links for GS1 tools") and the API: what the
resolver then answers with (rules: codes.links; the resolver: tests/scans/test_resolver.py)."""

import pytest
from django.test import Client

from codes import links
from codes.models import ProductLink
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

LEAFLET = {
    "link_type": "epil",
    "title": "Leaflet",
    "href": "https://acme.example/leaflet.pdf",
    "language": "en",
    "media_type": "application/pdf",
}


@pytest.fixture
def product(brand):
    return ProductFactory(brand=brand)


@pytest.fixture
def link(product):
    return links.add_link(product=product, link_type="gs1:pip", href="https://acme.example/p", title="Product page")


def resolves(product, link_type: str) -> str | None:
    response = Client().get(f"/01/{product.gtin}?linkType={link_type}", HTTP_ACCEPT="*/*")
    return response.get("Location") if response.status_code == 307 else None


def test_an_owner_adds_a_leaflet_and_gs1_tools_are_sent_to_it(owner_client, product):
    response = owner_client.post(f"/products/{product.pk}/links/new/", LEAFLET)
    assert response.status_code == 302
    page = owner_client.get(f"/products/{product.pk}/").content.decode()
    assert "https://acme.example/leaflet.pdf" in page and "gs1:epil" in page
    assert resolves(product, "gs1:epil") == "https://acme.example/leaflet.pdf?linkType=gs1:epil"


def test_a_bad_language_is_refused_beside_its_field(owner_client, product):
    response = owner_client.post(f"/products/{product.pk}/links/new/", {**LEAFLET, "language": "eng"})
    assert response.status_code == 400
    assert "two letters" in response.context["form"].errors["language"][0]
    assert not ProductLink.objects.exists()


def test_an_owner_removes_a_link_and_the_resolver_no_longer_has_it(owner_client, product, link):
    assert resolves(product, "gs1:pip") is not None
    response = owner_client.post(f"/product-links/{link.pk}/remove/")
    assert response.status_code == 302
    assert resolves(product, "gs1:pip") is None


def test_adding_a_link_checks_ownership(outsider_client, product):
    assert outsider_client.post(f"/products/{product.pk}/links/new/", LEAFLET).status_code == 404
    assert not ProductLink.objects.exists()


def test_removing_a_link_checks_ownership(outsider_client, link):
    assert outsider_client.post(f"/product-links/{link.pk}/remove/").status_code == 404
    assert ProductLink.objects.filter(pk=link.pk).exists()


def test_adding_a_link_requires_write_role(viewer_client, product):
    assert viewer_client.post(f"/products/{product.pk}/links/new/", LEAFLET).status_code == 403
    page = viewer_client.get(f"/products/{product.pk}/").content.decode()
    assert "Links for GS1 tools" in page and "Add link" not in page


def test_removing_a_link_requires_write_role(viewer_client, link):
    assert viewer_client.post(f"/product-links/{link.pk}/remove/").status_code == 403
    assert ProductLink.objects.filter(pk=link.pk).exists()


def test_a_verification_service_or_default_is_not_the_brands_to_attach(product):
    for link_type in ("gs1:verificationService", "gs1:defaultLink", "gs1:nosuchlt"):
        with pytest.raises(links.LinkError) as refused:
            links.add_link(product=product, link_type=link_type, href="https://acme.example/", title="Mine")
        assert refused.value.field == "link_type"
