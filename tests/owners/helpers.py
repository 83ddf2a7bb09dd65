"""A live unit of a brand with a privacy notice, its verify page and its registration link."""

import re

from django.test import Client

from codes.models import Code
from tests.factories import ProductFactory, ready_batch
from tests.scans.test_verify import IPHONE, KUALA_LUMPUR_IP, qr_path

NOTICE = "https://acme.example.com/privacy"
ANSWERS = {"consent_warranty": "yes", "consent_safety": "yes", "consent_marketing": "no"}


def live_units(brand, *, quantity=2, warranty_months=24, notice=NOTICE):
    if brand.privacy_notice_url != notice:
        brand.privacy_notice_url = notice
        brand.save(update_fields=["privacy_notice_url"])
    product = ProductFactory(brand=brand, name="Vitamin C 1000", warranty_months=warranty_months)
    batch = ready_batch(product, quantity=quantity, activated=True)
    return list(Code.objects.select_related("batch__lot", "product").filter(batch=batch).order_by("ordinal"))


def verify_page(code, language="en", ip=KUALA_LUMPUR_IP, status=200) -> str:
    response = Client().get(qr_path(code), HTTP_ACCEPT_LANGUAGE=language, REMOTE_ADDR=ip, HTTP_USER_AGENT=IPHONE)
    assert response.status_code == status
    return response.content.decode()


def register_link(page: str) -> str | None:
    found = re.search(r'href="(/register/[^"]+/)"', page)
    return found.group(1) if found else None


def link_of(code) -> str:
    link = register_link(verify_page(code))
    assert link, "the verify page of a live unit offers registration"
    return link


def register(link, *, language="en", ip=KUALA_LUMPUR_IP, **fields):
    data = {"name": "Siti Aminah", "email": "siti@example.my", "phone": "", **ANSWERS, **fields}
    data = {name: value for name, value in data.items() if value is not None}
    return Client().post(link, data, HTTP_ACCEPT_LANGUAGE=language, REMOTE_ADDR=ip, HTTP_USER_AGENT=IPHONE)
