"""A brand's first week: it is told its prefix awaits approval, sees its plan's limits before ordering, and
finds its account and its brand's short name."""

import pytest
from django.test import Client

from brands import services
from brands.models import Brand, PrefixClaim
from tests.factories import BrandFactory, MembershipFactory, ProductFactory, ready_batch, sign_up

BANNER = 'id="unverified-banner"'


@pytest.fixture
def new_owner_client(db):
    client = Client()
    sign_up(client, "founder@fresh.example", "Fresh Sdn Bhd")
    return client


def _brand():
    return Brand.objects.get(name="Fresh Sdn Bhd")


def _prefix_step(client) -> str:
    page = client.get("/dashboard/").content.decode()
    assert 'id="prefix-step"' in page and "/settings/#prefixes" in page
    return page.split('id="prefix-state">')[1].split("<")[0]


def test_start_here_lists_claiming_the_prefix_with_its_state(new_owner_client):
    assert _prefix_step(new_owner_client) == "not claimed"
    services.claim_prefix(brand=_brand(), prefix="9506000")
    assert _prefix_step(new_owner_client) == "awaiting approval"
    services.reject_claim(claim=PrefixClaim.objects.get(brand=_brand()), note="Not your licence")
    assert _prefix_step(new_owner_client) == "rejected"
    services.claim_prefix(brand=_brand(), prefix="9521234")
    services.approve_claim(claim=PrefixClaim.objects.get(brand=_brand(), prefix="9521234"))
    assert _prefix_step(new_owner_client) == "approved"


def test_product_order_and_batch_pages_say_consumers_see_not_yet_verified(new_owner_client):
    brand = _brand()
    services.claim_prefix(brand=brand, prefix="9506000")
    product = ProductFactory(brand=brand, gtin="09506000134352")
    batch = ready_batch(product, quantity=2)
    paths = (f"/products/{product.pk}/", f"/products/{product.pk}/batches/new/", f"/batches/{batch.pk}/")
    for path in paths:
        page = new_owner_client.get(path).content.decode()
        assert BANNER in page and "Not yet verified brand" in page and "awaiting approval" in page, path
    dashboard = new_owner_client.get("/dashboard/").content.decode()
    assert BANNER in dashboard  # past Start here, the dashboard keeps saying it
    services.approve_claim(claim=PrefixClaim.objects.get(brand=brand))
    for path in (*paths, "/dashboard/"):
        assert BANNER not in new_owner_client.get(path).content.decode(), path


def test_a_verified_brands_pages_carry_no_banner(owner_client, brand):
    product = ProductFactory(brand=brand)
    assert BANNER not in owner_client.get(f"/products/{product.pk}/").content.decode()


def test_order_form_shows_the_trial_limits_before_ordering(new_owner_client):
    brand = _brand()
    product = ProductFactory(brand=brand, gtin="09506000134352")
    page = new_owner_client.get(f"/products/{product.pk}/batches/new/").content.decode()
    assert "<strong>Trial</strong> plan" in page and "<strong>50,000</strong> codes" in page
    assert "<strong>100,000</strong> codes left this month" in page
    ready_batch(product, quantity=60)  # a small batch counts against the month
    page = new_owner_client.get(f"/products/{product.pk}/batches/new/").content.decode()
    assert "<strong>99,940</strong> codes left this month" in page


def test_order_form_of_an_unlimited_plan_says_so(owner_client, brand):
    product = ProductFactory(brand=brand)
    page = owner_client.get(f"/products/{product.pk}/batches/new/").content.decode()
    assert "no limit on batches or codes a month" in page


def test_verification_state_is_the_best_claim(db):
    brand = BrandFactory(prefix="")
    assert services.verification_state(brand) == "not_claimed"
    MembershipFactory(brand=brand)
    services.claim_prefix(brand=brand, prefix="9506000")
    assert services.verification_state(brand) == "pending"
    assert services.unverified_notice(brand, "09506000134352") == "pending"
    services.approve_claim(claim=PrefixClaim.objects.get(brand=brand))
    assert services.verification_state(brand) == "approved"
    assert services.unverified_notice(brand, "09506000134352") is None
    assert services.unverified_notice(brand, "04006381333931") == "approved"  # outside the approved prefix
