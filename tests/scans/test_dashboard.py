from django.test import Client

from scans.models import CounterfeitReport
from tests.factories import ProductFactory, ready_batch


def scan_code_of(product, ip="175.139.1.1"):
    code = product.batches.get().codes.order_by("ordinal").first()
    Client().get(f"/01/{product.gtin}/21/{code.serial}", REMOTE_ADDR=ip)
    return code


def test_scan_list_shows_own_scans_with_place(owner_client, brand):
    code = scan_code_of(ready_batch(ProductFactory(brand=brand), quantity=3, activated=True).product)
    page = owner_client.get("/scans/").content.decode()
    assert code.serial in page and "Kuala Lumpur" in page


def test_scan_list_hides_other_brands_scans(owner_client, other_brand):
    code = scan_code_of(ready_batch(ProductFactory(brand=other_brand), quantity=3, activated=True).product)
    assert code.serial not in owner_client.get("/scans/").content.decode()


def test_report_list_shows_only_own_reports(owner_client, brand, other_brand):
    CounterfeitReport.objects.create(brand=brand, where_bought="Pasar malam Jalan Alor")
    CounterfeitReport.objects.create(brand=other_brand, where_bought="Rival's market")
    page = owner_client.get("/reports/").content.decode()
    assert "Pasar malam" in page and "Rival" not in page


def test_viewer_can_read_scans(viewer_client):
    assert viewer_client.get("/scans/").status_code == 200


def test_report_photo_is_served_to_the_brand_only(owner_client, outsider_client, brand):
    from tests.factories import counterfeit_report_with_photo, png_bytes

    report = counterfeit_report_with_photo(brand)
    response = owner_client.get(f"/reports/{report.pk}/photo/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == png_bytes()
    assert outsider_client.get(f"/reports/{report.pk}/photo/").status_code == 404
    assert f"/reports/{report.pk}/photo/" in owner_client.get("/reports/").content.decode()


def test_brand_logo_is_public_on_the_verify_page(client, brand):
    from django.core.files.base import ContentFile

    from tests.factories import png_bytes

    brand.logo.save("logo.png", ContentFile(png_bytes()))
    response = client.get(f"/brands/{brand.slug}/logo")
    assert response.status_code == 200 and b"".join(response.streaming_content) == png_bytes()
    assert client.get("/brands/no-such-brand/logo").status_code == 404
