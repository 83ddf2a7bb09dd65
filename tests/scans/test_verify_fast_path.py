"""A JSON verify skips the middleware it cannot use, and keeps what a client relies on."""

import pytest
from django.test import Client

from codes.models import Code
from tests.factories import ProductFactory, ready_batch
from tests.scans.test_verify import KUALA_LUMPUR_IP, qr_path


@pytest.fixture
def code(brand):
    batch = ready_batch(ProductFactory(brand=brand, gtin="09506000134352"), quantity=3, activated=True)
    return Code.objects.select_related("batch__lot", "product").filter(batch=batch).first()


RECALLED_MS = "Produk ini telah ditarik balik"


def test_json_verify_answers_in_the_clients_language_and_says_it_varies(code):
    from codes.models import CodeStatus

    Code.objects.filter(pk=code.pk).update(status=CodeStatus.RECALLED)
    response = Client().get(
        qr_path(code), HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="ms", REMOTE_ADDR=KUALA_LUMPUR_IP
    )
    data = response.json()
    assert data["status"] == "recalled" and data["warnings"][0]["code"] == "recalled"
    assert data["warnings"][0]["message"].startswith(RECALLED_MS[:12])
    assert response["Content-Language"] == "ms" and "Accept-Language" in response["Vary"]
    assert response["X-Content-Type-Options"] == "nosniff" and response["Cache-Control"] == "no-store"


def test_json_verify_sets_no_session_and_carries_no_page_headers(code):
    response = Client().get(qr_path(code), HTTP_ACCEPT="application/json", REMOTE_ADDR=KUALA_LUMPUR_IP)
    assert response.status_code == 200 and "sessionid" not in response.cookies
    assert "Content-Security-Policy" not in response and "X-Frame-Options" not in response


def test_json_verify_still_checks_the_host(code):
    response = Client(raise_request_exception=False).get(
        qr_path(code), HTTP_ACCEPT="application/json", HTTP_HOST="evil.example"
    )
    assert response.status_code == 400


def test_page_view_keeps_the_whole_stack(code):
    response = Client().get(qr_path(code), REMOTE_ADDR=KUALA_LUMPUR_IP)
    assert response.status_code == 200 and "Content-Security-Policy" in response and "X-Frame-Options" in response
