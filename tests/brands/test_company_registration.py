"""The way in for brands without a GS1 prefix: a company registration claim, reviewed by operators on the same
staff claims page, that vouches for the brand's product refs and never for a GTIN."""

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from brands import services
from brands.models import Brand, ClaimKind, ClaimState, PrefixClaim
from codes import services as code_services
from codes.models import CodeBatch, Product
from tests.factories import BrandFactory, UserFactory, registration_claim, sign_up, verified_client


def certificate(content=b"%PDF-1.4 SSM certificate"):
    return SimpleUploadedFile("certificate.pdf", content, content_type="application/pdf")


@pytest.fixture
def staff(db):
    return verified_client(UserFactory(is_staff=True))  # staff confirm a second factor before any staff page


def test_owner_submits_the_company_registration_from_the_settings_page(owner_client, brand):
    response = owner_client.post(
        "/settings/registration/",
        {"registration_number": " 202401012345 ", "country": "my", "evidence": certificate()},
    )
    assert response.status_code == 302
    claim = PrefixClaim.objects.get(brand=brand, kind=ClaimKind.COMPANY_REGISTRATION)
    assert (claim.registration_number, claim.registration_country, claim.prefix) == ("202401012345", "MY", "")
    assert claim.state == ClaimState.PENDING and claim.evidence.read() == b"%PDF-1.4 SSM certificate"
    page = owner_client.get("/settings/").content.decode()
    assert "I have no GS1 prefix" in page and "202401012345" in page and "Waiting for review" in page


def test_a_registration_needs_its_certificate_and_a_country_code(owner_client, brand):
    no_file = owner_client.post("/settings/registration/", {"registration_number": "202401012345", "country": "MY"})
    assert no_file.status_code == 400 and "evidence" in no_file.context["registration_form"].errors
    bad_country = owner_client.post(
        "/settings/registration/",
        {"registration_number": "202401012345", "country": "M1", "evidence": certificate()},
    )
    assert bad_country.status_code == 400
    assert "two-letter ISO code" in bad_country.context["registration_form"].errors["country"][0]
    assert not PrefixClaim.objects.filter(brand=brand).exclude(kind=ClaimKind.GS1_PREFIX).exists()


def test_viewer_cannot_submit_a_registration(viewer_client, brand):
    response = viewer_client.post(
        "/settings/registration/", {"registration_number": "1", "country": "MY", "evidence": certificate()}
    )
    assert response.status_code == 403
    assert not PrefixClaim.objects.filter(kind=ClaimKind.COMPANY_REGISTRATION).exists()


def test_staff_review_and_approve_a_registration_on_the_claims_page(staff, db):
    brand = BrandFactory(name="Herbs and Co", prefix="")
    claim = registration_claim(brand)
    listing = staff.get("/staff/claims/").content.decode()
    assert "Herbs and Co" in listing and "Company registration" in listing and "202401012345" in listing
    detail = staff.get(f"/staff/claims/{claim.pk}/").content.decode()
    assert "202401012345" in detail and "never for a GTIN" in detail
    assert staff.get(f"/staff/claims/{claim.pk}/evidence/").getvalue() == b"%PDF-1.4 SSM certificate"
    assert not services.is_registration_verified(brand)
    response = staff.post(f"/staff/claims/{claim.pk}/", {"decision": "approve", "note": "SSM record checked"})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.state == ClaimState.APPROVED and claim.note == "SSM record checked"
    assert services.is_registration_verified(brand)


def test_another_brand_cannot_download_a_registration_certificate(outsider_client, brand):
    claim = registration_claim(brand)
    assert outsider_client.get(f"/settings/prefixes/{claim.pk}/evidence/").status_code == 404


def test_an_approved_registration_never_lets_a_brand_register_a_gtin(db):
    brand = BrandFactory(prefix="")
    registration_claim(brand, approved=True)
    assert services.claim_covering(brand, "09506000134352") is None
    with pytest.raises(code_services.OrderError, match="not under a GS1 Company Prefix"):
        code_services.create_product(
            brand=brand, name="Balm", gtin="09506000134352", serial_alphabet="alnum", serial_length=12
        )


