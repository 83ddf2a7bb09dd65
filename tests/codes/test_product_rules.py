"""Every product and lot rule holds in the service, so the Django admin (which saves through it) keeps it too."""

from datetime import date, timedelta

import pytest

from codes import services
from codes.models import Lot, Product
from tests.factories import LotFactory, ProductFactory, UserFactory, ready_batch, ref_product, verified_client


@pytest.fixture
def staff(db):
    return verified_client(UserFactory(is_staff=True, is_superuser=True))


def _admin_product(product, **changes) -> dict:
    data = {
        "name": product.name,
        "variant": product.variant,
        "gtin": product.gtin or "",
        "ndc": product.ndc,
        "serial_alphabet": product.serial_alphabet,
        "serial_length": product.serial_length,
    }
    return {**data, **changes}


def test_the_service_refuses_a_new_serial_format_once_codes_exist(brand):
    product = ProductFactory(brand=brand)
    ready_batch(product, quantity=3)
    with pytest.raises(services.OrderError) as refused:
        services.update_product(product=product, changes={"serial_alphabet": "numeric", "serial_length": 15})
    assert refused.value.field == "serial_alphabet"
    product.refresh_from_db()
    assert (product.serial_alphabet, product.serial_length) == ("alnum", 12)


def test_the_admin_cannot_change_a_printed_products_serial_format(staff, brand):
    product = ProductFactory(brand=brand)
    ready_batch(product, quantity=3)
    url = f"/admin/codes/product/{product.pk}/change/"
    response = staff.post(url, _admin_product(product, serial_alphabet="numeric", serial_length="15"), follow=True)
    product.refresh_from_db()
    assert (product.serial_alphabet, product.serial_length) == ("alnum", 12)
    assert "has codes already" in response.content.decode()


def test_the_service_refuses_a_new_gtin_once_codes_exist(brand):
    product = ProductFactory(brand=brand)
    gtin = product.gtin
    ready_batch(product, quantity=3)
    with pytest.raises(services.OrderError) as refused:
        services.update_product(product=product, changes={"gtin": "09506000134352"})
    assert refused.value.field == "gtin"
    product.refresh_from_db()
    assert product.gtin == gtin


def test_the_admin_cannot_rekey_a_printed_product(staff, brand):
    product = ProductFactory(brand=brand)
    gtin = product.gtin
    ready_batch(product, quantity=3)
    staff.post(f"/admin/codes/product/{product.pk}/change/", _admin_product(product, gtin="09506000134352"))
    product.refresh_from_db()
    assert product.gtin == gtin


def test_the_admin_still_renames_a_printed_product(staff, brand):
    product = ProductFactory(brand=brand)
    ready_batch(product, quantity=3)
    response = staff.post(f"/admin/codes/product/{product.pk}/change/", _admin_product(product, name="Renamed"))
    product.refresh_from_db()
    assert response.status_code == 302 and product.name == "Renamed" and product.next_ordinal == 3


def test_a_ref_product_with_codes_may_still_be_given_a_gtin_by_the_service(brand):
    product = ref_product(brand)
    ready_batch(product, quantity=2)
    assert services.update_product(product=product, changes={"gtin": "09506000134352"}).gtin == "09506000134352"


def test_the_service_refuses_a_serial_format_too_small_to_be_safe(brand):
    with pytest.raises(services.OrderError) as refused:
        services.create_product(
            brand=brand, name="Zinc", gtin="09506000134352", serial_alphabet="numeric", serial_length=5
        )
    assert refused.value.field == "serial_length" and not Product.objects.exists()


def test_the_admin_creates_products_through_the_service(staff, brand):
    data = {"brand": brand.pk, "name": "Zinc", "gtin": "09506000134352", "serial_alphabet": "numeric"}
    staff.post("/admin/codes/product/add/", {**data, "serial_length": "5"})
    assert not Product.objects.exists()
    assert staff.post("/admin/codes/product/add/", {**data, "serial_length": "13"}).status_code == 302
    product = Product.objects.get()
    assert product.key.brand == brand and product.serial_length == 13


def test_the_admin_cannot_register_a_gtin_under_a_prefix_the_brand_never_claimed(staff, db):
    from tests.factories import BrandFactory

    impostor = BrandFactory(prefix="")
    data = {"brand": impostor.pk, "name": "Zinc", "gtin": "09506000134352", "serial_alphabet": "alnum"}
    response = staff.post("/admin/codes/product/add/", {**data, "serial_length": "12"}, follow=True)
    assert not Product.objects.exists() and "not under a GS1 Company Prefix" in response.content.decode()


@pytest.mark.parametrize(
    ("number", "expires_on", "field"),
    [
        ("L 1#", None, "lot"),  # outside GS1's character set 82
        ("L" * 21, None, "lot"),
        ("L1", date.today() - timedelta(days=2), "expiry"),
        ("L1", date(2080, 1, 31), "expiry"),  # AI (17)'s two-digit year would read it back as 1980
    ],
)
def test_the_ordering_service_refuses_a_lot_labels_cannot_carry(brand, number, expires_on, field):
    product = ProductFactory(brand=brand)
    with pytest.raises(services.OrderError) as refused:
        services.get_or_create_lot(product=product, number=number, expires_on=expires_on)
    assert refused.value.field == field and not Lot.objects.exists()


@pytest.mark.parametrize(
    ("number", "expires_on", "why"),
    [
        ("L 1#", "", "GS1 character set 82"),
        ("L1", (date.today() - timedelta(days=2)).isoformat(), "in the past"),
        ("L1", "2080-01-31", "two-digit year"),
    ],
)
def test_the_admin_cannot_add_a_lot_labels_cannot_carry(staff, brand, number, expires_on, why):
    product = ProductFactory(brand=brand)
    data = {"product": product.pk, "number": number, "expires_on": expires_on, "manufactured_on": ""}
    response = staff.post("/admin/codes/lot/add/", data, follow=True)
    assert not Lot.objects.exists() and why in response.content.decode()


def test_the_admin_cannot_move_a_lots_expiry_into_the_past(staff, brand):
    lot = LotFactory(product=ProductFactory(brand=brand))
    past = (date.today() - timedelta(days=2)).isoformat()
    staff.post(f"/admin/codes/lot/{lot.pk}/change/", {"expires_on": past, "manufactured_on": ""})
    lot.refresh_from_db()
    assert lot.expires_on == date(2030, 12, 31)


def test_the_admin_adds_a_good_lot(staff, brand):
    product = ProductFactory(brand=brand)
    data = {"product": product.pk, "number": " L1 ", "expires_on": "2030-01-31", "manufactured_on": ""}
    assert staff.post("/admin/codes/lot/add/", data).status_code == 302
    assert Lot.objects.get().number == "L1"
