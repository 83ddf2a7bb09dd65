"""The production recipe, run for real: bin/serve migrates, collects static files and serves every page
through gunicorn with DEBUG off (the README's recipe used to answer 500 on every HTML page)."""

import json
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from codes.models import Code
from tests.factories import MembershipFactory, ProductFactory, ready_batch
from tests.processes import ROOT, env_for_test_database, wait_for
from tests.test_operability import production_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, **headers) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, headers={"Host": "verify.example.com", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own local server
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def serve_env(tmp_path, port: int, **extra) -> dict:
    """bin/serve's environment: production settings on the test database, one worker on `port`."""
    return {
        **production_env(SECURE_SSL_REDIRECT="0", STATIC_ROOT=str(tmp_path / "static")),
        "DATABASE_URL": env_for_test_database()["DATABASE_URL"],
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        **extra,
    }


@pytest.mark.django_db(transaction=True)
def test_bin_serve_serves_every_page_with_debug_off(tmp_path):
    product = ProductFactory(brand=MembershipFactory().brand, gtin="09506000134352")
    code = Code.objects.filter(batch=ready_batch(product, quantity=2, activated=True)).first()
    port = free_port()
    env = serve_env(tmp_path, port, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(["bash", "bin/serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603, S607
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: server.poll() is not None or (_listening(port) and fetch(base + "/healthz")[0] == 200), 120)
        assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
        for path in (
            "/accounts/login/",
            "/signup/",
            "/accounts/password_reset/",
            f"/01/{product.gtin}/21/{code.serial}",
        ):
            status, body, headers = fetch(base + path)
            assert status == 200, (path, status, body[:500])
            assert b"/static/css/app." in body and "X-Request-ID" in headers
        css = body.decode().split('href="/static/css/')[1].split('"')[0]
        assert fetch(f"{base}/static/css/{css}")[0] == 200  # whitenoise serves the hashed, collected file
        status, body, _ = fetch(base + f"/01/{product.gtin}/21/{code.serial}", Accept="application/json")
        assert status == 200 and json.loads(body)["authentic"] is True
        status, body, _ = fetch(base + "/metrics")
        assert status == 200 and b"serialize_verify_seconds" in body and b"django_http_requests" in body
    finally:
        server.terminate()
        server.wait(20)
        log.close()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.django_db(transaction=True)
def test_a_fresh_worker_answers_its_first_verify_with_location_data_already_loaded(tmp_path):
    """gunicorn.conf.py warms the master before it forks: no consumer waits for location data, or for the
    product they scan, to load."""
    product = ProductFactory(brand=MembershipFactory().brand, gtin="09506000134352")
    code = Code.objects.filter(batch=ready_batch(product, quantity=2, activated=True)).first()
    port = free_port()
    env = serve_env(tmp_path, port, TRUSTED_PROXIES="127.0.0.1")  # so the consumer's address below is looked up
    log_file = tmp_path / "serve.log"
    with log_file.open("w") as log:
        server = subprocess.Popen(["bash", "bin/serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603, S607
        try:
            wait_for(lambda: server.poll() is not None or "Booting worker" in log_file.read_text(), 120)
            wait_for(lambda: server.poll() is not None or _listening(port), 60)
            assert server.poll() is None, log_file.read_text()[-3000:]
            status, body, _ = fetch(
                f"http://127.0.0.1:{port}/01/{product.gtin}/21/{code.serial}",
                Accept="application/json",
                **{"X-Forwarded-For": "175.139.1.1"},
            )
            assert status == 200 and json.loads(body)["authentic"] is True
        finally:
            server.terminate()
            server.wait(20)
    text = log_file.read_text()
    before_workers, after = text.split("Booting worker", 1)
    assert "warmed up" in before_workers and before_workers.count("location data loaded") == 2, text[-3000:]
    assert '"message": "products cached"' in before_workers and '"products": 1}' in before_workers, text[-3000:]
    assert "location data loaded" not in after, after[-3000:]
