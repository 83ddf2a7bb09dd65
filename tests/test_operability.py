import base64
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from brands.models import BrandKey
from tests.factories import sign_up

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, env: dict, check=True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=300,
    )


def production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECURE_SSL_REDIRECT"}}
    env.update(
        DEBUG="0", ALLOWED_HOSTS="verify.example.com", SECRET_KEY="p" * 20 + base64.b64encode(os.urandom(40)).decode()
    )
    env.update(extra)
    return env


def test_deploy_check_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert "no issues" in result.stdout


def test_deploy_check_fails_with_debug_on():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(DEBUG="1"), check=False)
    assert result.returncode != 0 and "DEBUG" in result.stderr


@pytest.mark.embedded
def test_embedded_mode_migrates_seeds_and_serves_the_demo_owner(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "MASTER_KEY", "ALLOWED_HOSTS"}
    }
    env["VAR_DIR"] = str(tmp_path)
    run_manage("migrate", "--noinput", env=env)
    first = run_manage("seed_demo", env=env).stdout
    again = run_manage("seed_demo", env=env).stdout  # idempotent: a second run adds nothing and does not fail
    password = first.split("owner@demo.example / ")[1].split()[0]
    distributor_password = first.split("distributor@demo.example / ")[1].split()[0]
    assert "password unchanged" in again
    assert (tmp_path / "db.sqlite3").exists() and (tmp_path / "master_key").exists()
    probe = (
        "import django, os\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'serialize_saas.settings'); django.setup()\n"
        "from django.test import Client; c = Client(HTTP_HOST='127.0.0.1')\n"
        f"login = {{'username': 'owner@demo.example', 'password': '{password}'}}\n"
        "assert c.post('/accounts/login/', login).status_code == 302\n"
        "r = c.get('/dashboard/'); print(r.status_code, 'Demo Nutrition' in r.content.decode())\n"
        "from codes.models import Code; from scans.models import Scan\n"
        # The demo's scans used some codes already: the first one never scanned (nor previewed), in KL-SEL's range.
        "seen = Scan.objects.exclude(code=None).values('code_id')\n"
        "code = Code.objects.select_related('batch__lot').exclude(pk__in=seen).order_by('ordinal').first()\n"
        "v = c.get(f'/01/09506000134352/10/{code.batch.lot.number}/21/{code.serial}', HTTP_ACCEPT='application/json')\n"
        "print(v.json()['first_scan'], c.get('/01/09506000134352/21/NOPE').status_code)\n"
        "from scans.models import Scan; print(Scan.objects.filter(code=code).get().distributor.code)\n"
        "d = Client(HTTP_HOST='127.0.0.1')\n"
        f"d.post('/accounts/login/', {{'username': 'distributor@demo.example', "
        f"'password': '{distributor_password}'}})\n"
        "p = d.get('/dashboard/', follow=True); print(p.status_code, 'Lembah Klang Wholesale' in p.content.decode())\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.split()[-7:] == ["200", "True", "True", "404", "KL-SEL", "200", "True"], out.stderr


def test_error_page_is_friendly_and_leaks_no_secret(db, settings, caplog):
    settings.ROOT_URLCONF = "tests.urls_failing"
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.DEBUG):
        response = client.get("/crash/")
    body = response.content.decode()
    assert response.status_code == 500 and "Something went wrong" in body
    assert "Traceback" not in body and "boom" not in body
    for secret in (django_settings.SECRET_KEY, django_settings.MASTER_KEY):
        assert secret not in body and secret not in caplog.text


def test_brand_keys_never_reach_the_logs(client, db, caplog):
    with caplog.at_level(logging.DEBUG):
        sign_up(client, "k@example.com", "Keys")
    raw = BrandKey.objects.get().secret()
    for form in (raw.hex(), base64.b64encode(raw).decode(), repr(raw)):
        assert form not in caplog.text
    assert django_settings.MASTER_KEY not in caplog.text


def test_friendly_404_page(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and "Page not found" in response.content.decode()
