"""A GS1 Company Prefix's SSCC series is granted only under an approved claim of it, as its GTINs are."""

import pytest

from brands.models import ClaimState, PrefixClaim, Role
from distributors import services
from distributors.models import Carton, SsccCounter
from tests.factories import BrandFactory, MembershipFactory, ProductFactory, logged_in_client, ready_batch

PREFIX = "9506000"


@pytest.fixture
def squatter(db):
    """A brand whose claim of the example prefix is pending: it may print trials, never take the SSCC series."""
    brand = BrandFactory(prefix="")
    PrefixClaim.objects.create(brand=brand, prefix=PREFIX, state=ClaimState.PENDING)
    return brand


def _pack(batch, prefix=PREFIX):
    return services.pack_cartons(batch=batch, size=10, company_prefix=prefix, first_position=1, last_position=10)


def test_a_brand_without_an_approved_claim_cannot_take_a_prefixs_sscc_series(squatter):
    batch = ready_batch(ProductFactory(brand=squatter, gtin="09506000134352"), quantity=10)
    with pytest.raises(services.DistributorError, match="approved") as refused:
        _pack(batch)
    assert refused.value.field == "company_prefix"
    assert not SsccCounter.objects.exists() and not Carton.objects.exists()


def test_the_owner_gets_its_series_though_an_unapproved_brand_tried_first(squatter, brand):
    with pytest.raises(services.DistributorError):
        _pack(ready_batch(ProductFactory(brand=squatter, gtin="09506000134383"), quantity=10))
    cartons = _pack(ready_batch(ProductFactory(brand=brand, gtin="09506000134352"), quantity=10))
    assert len(cartons) == 1 and SsccCounter.objects.get().brand == brand


def test_a_longer_prefix_under_an_approved_claim_is_granted(brand):
    batch = ready_batch(ProductFactory(brand=brand, gtin="09506000134352"), quantity=10)
    assert _pack(batch, prefix="950600013435")[0].sscc[1:13] == "950600013435"


def test_the_pack_page_says_why_an_unapproved_prefix_is_refused(squatter):
    batch = ready_batch(ProductFactory(brand=squatter, gtin="09506000134352"), quantity=10)
    client = logged_in_client(MembershipFactory(brand=squatter, role=Role.OWNER))
    data = {"first_position": 1, "last_position": 10, "size": 10, "company_prefix": PREFIX, "extension": 0}
    response = client.post(f"/batches/{batch.pk}/cartons/pack/", data)
    assert "approved" in " ".join(response.context["pack_form"].errors["company_prefix"])
    assert not Carton.objects.exists()


def test_without_a_named_prefix_ssccs_go_under_the_approved_claim_covering_the_gtin(brand):
    batch = ready_batch(ProductFactory(brand=brand, gtin="09506000134352"), quantity=10)
    carton = services.pack_cartons(batch=batch, size=10, first_position=1, last_position=10)[0]
    assert carton.sscc[1:8] == PREFIX


def test_without_a_named_prefix_a_merely_pending_claim_gives_no_ssccs(squatter):
    batch = ready_batch(ProductFactory(brand=squatter, gtin="09506000134352"), quantity=10)
    with pytest.raises(services.DistributorError, match="name the prefix") as refused:
        services.pack_cartons(batch=batch, size=10, first_position=1, last_position=10)
    assert refused.value.field == "company_prefix" and not Carton.objects.exists()
