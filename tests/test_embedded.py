"""The embedded mode a newcomer starts with (`bash bin/run`): SQLite, a worker on a broker that needs no server,
codes that point at the address it serves on.

Tests marked `sqlite` run in-process on SQLite, in bin/test's second pass (DATABASE_URL unset); the others run
the app in subprocesses with the embedded environment, from the main pass.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from codes.models import Code
from scans.models import Scan
from tests.factories import ProductFactory, ready_batch
from tests.processes import wait_for

ROOT = Path(__file__).resolve().parent.parent
NO_PLACE_IP = "10.1.2.3"  # a private address: the scan has no place until the phone shares one
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


def embedded_env(var_dir, **extra) -> dict:
    unset = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "MASTER_KEY", "ALLOWED_HOSTS", "VERIFY_BASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(VAR_DIR=str(var_dir), **extra)
    return env


def python(code: str, env: dict, timeout: float = 120) -> str:
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + textwrap.dedent(code)],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "serialize_saas.settings"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip()


@pytest.mark.embedded
def test_printed_codes_point_at_the_address_served_unless_verify_base_url_says_otherwise(tmp_path):
    show = "from django.conf import settings; print(settings.VERIFY_BASE_URL)"
    assert python(show, embedded_env(tmp_path, BIND="127.0.0.1:8765")) == "http://127.0.0.1:8765"
    assert python(show, embedded_env(tmp_path, BIND="0.0.0.0:9000")) == "http://127.0.0.1:9000"
    assert python(show, embedded_env(tmp_path)) == "http://127.0.0.1:8000"
    env = embedded_env(tmp_path, BIND="127.0.0.1:8765", VERIFY_BASE_URL="https://v.example.com/")
    assert python(show, env) == "https://v.example.com"


@pytest.mark.embedded
def test_embedded_worker_generates_an_ordered_batch_outside_the_request(tmp_path):
    env = embedded_env(tmp_path)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "serialize_saas", "worker", "--pool", "solo", "--without-mingle"]
        + ["--without-gossip", "-l", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        ordered = python(
            """
            from brands.models import User
            from brands.services import create_brand
            from codes import services
            from brands.services import approve_brand_prefix
            brand = create_brand(name="Embedded", owner=User.objects.create_user("e@example.com", "x"), slug="emb")
            approve_brand_prefix(brand=brand, prefix="9506000")  # the operator's step for a new brand
            product = services.create_product(brand=brand, name="Tea", variant="", gtin="09506000134352",
                                              serial_alphabet="alnum", serial_length=12)
            lot = services.get_or_create_lot(product=product, number="L1", expires_on=None)
            batch = services.order_batch(product=product, lot=lot, quantity=20_000)  # enqueued, not run here
            print(batch.pk, batch.state)
            """,
            env,
        )
        batch_id, state = ordered.split()
        assert state == "queued"  # the request would have returned at once
        check = f"from codes.models import CodeBatch; b = CodeBatch.objects.get(pk={batch_id}); print(b.state)"
        wait_for(lambda: python(check, env) == "ready", timeout=120, interval=1)
        assert python("from codes.models import Code; print(Code.objects.count())", env) == "20000"
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(20)


on_sqlite = pytest.mark.sqlite


def verify(path, ip=NO_PLACE_IP):
    return Client().get(path, REMOTE_ADDR=ip, HTTP_USER_AGENT=PHONE)


@on_sqlite
def test_tests_of_this_pass_run_on_sqlite(db):
    assert connection.vendor == "sqlite"


@on_sqlite
def test_gps_share_becomes_the_codes_first_place_and_a_repeat_scan_says_so(db):
    product = ProductFactory(gtin="09506000134352")
    code = Code.objects.filter(batch=ready_batch(product, quantity=3, activated=True)).order_by("ordinal").first()
    first = verify(f"/01/{product.gtin}/21/{code.serial}")
    assert "Authentic. First scan." in first.content.decode()
    confirmed = Client().post("/verify/confirm/", {"token": first.context["confirm_token"]}, HTTP_USER_AGENT=PHONE)
    assert confirmed.json()["counted"] is True  # the page's script: a person opened it
    located = Client().post(
        "/verify/locate/", {"token": first.context["locate_token"], "lat": "1.4927", "lon": "103.7414"}
    )
    assert located.json()["located"] is True
    assert Code.objects.get(pk=code.pk).first_scanned_in.endswith(", MY")
    again = verify(f"/01/{product.gtin}/21/{code.serial}").content.decode()
    assert "First verified on" in again and "Johor" in again and "scanned 2 times" in again
    assert list(Scan.objects.order_by("pk").values_list("region_code", flat=True)) == ["MY-01", ""]
    assert Code.objects.get(pk=code.pk).first_scanned_at == Scan.objects.order_by("pk").first().scanned_at


@on_sqlite
def test_a_code_not_yet_activated_answers_so_uncounted_until_its_batch_is_activated(db):
    from tests.factories import activate

    product = ProductFactory(gtin="09506000134352")
    batch = ready_batch(product, quantity=3)
    code = Code.objects.filter(batch=batch).order_by("ordinal").first()
    path = f"/01/{product.gtin}/21/{code.serial}"
    before = Client().get(path, REMOTE_ADDR=NO_PLACE_IP, HTTP_USER_AGENT=PHONE, HTTP_ACCEPT="application/json")
    assert (before.json()["authentic"], before.json()["status"]) == (False, "not_activated")
    assert "Not yet activated" in verify(path).content.decode()
    assert Code.objects.get(pk=code.pk).scan_count == 0
    assert list(Scan.objects.values_list("outcome", flat=True)) == ["not_activated", "not_activated"]
    activate(batch)
    assert "Authentic. First scan." in verify(path).content.decode()


@on_sqlite
def test_a_trading_partners_request_is_answered_logged_and_leaves_the_first_scan_on_sqlite(db):
    from brands.apikeys import create_api_key
    from vrs.models import VrsRequest

    product = ProductFactory(gtin="09506000134352")
    code = Code.objects.filter(batch=ready_batch(product, quantity=3, activated=True)).order_by("ordinal").first()
    _key, raw = create_api_key(brand=product.brand, name="Wholesaler", scopes="vrs", partner_gln="0614141000012")
    lot, exp = code.batch.lot.number, code.batch.lot.expires_on.strftime("%y%m%d")
    asked = Client().get(
        f"/vrs/verify/gtin/{product.gtin}/lot/{lot}/ser/{code.serial}",
        {"exp": exp, "corrUUID": "6f1d7a5e-2f0c-4a4b-9d3e-0d6f3b2a9c11", "reqGLN": "0614141000012"},
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert asked.json()["data"] == {"verified": True}
    assert list(Scan.objects.values_list("source", "outcome", "code_id")) == [("partner", "authentic", code.pk)]
    assert VrsRequest.objects.get().code_id == code.pk
    assert "Authentic. First scan." in verify(f"/01/{product.gtin}/21/{code.serial}").content.decode()
