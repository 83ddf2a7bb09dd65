"""Brand verification: a GS1 Company Prefix claim, approved by an operator, before the verify page vouches."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from brands import services
from brands.models import Brand, ClaimState, PrefixClaim
from codes.models import Code, Product
from scans.models import Scan
from tests.factories import BrandFactory, ProductFactory, UserFactory, ready_batch, sign_up, verified_client


def _code_of(brand, gtin="09506000134352"):
    product = ProductFactory(brand=brand, gtin=gtin)
    return (
        Code.objects.select_related("batch__lot").filter(batch=ready_batch(product, quantity=3, activated=True)).first()
    )


def _verify(code, **headers):
    return Client().get(f"/01/{code.product.gtin}/21/{code.serial}", **headers)


@pytest.fixture
def impostor(db):
    """A fresh sign-up that claims a real brand's prefix: pending, never approved."""
    brand = BrandFactory(name="Alpha Co", prefix="")
    services.claim_prefix(brand=brand, prefix="9506000")
    return brand


def test_unapproved_brands_code_never_answers_authentic(impostor):
    code = _code_of(impostor)
    response = _verify(code, HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    data = response.json()
    assert data["authentic"] is False and data["status"] == "unverified_brand" and data["product"] is None
    assert Code.objects.get(pk=code.pk).scan_count == 0  # an impostor's code is not even counted
    assert Scan.objects.get().outcome == "unverified_brand"


def test_unapproved_brands_page_says_not_yet_verified_and_shows_none_of_its_claims(impostor):
    page = _verify(_code_of(impostor)).content.decode()
    assert "Not yet verified brand" in page and "Alpha Co" not in page and "Authentic" not in page


def test_approving_the_prefix_makes_the_same_code_authentic(impostor):
    from scans.products import product_cache

    code = _code_of(impostor)
    assert _verify(code, HTTP_ACCEPT="application/json").json()["authentic"] is False
    services.approve_claim(claim=PrefixClaim.objects.get(brand=impostor))
    product_cache.clear()  # other processes see it within PRODUCT_CACHE_SECONDS
    assert _verify(code, HTTP_ACCEPT="application/json").json()["authentic"] is True


def test_a_gtin_outside_the_brands_claimed_prefixes_cannot_be_registered(owner_client):
    response = owner_client.post(
        "/products/new/", {"name": "Zinc", "gtin": "4006381333931", "serial_alphabet": "alnum"}
    )
    assert (
        response.status_code == 200 and "not under a GS1 Company Prefix you have claimed" in response.content.decode()
    )
    assert not Product.objects.exists()


def test_owner_claims_a_prefix_with_evidence_from_the_settings_page(owner_client, brand):
    evidence = SimpleUploadedFile("licence.pdf", b"%PDF-1.4 licence", content_type="application/pdf")
    response = owner_client.post("/settings/prefixes/", {"prefix": "952 1234", "evidence": evidence})
    assert response.status_code == 302
    claim = PrefixClaim.objects.get(brand=brand, prefix="9521234")
    assert claim.state == ClaimState.PENDING and claim.evidence.read() == b"%PDF-1.4 licence"
    assert "9521234" in owner_client.get("/settings/").content.decode()


def test_viewer_cannot_claim_a_prefix(viewer_client):
    assert viewer_client.post("/settings/prefixes/", {"prefix": "9521234"}).status_code == 403


def test_a_prefix_approved_for_another_brand_cannot_be_claimed(owner_client, db):
    BrandFactory(prefix="9521234")
    response = owner_client.post("/settings/prefixes/", {"prefix": "95212345"})  # inside the other's prefix
    assert response.status_code == 400 and "belongs to another verified brand" in response.content.decode()


def test_staff_approve_a_claim_on_the_review_page(impostor):
    staff = verified_client(UserFactory(is_staff=True))
    claim = PrefixClaim.objects.get(brand=impostor)
    assert "Alpha Co" in staff.get("/staff/claims/").content.decode()
    response = staff.post(f"/staff/claims/{claim.pk}/", {"decision": "approve", "note": "Licence checked"})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.state == ClaimState.APPROVED and claim.note == "Licence checked"


def test_brand_members_cannot_see_the_review_pages(owner_client):
    assert owner_client.get("/staff/claims/").status_code == 404


def test_approve_brand_command_claims_and_approves_in_one_step(db):
    brand = BrandFactory(slug="acme", prefix="")
    call_command("approve_brand", "--brand", "acme", "--prefix", "9506000")
    assert services.is_verified_for(brand, "09506000134352")


def test_approve_brand_command_explains_a_prefix_read_with_the_indicator_digit(db):
    brand = BrandFactory(slug="acme", prefix="")
    services.claim_prefix(brand=brand, prefix="9506000")
    ProductFactory(brand=brand, gtin="09506000134352")
    with pytest.raises(CommandError, match="indicator digit.*9506000"):
        call_command("approve_brand", "--brand", "acme", "--prefix", "0950600")
    assert not services.is_verified_for(brand, "09506000134352")


def test_a_look_alike_of_an_approved_brand_is_flagged_at_sign_up(client, db):
    original = BrandFactory(name="Alpha Company")
    sign_up(client, "x@example.com", "ALPHA  Co.")
    assert Brand.objects.get(name="ALPHA  Co.").lookalike_of == original
    assert BrandFactory(name="Bravo Foods").lookalike_of is None


def test_seed_demo_makes_a_verified_unlimited_demo_brand(db):
    call_command("seed_demo")
    demo = Brand.objects.get(slug="demo")
    assert demo.plan == "unlimited" and services.is_verified_for(demo, "09506000134352")
    code = Code.objects.select_related("product").first()
    assert _verify(code, HTTP_ACCEPT="application/json").json()["authentic"] is True


def test_the_not_yet_verified_page_speaks_malay_when_the_phone_does(impostor):
    page = _verify(_code_of(impostor), HTTP_ACCEPT_LANGUAGE="ms").content.decode()
    assert "Jenama belum disahkan" in page
