"""Approvals and branding reach every worker's next verify: the verify statement reads the brand's generation,
and a worker whose cached product is older reloads it (no waiting for the product cache to expire)."""

import json
import subprocess

import pytest
from django.test import Client

from brands import services as brand_services
from brands.models import PrefixClaim
from codes.models import Code
from scans.models import Scan
from tests.factories import BrandFactory, MembershipFactory, ProductFactory, ready_batch


def _code_of(brand):
    product = ProductFactory(brand=brand, gtin="09506000134352")
    return Code.objects.select_related("product").filter(batch=ready_batch(product, quantity=3, activated=True)).first()


def _verify(code):
    return Client().get(f"/01/{code.product.gtin}/21/{code.serial}", HTTP_ACCEPT="application/json").json()


@pytest.fixture
def pending_brand(db):
    brand = BrandFactory(name="Fresh Sdn Bhd", prefix="")
    brand_services.claim_prefix(brand=brand, prefix="9506000")
    return brand


def test_approval_reaches_a_worker_that_cached_the_product_as_unverified(pending_brand):
    code = _code_of(pending_brand)
    assert _verify(code)["status"] == "unverified_brand"  # cached in this process as not verified
    brand_services.approve_claim(claim=PrefixClaim.objects.get(brand=pending_brand))  # no cache cleared
    data = _verify(code)
    assert data["authentic"] is True and data["first_scan"] is True
    assert list(Scan.objects.order_by("pk").values_list("outcome", flat=True)) == ["unverified_brand", "authentic"]


def test_a_rename_reaches_a_worker_that_cached_the_old_name(owner_client, brand):
    code = _code_of(brand)
    assert _verify(code)["product"]["brand"] == brand.name
    response = owner_client.post("/settings/", {"name": "Renamed Brand", "colour": "#aa3300", "consumer_message": ""})
    assert response.status_code == 302
    assert _verify(code)["product"]["brand"] == "Renamed Brand"
    page = Client().get(f"/01/{code.product.gtin}/21/{code.serial}").content.decode()
    brand.refresh_from_db()
    assert "Renamed Brand" in page and f"theme.css?v={brand.verify_generation}" in page  # phones fetch the new colour


def test_a_rejected_claim_reaches_a_worker_that_cached_the_brand_as_verified(pending_brand):
    claim = PrefixClaim.objects.get(brand=pending_brand)
    brand_services.approve_claim(claim=claim)
    code = _code_of(pending_brand)
    assert _verify(code)["authentic"] is True
    brand_services.reject_claim(claim=claim, note="Licence withdrawn")
    assert _verify(code)["status"] == "unverified_brand"
    assert Scan.objects.order_by("pk").last().outcome == "unverified_brand"


def test_an_unverified_brands_scan_stays_one_statement(pending_brand, django_assert_num_queries):
    code = _code_of(pending_brand)
    _verify(code)
    with django_assert_num_queries(1):  # the log INSERT, made only while the brand's generation is unchanged
        assert _verify(code)["status"] == "unverified_brand"


@pytest.mark.django_db(transaction=True)
def test_branding_and_approval_reach_every_gunicorn_worker_at_once(tmp_path):
    """Two real workers forked from a master that cached the product: a change made elsewhere shows in the very
    next verify, whichever worker answers, long before the product cache would expire."""
    from tests.processes import ROOT, wait_for
    from tests.test_serving import _listening, fetch, free_port, serve_env

    brand = BrandFactory(name="Fresh Sdn Bhd", prefix="")
    MembershipFactory(brand=brand)
    brand_services.claim_prefix(brand=brand, prefix="9506000")
    code = _code_of(brand)
    ready_batch(code.product, quantity=1, activated=True)  # the master caches products of recent ready batches
    port = free_port()
    log_file = tmp_path / "serve.log"
    url = f"http://127.0.0.1:{port}/01/{code.product.gtin}/21/{code.serial}"
    with log_file.open("w") as log:
        server = subprocess.Popen(  # noqa: S603
            ["bash", "bin/serve"],  # noqa: S607
            cwd=ROOT,
            env=serve_env(tmp_path, port, WEB_CONCURRENCY="2"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: server.poll() is not None or _listening(port), 120)
            wait_for(lambda: server.poll() is not None or log_file.read_text().count("Booting worker") >= 2, 60)
            assert server.poll() is None, log_file.read_text()[-3000:]

            def answers():
                return [json.loads(fetch(url, Accept="application/json")[1]) for _ in range(8)]

            assert {a["status"] for a in answers()} == {"unverified_brand"}
            brand_services.approve_claim(claim=PrefixClaim.objects.get(brand=brand))
            assert {a["authentic"] for a in answers()} == {True}
            brand.name = "Renamed Sdn Bhd"
            brand.save(update_fields=["name"])
            brand_services.note_verify_change(brand_id=brand.pk)
            assert {a["product"]["brand"] for a in answers()} == {"Renamed Sdn Bhd"}
        finally:
            server.terminate()
            server.wait(20)
    assert '"message": "products cached"' in log_file.read_text()
