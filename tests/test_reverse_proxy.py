"""The documented nginx configuration (deploy/nginx.conf) in front of a real gunicorn: a lot containing "/"
verifies; a proxy that decodes the path is refused clearly instead of calling a genuine code a fake."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from codes import gs1
from codes.models import Code
from tests.factories import LotFactory, ProductFactory, ready_batch
from tests.processes import ROOT, env_for_test_database
from tests.s3 import free_port, wait_for_port

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists(), reason="needs nginx"),
]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_config(folder: Path, app_port: int, good_port: int, bad_port: int) -> Path:
    """deploy/nginx.conf as documented, with its ports changed, plus a second server configured the wrong way."""
    documented = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server 127.0.0.1:8000;" in documented and "listen 80;" in documented
    server = documented.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    server = server.replace("listen 80;", f"listen 127.0.0.1:{good_port};")
    wrong = f"""
server {{
    listen 127.0.0.1:{bad_port};
    location / {{ proxy_pass http://serialize/; proxy_set_header Host $host; }}
}}
"""
    user = "user root;" if os.geteuid() == 0 else ""
    config = folder / "nginx.conf"
    config.write_text(
        f"""{user}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{server}
{wrong}
}}
"""
    )
    return config


@pytest.fixture
def stack():
    folder = Path(tempfile.mkdtemp(prefix="nginx-"))
    app_port, good_port, bad_port = free_port(), free_port(), free_port()
    env = env_for_test_database(
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        VERIFY_RATE_LIMIT="0",
        TRUSTED_PROXIES="127.0.0.1",
    )
    log = (folder / "gunicorn.log").open("w")
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "serialize_saas.wsgi", "-b", f"127.0.0.1:{app_port}", "-w", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    nginx = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(nginx_config(folder, app_port, good_port, bad_port))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for port in (app_port, good_port, bad_port):
            wait_for_port(port)
        yield good_port, bad_port
    finally:
        for process in (nginx, gunicorn):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:  # a loaded machine: gunicorn still finishing its graceful stop
                process.kill()
                process.wait(10)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def get(port: int, path: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_lot_containing_a_slash_verifies_through_the_documented_nginx_config(stack):
    good_port, bad_port = stack
    product = ProductFactory()
    batch = ready_batch(product, quantity=2, lot=LotFactory(product=product, number="2026/A7"), activated=True)
    code = Code.objects.filter(batch=batch).first()
    url = gs1.digital_link_url("https://v.example", gtin=product.gtin, serial=code.serial, lot="2026/A7", expiry=None)
    path = urlsplit(url).path
    assert "/10/2026%2FA7/" in path

    status, verdict = get(good_port, path)
    assert status == 200 and verdict["authentic"] is True and verdict["product"]["lot"] == "2026/A7"

    status, answer = get(bad_port, path)  # proxy_pass with a URI part decodes %2F: refused, not "fake"
    assert status == 400 and answer["error"] == "raw_path_unavailable"


def test_metrics_are_not_served_through_the_documented_nginx_config(stack):
    good_port, _bad_port = stack
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{good_port}/metrics", timeout=20)  # noqa: S310
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 404
