import base64
import os


def test_healthz_reports_database_and_redis_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "master_key": "ok", "redis": "ok"}}


def test_healthz_is_503_naming_redis_when_redis_is_down(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "master_key": "ok", "redis": "fail"}


def test_healthz_is_503_naming_the_master_key_when_it_is_not_the_databases(client, brand, settings):
    client.get("/healthz")  # records the key check under the right key
    settings.MASTER_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["checks"]["master_key"] == "fail"


def test_healthz_answers_probes_whatever_their_host_header(client, db):
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_other_pages_still_refuse_unknown_hosts(client, db):
    assert client.get("/accounts/login/", HTTP_HOST="evil.example").status_code == 400


def test_oversized_bodies_are_refused_before_they_are_read(client, db, settings):
    settings.MAX_REQUEST_BYTES = 1000
    response = client.post("/verify/report/", {"where_bought": "x" * 5000})
    assert response.status_code == 413