def test_approve_brand_command_approves_a_registration_in_one_step(db):
    brand = BrandFactory(slug="herbs", prefix="")
    call_command("approve_brand", "--brand", "herbs", "--registration", "202401012345", "--country", "MY")
    claim = PrefixClaim.objects.get(brand=brand)
    assert claim.kind == ClaimKind.COMPANY_REGISTRATION and claim.state == ClaimState.APPROVED
    assert services.is_registration_verified(brand) and not services.is_verified_for(brand, "09506000134352")
    call_command("approve_brand", "--brand", "herbs", "--registration", "202401012345", "--country", "my")
    assert PrefixClaim.objects.filter(brand=brand).count() == 1  # the same registration, approved once
    with pytest.raises(CommandError, match="country"):
        call_command("approve_brand", "--brand", "herbs", "--registration", "202401012345")


def test_a_rejected_registration_can_be_submitted_again_corrected(db):
    brand = BrandFactory(prefix="")
    services.reject_claim(claim=registration_claim(brand, number="20240101234"), note="Number does not match")
    assert registration_claim(brand, number="202401012345").state == ClaimState.PENDING


def test_a_brand_without_a_prefix_from_sign_up_to_an_authentic_scan(
    client, staff, eager_tasks, django_capture_on_commit_callbacks
):
    """Sign-up, "I have no GS1 prefix", the registration, an operator's approval, a product with no GTIN, an
    order, the worker's codes, and a scan that verifies authentic (page and JSON), never naming a GTIN."""
    sign_up(client, "founder@herbs.example", "Herbs and Co")
    brand = Brand.objects.get(name="Herbs and Co")
    assert "I have no GS1 prefix" in client.get("/settings/").content.decode()
    client.post(
        "/settings/registration/", {"registration_number": "202401012345", "country": "MY", "evidence": certificate()}
    )
    response = client.post(
        "/products/new/", {"name": "Herbal Balm", "identifier_kind": "brand_ref", "serial_alphabet": "alnum"}
    )
    product = Product.objects.get(brand=brand)
    assert response["Location"] == f"/products/{product.pk}/" and product.gtin is None
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/products/{product.pk}/batches/new/", {"lot_number": "L1", "quantity": 5})
    batch = CodeBatch.objects.get(product=product)
    assert batch.state == "ready"
    client.post(f"/batches/{batch.pk}/activate/", {})  # labels applied: the batch goes live
    code = batch.codes.order_by("ordinal").first()
    path = f"/p/{product.ref}/10/L1/21/{code.serial}"

    before = Client().get(path, HTTP_ACCEPT="application/json")
    assert before.status_code == 404 and before.json()["status"] == "unverified_brand"
    claim = PrefixClaim.objects.get(brand=brand)
    staff.post(f"/staff/claims/{claim.pk}/", {"decision": "approve", "note": ""})
    from scans.products import product_cache

    product_cache.clear()  # as another process sees it within PRODUCT_CACHE_SECONDS

    data = Client().get(path, HTTP_ACCEPT="application/json").json()
    assert data["authentic"] is True and data["product"]["gtin"] is None and data["product"]["ref"] == product.ref
    assert not any(re.search(r"gtin", key) and value == product.ref for key, value in data["product"].items())
    page = Client().get(path).content.decode()
    assert "Authentic" in page and product.ref in page and "GTIN" not in page
    assert any("Finish creating Herbs and Co" in m.subject for m in mail.outbox)


def test_a_registration_approved_for_one_brand_cannot_be_claimed_or_approved_for_another(db):
    verified, impostor = BrandFactory(name="Herbs and Co", prefix=""), BrandFactory(name="Herbs & Co", prefix="")
    early = registration_claim(impostor)  # submitted before the real brand was approved: stays pending
    registration_claim(verified, approved=True)
    with pytest.raises(services.ServiceError, match="another verified brand"):
        registration_claim(impostor, number="202401012345 ".upper())
    with pytest.raises(services.ServiceError, match="already approved for another brand"):
        services.approve_claim(claim=early)
    early.refresh_from_db()
    assert early.state == ClaimState.PENDING and not services.is_registration_verified(impostor)
