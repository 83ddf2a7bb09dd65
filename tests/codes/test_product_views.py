from codes.models import Product
from tests.factories import ProductFactory, ready_batch


def test_product_list_works(owner_client, brand):
    ProductFactory(brand=brand, name="Vitamin C")
    assert "Vitamin C" in owner_client.get("/products/").content.decode()


def test_product_list_shows_only_own_brand(owner_client, other_brand):
    ProductFactory(brand=other_brand, name="Rival serum")
    assert "Rival serum" not in owner_client.get("/products/").content.decode()


def test_admin_creates_product_with_gtin_normalised_to_14_digits(owner_client, brand):
    response = owner_client.post(
        "/products/new/", {"name": "Zinc", "gtin": "9506000134352", "serial_alphabet": "alnum"}
    )
    product = Product.objects.get(name="Zinc")
    assert response.status_code == 302 and product.gtin == "09506000134352"
    assert product.brand == brand and product.serial_length == 12 and product.key.brand == brand


def test_wrong_check_digit_is_a_form_error_naming_the_gtin(owner_client):
    response = owner_client.post(
        "/products/new/", {"name": "Zinc", "gtin": "9506000134353", "serial_alphabet": "alnum"}
    )
    assert response.status_code == 200
    assert "check digit" in response.context["form"].errors["gtin"][0]
    assert not Product.objects.exists()


def test_gtin_of_another_brand_is_refused(owner_client, other_brand):
    ProductFactory(brand=other_brand, gtin="09506000134352")
    response = owner_client.post(
        "/products/new/", {"name": "Zinc", "gtin": "09506000134352", "serial_alphabet": "alnum"}
    )
    assert "another brand" in response.context["form"].errors["gtin"][0]


def test_too_short_serial_format_is_refused(owner_client):
    response = owner_client.post(
        "/products/new/", {"name": "Zinc", "gtin": "09506000134352", "serial_alphabet": "numeric", "serial_length": "5"}
    )
    assert "serial_length" in response.context["form"].errors


def test_viewer_cannot_create_products(viewer_client):
    response = viewer_client.post(
        "/products/new/", {"name": "Zinc", "gtin": "09506000134352", "serial_alphabet": "alnum"}
    )
    assert response.status_code == 403 and not Product.objects.exists()


def test_serial_format_is_frozen_once_codes_exist(owner_client, brand):
    product = ProductFactory(brand=brand)
    ready_batch(product, quantity=3)
    owner_client.post(
        f"/products/{product.pk}/edit/",
        {"name": "Renamed", "gtin": "00000000000000", "serial_alphabet": "numeric", "serial_length": "15"},
    )
    product.refresh_from_db()
    assert product.name == "Renamed" and product.serial_alphabet == "alnum" and product.gtin != "00000000000000"


def test_editing_a_product_never_writes_back_a_stale_counter(brand):
    """A batch ordered while the edit form was open must keep its ordinals; codes must not be issued twice."""
    from codes import services
    from codes.models import CodeBatch

    product = ProductFactory(brand=brand)
    first = ready_batch(product, quantity=10)
    stale = Product.objects.get(pk=product.pk)  # what an edit form loaded before the next order
    second = ready_batch(product, quantity=10)
    services.update_product(product=stale, changes={"name": "Renamed"})
    product.refresh_from_db()
    assert product.name == "Renamed" and product.next_ordinal == 20
    third = ready_batch(product, quantity=5)
    assert [
        b.first_ordinal for b in CodeBatch.objects.filter(pk__in=[first.pk, second.pk, third.pk]).order_by("pk")
    ] == [0, 10, 20]


def test_gtin_pasted_with_spaces_is_accepted(owner_client):
    owner_client.post("/products/new/", {"name": "Zinc", "gtin": "0 9506000 13435 2", "serial_alphabet": "alnum"})
    assert Product.objects.get().gtin == "09506000134352"
