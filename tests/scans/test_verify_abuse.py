"""Verify abuse: previews never use a first scan, PIN limits count the code not the path, a stranger
cannot lock the buyer out, IP hashes cannot be reversed later, Redis down keeps verify answering."""

import logging
import os
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from codes.models import Code
from scans import salts
from scans.geo import ip_hash
from scans.models import Scan
from tests.factories import ProductFactory, ready_batch, ready_print_job
from tests.scans.test_verify import IPHONE, qr_path, random_public_ip, scan

PREVIEWS = {
    "iMessage": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) "
    "Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
    "Teams": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 "
    "Safari/537.36 Edg/112.0.1722.48 SkypeUriPreview Preview/0.5",
    "Outlook": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/54.0.2840.99 Safari/537.36 Microsoft Office/16.0 (Microsoft Outlook 16.0.12026; Pro)",
    "Slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Telegram": "TelegramBot (like TwitterBot)",
    "Discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
}


@pytest.fixture
def code(brand):
    product = ProductFactory(brand=brand, gtin="09506000134352")
    return (
        Code.objects.select_related("batch__lot", "product")
        .filter(batch=ready_batch(product, quantity=5, activated=True))
        .first()
    )


@pytest.mark.parametrize("agent", PREVIEWS.values(), ids=PREVIEWS.keys())
def test_a_link_preview_does_not_use_up_the_first_scan(code, agent):
    preview = Client().get(qr_path(code), HTTP_USER_AGENT=agent)
    assert preview.status_code == 200 and not preview.context["confirm_token"]
    Client().post("/verify/confirm/", {"token": "anything"}, HTTP_USER_AGENT=agent)
    assert "Authentic. First scan." in scan(qr_path(code)).content.decode()
    assert Code.objects.get(pk=code.pk).scan_count == 1


def test_a_page_view_counts_only_once_its_browser_confirms_it(code):
    page = scan(qr_path(code), confirm=False)  # fetched, its script never ran: a preview we did not recognise
    assert "Authentic. First scan." in page.content.decode()
    assert Code.objects.get(pk=code.pk).scan_count == 0
    token = page.context["confirm_token"]
    first = Client().post("/verify/confirm/", {"token": token}, HTTP_USER_AGENT=IPHONE).json()
    again = Client().post("/verify/confirm/", {"token": token}, HTTP_USER_AGENT=IPHONE).json()
    assert first == {"counted": True, "first_scan": True, "scan_count": 1} and again == {"counted": False}
    row = Code.objects.get(pk=code.pk)
    assert row.scan_count == 1 and row.first_scanned_in.startswith("Kuala Lumpur")
    assert Scan.objects.get().source == "qr"


def test_a_json_request_is_a_scan_like_a_page_view(code):
    assert scan(qr_path(code), json=True).json()["first_scan"] is True
    assert Code.objects.get(pk=code.pk).scan_count == 1


def _spellings(code):
    gtin, serial, lot = code.product.gtin, code.serial, code.batch.lot.number
    return [
        f"/01/{gtin}/21/{serial}",
        f"/01/{gtin[1:]}/21/{serial}",  # GTIN-13
        f"/01/{gtin}/10/{lot}/21/{serial}",
        f"/01/{gtin}/21/{serial.lower()}",  # Crockford input rules
        f"/01/{gtin}/21/{serial}?17={code.batch.lot.expires_on:%y%m%d}",
        f"/01/{gtin}/21/{serial}?utm_source=x",
        f"/01/{gtin}/21/{''.join(f'%{ord(c):02X}' for c in serial)}",  # percent-encoded
    ]


@pytest.fixture
def pin_code(brand):
    from codes.serials import scratch_pin

    product = ProductFactory(brand=brand)
    code = (
        Code.objects.select_related("batch__lot", "product__key")
        .filter(batch=ready_batch(product, quantity=3, with_pin=True, activated=True))
        .first()
    )
    code.pin = scratch_pin(code.product.key.secret(), code.product.gtin, code.serial)
    code.wrong = str((int(code.pin) + 1) % 10**7).zfill(7)
    return code


def test_every_spelling_of_a_codes_path_shares_one_pin_limit(pin_code, settings):
    settings.PIN_CODE_RATE_LIMIT = "6/h"
    statuses = [
        Client().post(path, {"pin": pin_code.wrong}, REMOTE_ADDR=random_public_ip()).status_code
        for path in _spellings(pin_code)
    ]
    assert statuses == [200] * 6 + [429]


def test_a_stranger_cannot_lock_the_buyer_out_with_wrong_pins(pin_code, settings):
    settings.PIN_RATE_LIMIT = "3/h"
    stranger = random_public_ip()
    tries = [Client().post(qr_path(pin_code), {"pin": pin_code.wrong}, REMOTE_ADDR=stranger) for _ in range(4)]
    assert tries[-1].status_code == 429
    buyer = Client().post(qr_path(pin_code), {"pin": pin_code.pin}, REMOTE_ADDR=random_public_ip())
    assert buyer.status_code == 200 and "Genuine, PIN verified" in buyer.content.decode()


def test_ip_hashes_use_a_daily_secret_not_secret_key(code, settings, monkeypatch):
    scan(qr_path(code), ip="203.0.113.5")
    today = Scan.objects.get().ip_hash
    assert today != ip_hash("203.0.113.5", settings.SECRET_KEY.encode())
    tomorrow = timezone.now() + timedelta(days=1)
    monkeypatch.setattr(salts.timezone, "now", lambda: tomorrow)
    scan(qr_path(code), ip="203.0.113.5", json=True)
    assert Scan.objects.order_by("-pk").first().ip_hash != today


def test_print_files_with_pins_are_for_operators_and_private_on_disk(
    pin_code, viewer_client, operator_client, settings
):
    job = ready_print_job(pin_code.batch)
    url = f"/print-jobs/{job.pk}/files/1/"
    assert viewer_client.get(url).status_code == 403
    assert operator_client.get(url).status_code == 200
    path = os.path.join(settings.MEDIA_ROOT, job.files.get(part=1).name)
    assert os.stat(path).st_mode & 0o077 == 0


def test_with_redis_down_verify_still_answers_and_logs_the_scan(code, settings, caplog):
    settings.VERIFY_RATE_LIMIT = "60/m"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    salts.forget()
    with caplog.at_level(logging.WARNING):
        response = scan(qr_path(code), json=True)
        made_up = scan(f"/01/{code.product.gtin}/21/NOTAREALCODE", json=True)  # counted for hot spots, in Redis
    salts.forget()
    assert response.status_code == 200 and response.json()["first_scan"] is True
    assert made_up.status_code == 404 and made_up.json()["authentic"] is False
    assert Scan.objects.count() == 2
    assert "rate limit unavailable" in caplog.text and "hot spot counter unavailable" in caplog.text


def test_a_page_view_is_one_statement_and_so_is_its_confirmation(code, django_assert_num_queries):
    scan(qr_path(code), json=True)  # warms the product cache
    with django_assert_num_queries(1):  # read the code and log the scan, in one statement
        page = scan(qr_path(code), confirm=False)
    with django_assert_num_queries(1):  # claim the scan and count it on the code
        Client().post("/verify/confirm/", {"token": page.context["confirm_token"]}, HTTP_USER_AGENT=IPHONE)
    assert Code.objects.get(pk=code.pk).scan_count == 2
