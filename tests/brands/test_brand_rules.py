"""A brand's own rules (names without control characters, a colour the verify page can use, a known plan) and
its effects (the verify page's cache, the look-alike check) live in the service: the settings page and the
Django admin both go through it."""

import pytest

from brands import services
from brands.models import Brand, ClaimState, PrefixClaim
from tests.factories import BrandFactory, UserFactory, verified_client


@pytest.fixture
def staff(db):
    return verified_client(UserFactory(is_staff=True, is_superuser=True))


def _admin_brand(brand, **changes) -> dict:
    data = {
        "name": brand.name,
        "slug": brand.slug,
        "colour": brand.colour,
        "consumer_message": brand.consumer_message,
        "plan": brand.plan,
        "activation": brand.activation,
        "lookalike_of": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    return {**data, **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"name": "Rival\nBcc: victim@example.com"}, "name"), ({"colour": "red"}, "colour"), ({"plan": "gold"}, "plan")],
)
def test_the_service_refuses_brand_fields_the_rules_forbid(brand, changes, field):
    with pytest.raises(services.ServiceError) as refused:
        services.update_brand(brand=brand, changes=changes)
    assert refused.value.field == field
    assert Brand.objects.get(pk=brand.pk).name == brand.name


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"name": "Rival\nBcc: victim@example.com"}, "no line breaks"),
        ({"colour": "red"}, "#1f6feb"),
        ({"plan": "gold"}, "Choose one of the plans"),
    ],
)
def test_the_admin_refuses_brand_fields_the_rules_forbid(staff, brand, changes, why):
    response = staff.post(f"/admin/brands/brand/{brand.pk}/change/", _admin_brand(brand, **changes), follow=True)
    assert why in response.content.decode()
    fresh = Brand.objects.get(pk=brand.pk)
    assert (fresh.name, fresh.colour, fresh.plan) == (brand.name, brand.colour, brand.plan)


def test_the_admin_cannot_add_a_brand_whose_name_breaks_mails(staff):
    data = {**_admin_brand(Brand(name="x", slug="x")), "name": "Evil\r\nBrand", "slug": "evil"}
    staff.post("/admin/brands/brand/add/", data)
    assert not Brand.objects.filter(slug="evil").exists()
    assert staff.post("/admin/brands/brand/add/", {**data, "name": "Good Brand"}).status_code == 302
    assert Brand.objects.filter(slug="evil", name="Good Brand").exists()


def test_a_rename_in_the_admin_refreshes_the_verify_page_and_checks_for_lookalikes(staff, db):
    original = BrandFactory(name="Alpha Company")
    PrefixClaim.objects.filter(brand=original).update(state=ClaimState.APPROVED)
    other = BrandFactory(name="Zeta")
    response = staff.post(f"/admin/brands/brand/{other.pk}/change/", _admin_brand(other, name="Alpha Co"))
    other.refresh_from_db()
    assert response.status_code == 302 and other.name == "Alpha Co"
    assert other.lookalike_of == original and other.verify_generation == 1


def test_the_settings_page_saves_through_the_service(owner_client, brand):
    response = owner_client.post("/settings/", {"name": brand.name, "colour": "#zz0000"})
    assert response.status_code == 200 and "colour" in response.context["form"].errors
    assert owner_client.post("/settings/", {"name": "Renamed", "colour": "#aa3300"}).status_code == 302
    brand.refresh_from_db()
    assert (brand.name, brand.colour, brand.verify_generation) == ("Renamed", "#aa3300", 1)


def test_the_signup_service_refuses_a_weak_password(db):
    with pytest.raises(services.ServiceError) as refused:
        services.finish_signup(email="new@example.com", brand_name="New", password="123")
    assert refused.value.field == "password" and not Brand.objects.filter(name="New").exists()


def test_the_service_refuses_a_brand_name_that_breaks_mails(db):
    owner = UserFactory()
    with pytest.raises(services.ServiceError) as refused:
        services.create_brand(name="New\nBcc: x@example.com", owner=owner)
    assert refused.value.field == "name" and not Brand.objects.filter(memberships__user=owner).exists()
