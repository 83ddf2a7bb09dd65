"""Operations: request ids in the logs, Prometheus metrics for the monitoring system only, Sentry reports."""

import gzip
import http.server
import logging
import subprocess
import sys
import threading

from django.test import Client

from tests.test_operability import ROOT, production_env


def test_every_request_gets_an_id_in_its_response_and_its_log_line(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="serialize.request"):
        response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="edge-1234abcd")
    assert response["X-Request-ID"] == "edge-1234abcd"
    line = next(r for r in caplog.records if r.name == "serialize.request")
    assert (line.request_id, line.status, line.route, line.method) == ("edge-1234abcd", 200, "accounts/login/", "GET")
    assert len(client.get("/accounts/login/", HTTP_X_REQUEST_ID="bad id\n")["X-Request-ID"]) == 32


def test_metrics_answer_the_monitoring_network_not_the_public(db, settings):
    assert Client(REMOTE_ADDR="10.0.0.5").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="8.8.8.8").get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "s3cret-token"
    assert Client(REMOTE_ADDR="10.0.0.5").get("/metrics").status_code == 404
    scraped = Client(REMOTE_ADDR="8.8.8.8").get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    body = scraped.content.decode()
    assert scraped.status_code == 200 and "serialize_celery_queue_depth" in body and "serialize_scans_total" in body


def test_metrics_relayed_by_a_proxy_on_this_host_judge_the_client_it_names(db, settings):
    """nginx on the same host makes every request come from loopback: the public must not pass through it."""
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    assert proxy.get("/metrics", HTTP_X_FORWARDED_FOR="8.8.8.8").status_code == 404
    assert proxy.get("/metrics", HTTP_X_FORWARDED_FOR="10.0.0.5, 8.8.8.8").status_code == 404  # spoofed hop
    assert proxy.get("/metrics", HTTP_X_FORWARDED_FOR="10.0.0.5").status_code == 200
    settings.TRUSTED_PROXIES = []
    assert proxy.get("/metrics", HTTP_X_FORWARDED_FOR="10.0.0.5").status_code == 404  # whose proxy? refused
    assert proxy.get("/metrics", HTTP_X_REAL_IP="8.8.8.8").status_code == 404
    assert proxy.get("/metrics").status_code == 200  # a scraper on this host, not relayed


def test_errors_are_reported_to_sentry_when_a_dsn_is_set():
    received = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server hook's name
            received.append(self.rfile.read(int(self.headers["Content-Length"] or 0)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    probe = (
        "import django, os\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'serialize_saas.settings')\n"
        "django.setup()\n"
        "import sentry_sdk\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n    sentry_sdk.capture_exception()\n"
        "sentry_sdk.flush(5)\n"
    )
    env = production_env(SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_port}/1")
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, timeout=60, check=False
    )
    server.shutdown()
    assert result.returncode == 0, result.stderr
    bodies = [gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body for body in received]
    assert bodies and b"ZeroDivisionError" in b"".join(bodies)
