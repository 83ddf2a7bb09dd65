import secrets
import threading
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client

from codes import gs1
from codes.models import Code, CodeStatus
from codes.serials import CROCKFORD32, scratch_pin
from scans.models import CounterfeitReport, DetectionSettings, Scan, ScanOutcome
from tests.factories import LotFactory, ProductFactory, ready_batch

KUALA_LUMPUR_IP = "175.139.1.1"
GEORGE_TOWN_IP = "175.139.200.1"
STANFORD_IP = "171.64.0.1"


def random_public_ip() -> str:
    """Rate-limit windows outlive a test in Redis: each limiting test is a new client."""
    return f"8.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def qr_path(code, *, with_lot=True, with_expiry=True) -> str:
    """The path of the URL a printed QR holds (what the phone requests)."""
    lot = code.batch.lot
    url = gs1.digital_link_url(
        "https://verify.example.com",
        gtin=code.product.gtin,
        serial=code.serial,
        lot=lot.number if with_lot else None,
        expiry=lot.expires_on if with_expiry else None,
    )
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def batch(brand):
    product = ProductFactory(brand=brand, name="Vitamin C 1000 mg", gtin="09506000134352")
    return ready_batch(product, quantity=50, activated=True)


@pytest.fixture
def code(batch):
    return Code.objects.select_related("batch__lot", "product").filter(batch=batch).order_by("ordinal")[3]


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def scan(path, ip=KUALA_LUMPUR_IP, json=False, confirm=True, **extra):
    """A person's scan: the page, then (as its script does in a browser) the confirmation that counts it."""
    headers = {"HTTP_ACCEPT": "application/json"} if json else {}
    response = Client().get(path, REMOTE_ADDR=ip, HTTP_USER_AGENT=IPHONE, **headers, **extra)
    token = response.context.get("confirm_token") if confirm and response.context else None
    if token:
        Client().post("/verify/confirm/", {"token": token}, REMOTE_ADDR=ip, HTTP_USER_AGENT=IPHONE)
    return response


def test_first_scan_says_authentic_first_scan_and_where(code):
    response = scan(qr_path(code))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Authentic. First scan." in page and "Verified in Kuala Lumpur" in page
    assert response["Cache-Control"] == "no-store"


def test_json_verdict_of_a_first_scan(code):
    data = scan(qr_path(code), json=True).json()
    assert data["authentic"] is True and data["status"] == "active" and data["first_scan"] is True
    assert data["scan_count"] == 1 and data["first_scanned_in"] == "Kuala Lumpur, Kuala Lumpur, MY"
    assert data["product"] == {
        "name": "Vitamin C 1000 mg",
        "gtin": "09506000134352",
        "lot": code.batch.lot.number,
        "expiry": code.batch.lot.expires_on.isoformat(),
        "brand": code.product.brand.name,
    }
    assert data["warnings"] == [] and data["pin_required"] is False


def test_second_scan_reports_first_scan_time_place_and_count(code):
    scan(qr_path(code))
    data = scan(qr_path(code), ip=GEORGE_TOWN_IP, json=True).json()
    assert data["first_scan"] is False and data["scan_count"] == 2
    assert data["first_scanned_in"].startswith("Kuala Lumpur")
    page = scan(qr_path(code)).content.decode()
    assert "First verified on" in page and "in Kuala Lumpur" in page and "scanned 3 times" in page


def test_code_seen_in_more_regions_than_allowed_warns_of_a_copy(code, brand):
    DetectionSettings.objects.create(brand=brand, max_regions=1)
    scan(qr_path(code), ip=KUALA_LUMPUR_IP)
    data = scan(qr_path(code), ip=STANFORD_IP, json=True).json()
    assert [w["code"] for w in data["warnings"]] == ["likely_copy"]
    assert "in 2 places since" in data["warnings"][0]["message"]
    assert ": Kuala Lumpur, California." in data["warnings"][0]["message"]  # where, not only how often
    page = scan(qr_path(code), ip=STANFORD_IP).content.decode()
    assert "possible copy" in page and "Kuala Lumpur, California" in page


def test_likely_copy_page_offers_the_counterfeit_report_form(code, brand):
    DetectionSettings.objects.create(brand=brand, max_regions=1)
    scan(qr_path(code), ip=KUALA_LUMPUR_IP)
    scan(qr_path(code), ip=STANFORD_IP, json=True)
    response = scan(qr_path(code), ip=STANFORD_IP)
    page = response.content.decode()
    assert "possible copy" in page and "Tell us where you bought it" in page
    token = response.context["report_form"].initial["token"]
    thanks = Client().post(
        "/verify/report/", {"gtin": code.product.gtin, "serial": code.serial, "token": token, "where_bought": "Pasar"}
    )
    assert thanks.status_code == 200
    report = CounterfeitReport.objects.get()
    assert report.brand == brand and report.scan.code_id == code.pk and report.where_bought == "Pasar"


def test_a_first_scan_offers_no_report_form(code):
    assert "Tell us where you bought it" not in scan(qr_path(code)).content.decode()


def test_short_link_without_lot_and_expiry_verifies(code):
    assert scan(qr_path(code, with_lot=False, with_expiry=False), json=True).json()["authentic"] is True


def test_gtin_given_in_13_digits_verifies(code):
    path = f"/01/{code.product.gtin[1:]}/21/{code.serial}"
    assert scan(path, json=True).status_code == 200


def test_recalled_code_says_recalled_on_the_very_next_scan(code):
    scan(qr_path(code))
    Code.objects.filter(pk=code.pk).update(status=CodeStatus.RECALLED)
    response = scan(qr_path(code))
    assert response.status_code == 200 and "Recalled" in response.content.decode()
    warning = scan(qr_path(code), json=True).json()["warnings"][0]
    assert warning["code"] == "recalled" and "recalled" in warning["message"]


def test_expired_lot_reads_as_expired(brand):
    product = ProductFactory(brand=brand)
    lot = LotFactory(product=product, expires_on=date.today() - timedelta(days=1))
    code = (
        Code.objects.filter(batch=ready_batch(product, quantity=2, lot=lot, activated=True))
        .select_related("batch__lot", "product")
        .first()
    )
    data = scan(qr_path(code), json=True).json()
    assert data["authentic"] is True and data["status"] == "expired"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: f"/01/{c.product.gtin}/21/{c.serial[:-1]}{'0' if c.serial[-1] != '0' else '1'}",  # one char changed
        lambda c: f"/01/09506000134353/21/{c.serial}",  # bad check digit
        lambda c: f"/01/{c.product.gtin}/10/WRONGLOT/21/{c.serial}",  # altered lot
        lambda c: f"/01/{c.product.gtin}/21/{c.serial}?17=010101",  # altered expiry
        lambda c: f"/01/00000000000017/21/{c.serial}",  # nobody's GTIN
        lambda c: f"/01/{c.product.gtin}/21/" + "A" * 500,  # absurd length
        lambda c: f"/01/{c.product.gtin}/21/%ZZ",  # broken encoding
        lambda c: f"/01/{c.product.gtin}",  # no serial
    ],
)
def test_unrecognised_codes_get_the_friendly_page_and_json_404(code, mutate):
    path = mutate(code)
    page = scan(path)
    assert page.status_code == 404 and "We could not verify this product" in page.content.decode()
    assert scan(path, json=True).json() == {
        "authentic": False,
        "status": None,
        "first_scan": False,
        "scan_count": 0,
        "first_scanned_at": None,
        "first_scanned_in": None,
        "product": None,
        "warnings": [],
        "pin_required": False,
    }
    assert Code.objects.get(pk=code.pk).scan_count == 0


def test_never_issued_serial_is_rejected_without_reading_the_codes_table(code, django_assert_num_queries):
    other = ProductFactory(brand=code.product.brand)  # a product with no codes: every serial decrypts out of range
    path = f"/01/{other.gtin}/21/{code.serial}"
    scan(path)  # warm the per-process product cache
    with django_assert_num_queries(1) as queries:  # only the scan log INSERT
        assert scan(path).status_code == 404
    assert Code._meta.db_table not in queries.captured_queries[0]["sql"]


def test_every_scan_is_one_statement_detection_included(batch, brand, django_assert_num_queries):
    DetectionSettings.objects.create(brand=brand, max_regions=2)
    first, second = (
        Code.objects.select_related("batch__lot", "product").filter(batch=batch).order_by("ordinal")[i] for i in (0, 1)
    )
    scan(qr_path(first))  # warms the product and settings caches
    with django_assert_num_queries(1):  # UPDATE … RETURNING (with the detection state) and the log INSERT
        scan(qr_path(second), json=True)
    for ip in (GEORGE_TOWN_IP, KUALA_LUMPUR_IP):  # a second region, then a rescan: never the scan history
        with django_assert_num_queries(1):
            scan(qr_path(second), ip=ip, json=True)
    with django_assert_num_queries(2):  # a third region tips it: + flagging the code as suspect, once
        assert scan(qr_path(second), ip=STANFORD_IP, json=True).json()["warnings"][0]["code"] == "likely_copy"
    with django_assert_num_queries(1):
        assert scan(qr_path(second), json=True).json()["warnings"][0]["code"] == "likely_copy"


def test_every_scan_is_logged_with_place_and_hashed_ip(code):
    scan(qr_path(code))
    scan(f"/01/{code.product.gtin}/21/NOTAREALCODE", ip=STANFORD_IP)
    good, bad = Scan.objects.order_by("pk")
    assert (good.code_id, good.outcome, good.region_code, good.country_code) == (code.pk, "authentic", "MY-14", "MY")
    assert good.user_agent_family == "Mobile Safari" and good.brand == code.product.brand
    assert (bad.code_id, bad.outcome, bad.serial, bad.region_code) == (None, "not_recognised", "NOTAREALCODE", "US-CA")
    assert KUALA_LUMPUR_IP not in good.ip_hash and len(good.ip_hash) == 32


@pytest.mark.django_db(transaction=True)
def test_two_phones_scanning_a_fresh_code_at_once_get_exactly_one_first_scan():
    product = ProductFactory(gtin="09506000134352")
    code = (
        Code.objects.select_related("batch__lot", "product")
        .filter(batch=ready_batch(product, quantity=3, activated=True))
        .first()
    )
    path, barrier, results = qr_path(code), threading.Barrier(8), []

    def phone():
        barrier.wait()
        results.append(scan(path, json=True).json()["first_scan"])
        connection.close()

    threads = [threading.Thread(target=phone) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert Code.objects.get(pk=code.pk).scan_count == 8


@pytest.fixture
def pin_code(brand):
    product = ProductFactory(brand=brand)
    batch = ready_batch(product, quantity=5, with_pin=True, activated=True)
    code = Code.objects.select_related("batch__lot", "product__key").filter(batch=batch).first()
    code.pin = scratch_pin(code.product.key.secret(), code.product.gtin, code.serial)
    return code


def test_pin_batch_asks_for_the_pin(pin_code):
    response = scan(qr_path(pin_code))
    assert 'name="pin"' in response.content.decode()
    assert scan(qr_path(pin_code), json=True).json()["pin_required"] is True


def test_correct_pin_first_use_is_genuine_then_shows_as_used(pin_code):
    client = Client()
    first = client.post(qr_path(pin_code), {"pin": pin_code.pin}, REMOTE_ADDR=KUALA_LUMPUR_IP)
    assert "Genuine, PIN verified" in first.content.decode()
    again = client.post(
        qr_path(pin_code), {"pin": pin_code.pin}, REMOTE_ADDR=STANFORD_IP, HTTP_ACCEPT="application/json"
    )
    data = again.json()
    assert data["pin"]["verified"] is True and data["pin"]["first_use"] is False and data["pin"]["first_used_at"]
    assert "This PIN was already used" in client.post(qr_path(pin_code), {"pin": pin_code.pin}).content.decode()
    assert list(Scan.objects.order_by("pk").values_list("outcome", flat=True)) == [
        ScanOutcome.PIN_OK,
        ScanOutcome.PIN_REUSED,
        ScanOutcome.PIN_REUSED,
    ]


def test_wrong_pin_is_refused_and_does_not_burn_the_pin(pin_code):
    wrong = str((int(pin_code.pin) + 1) % 10**7).zfill(7)
    response = Client().post(qr_path(pin_code), {"pin": wrong})
    assert "That PIN does not match" in response.content.decode()
    ok = Client().post(qr_path(pin_code), {"pin": pin_code.pin})
    assert "Genuine, PIN verified" in ok.content.decode()


def test_rate_limited_client_gets_429_and_floods_no_log(code, settings):
    settings.VERIFY_RATE_LIMIT = "3/m"
    ip = random_public_ip()
    statuses = [scan(qr_path(code), ip=ip).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert Scan.objects.count() == 3
    assert scan(qr_path(code), ip=ip, json=True).status_code == 429
    assert scan(qr_path(code), ip="198.51.100.7").status_code == 200  # another client is not limited


def test_page_speaks_malay_when_the_phone_does(code):
    page = scan(qr_path(code), HTTP_ACCEPT_LANGUAGE="ms-MY,ms;q=0.9,en;q=0.5").content.decode()
    assert "Tulen. Imbasan pertama." in page and 'lang="ms"' in page
    assert "Kami tidak dapat mengesahkan produk ini" in scan("/01/123", HTTP_ACCEPT_LANGUAGE="ms").content.decode()


def test_page_is_branded(code, brand):
    brand.colour = "#aa3300"
    brand.save()
    page = scan(qr_path(code)).content.decode()
    assert f'href="/brands/{brand.slug}/theme.css?v={brand.verify_generation}"' in page and brand.name in page
    assert b"--brand: #aa3300" in Client().get(f"/brands/{brand.slug}/theme.css").content


def test_counterfeit_report_is_stored_for_the_brand(code):
    from scans.models import CounterfeitReport

    response = Client().post(
        "/verify/report/", {"gtin": code.product.gtin, "serial": "FAKE1", "where_bought": "Night market, Jalan Alor"}
    )
    assert response.status_code == 200
    report = CounterfeitReport.objects.get()
    assert report.brand == code.product.brand and report.where_bought.startswith("Night market")


def test_counterfeit_reports_are_rate_limited(db, settings):
    settings.COUNTERFEIT_REPORT_RATE_LIMIT = "2/h"
    ip = random_public_ip()
    codes = [Client().post("/verify/report/", {"where_bought": "x"}, REMOTE_ADDR=ip).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_precise_location_replaces_the_ip_place(code):
    response = scan(qr_path(code))
    token = response.context["locate_token"]
    located = Client().post("/verify/locate/", {"token": token, "lat": "1.4927", "lon": "103.7414"})
    assert located.json()["located"] is True
    assert Scan.objects.get().region_code == "MY-01"
    assert Code.objects.get(pk=code.pk).first_scanned_in.endswith("MY")
    assert Client().post("/verify/locate/", {"token": "forged", "lat": "1", "lon": "1"}).status_code == 400


def test_product_cache_stays_bounded_under_random_gtins(db):
    from scans.products import ProductCache

    cache = ProductCache(size=50)
    for n in range(200):
        cache.get(f"{n:014d}")
    assert len(cache._entries) == 50


def test_a_new_product_verifies_within_seconds_of_a_miss(db, brand, monkeypatch):
    """An unknown GTIN is remembered only briefly; here the test makes 'briefly' zero."""
    from scans import products

    assert products.product_cache.get("09506000134352") is None
    product = ProductFactory(brand=brand, gtin="09506000134352")
    code = (
        Code.objects.select_related("batch__lot", "product")
        .filter(batch=ready_batch(product, quantity=2, activated=True))
        .first()
    )
    monkeypatch.setattr(products, "REFRESH_SECONDS", 0)
    assert scan(qr_path(code), json=True).status_code == 200


def test_a_batch_ordered_after_its_product_was_cached_verifies_at_once(code):
    assert scan(qr_path(code), json=True).status_code == 200  # the product is cached now
    newer = Code.objects.select_related("batch__lot", "product").filter(
        batch=ready_batch(code.product, quantity=2, activated=True)
    )
    assert scan(qr_path(newer.first()), json=True).json()["authentic"] is True


def test_made_up_serials_never_reload_the_product(code, monkeypatch, django_assert_num_queries):
    """Every miss asks whether batches were ordered (here on every miss: REFRESH_SECONDS is zero), with one
    small query; the product, its batches, ranges and brand are not read again."""
    from scans import products

    monkeypatch.setattr(products, "REFRESH_SECONDS", 0)
    assert scan(qr_path(code), json=True).status_code == 200
    for _ in range(3):  # well-formed serials: they decrypt, to ordinals no batch holds
        serial = "".join(secrets.choice(CROCKFORD32) for _ in code.serial)
        with django_assert_num_queries(2) as queries:  # the batches count, then the scan log INSERT
            assert scan(f"/01/{code.product.gtin}/21/{serial}", json=True).status_code == 404
        assert "codes_product" not in queries.captured_queries[0]["sql"]


def test_link_previews_and_head_requests_do_not_use_up_the_first_scan(code):
    preview = Client().get(qr_path(code), HTTP_USER_AGENT="WhatsApp/2.23.20.0", REMOTE_ADDR=STANFORD_IP)
    assert preview.status_code == 200
    assert Client().head(qr_path(code)).status_code == 200
    data = scan(qr_path(code), json=True).json()
    assert data["first_scan"] is True and data["scan_count"] == 1
    assert list(Scan.objects.order_by("pk").values_list("source", flat=True)) == ["preview", "preview", "api"]


def test_ipv6_clients_are_limited_per_64_network(code, settings):
    settings.VERIFY_RATE_LIMIT = "2/m"
    prefix = f"2001:db8:{secrets.randbelow(9999):x}:{secrets.randbelow(9999):x}"
    statuses = [scan(qr_path(code), ip=f"{prefix}::{n}").status_code for n in range(1, 4)]
    assert statuses == [200, 200, 429]


def test_pin_guesses_are_limited_per_code_whatever_the_address(pin_code, settings):
    settings.PIN_CODE_RATE_LIMIT = "3/h"
    wrong = str((int(pin_code.pin) + 1) % 10**7).zfill(7)
    statuses = [
        Client().post(qr_path(pin_code), {"pin": wrong}, REMOTE_ADDR=random_public_ip()).status_code for _ in range(4)
    ]
    assert statuses[-1] == 429
    assert Code.objects.get(pk=pin_code.pk).pin_first_used_at is None


def test_absolute_form_request_target_verifies(code):
    response = Client().get(
        qr_path(code), HTTP_ACCEPT="application/json", RAW_URI="http://verify.example.com" + qr_path(code)
    )
    assert response.status_code == 200


@pytest.fixture
def slash_code(brand):
    product = ProductFactory(brand=brand)
    batch = ready_batch(product, quantity=3, lot=LotFactory(product=product, number="L/2026"), activated=True)
    return Code.objects.select_related("batch__lot", "product").filter(batch=batch).first()


def test_a_lot_with_a_slash_verifies_from_gunicorns_raw_uri_or_request_uri(slash_code):
    path = qr_path(slash_code)
    assert "/10/L%2F2026/" in path
    for variable in ("RAW_URI", "REQUEST_URI"):
        response = Client().get(path, HTTP_ACCEPT="application/json", **{variable: path})
        assert response.status_code == 200, variable


def test_without_a_raw_path_a_lot_with_a_slash_is_refused_clearly_not_called_a_fake(slash_code, caplog):
    from scans import views

    views._warned_no_raw_path = False
    response = Client().get(qr_path(slash_code), HTTP_ACCEPT="application/json")  # PATH_INFO only, decoded
    assert response.status_code == 400 and response.json()["error"] == "raw_path_unavailable"
    assert "README, Reverse proxy" in caplog.text
    page = Client().get(qr_path(slash_code))
    assert page.status_code == 400 and "could not verify" not in page.content.decode()
    assert not Scan.objects.filter(outcome=ScanOutcome.NOT_RECOGNISED).exists()


def test_without_a_raw_path_ordinary_codes_still_verify(code):
    assert scan(qr_path(code), json=True).status_code == 200


def test_ipv6_clients_rotating_through_one_56_are_limited_too(code, settings):
    settings.VERIFY_RATE_LIMIT, settings.IPV6_PREFIX_RATE_FACTOR = "2/m", 4
    prefix = f"2001:db8:{secrets.randbelow(9999):x}:{secrets.randbelow(200):x}"  # a /56: 2001:db8:x:yy00::/56
    customer = [f"{prefix}{n:02x}::1" for n in range(12)]  # twelve different /64s of that /56
    statuses = [scan(qr_path(code), ip=ip).status_code for ip in customer]
    assert statuses == [200] * 8 + [429] * 4
    neighbour = f"2001:db8:{secrets.randbelow(9999):x}:ff00::1"  # another customer's /56 is not affected
    assert scan(qr_path(code), ip=neighbour).status_code == 200


def test_json_warning_messages_speak_the_request_language(code):
    Code.objects.filter(pk=code.pk).update(status=CodeStatus.RECALLED)
    [warning] = scan(qr_path(code), json=True, HTTP_ACCEPT_LANGUAGE="ms").json()["warnings"]
    assert warning == {"code": "recalled", "message": warning["message"]}
    assert warning["message"].startswith("Produk ini telah ditarik balik")


def test_a_reused_pin_is_a_pin_reused_warning(pin_code):
    client = Client()
    client.post(qr_path(pin_code), {"pin": pin_code.pin})
    again = client.post(qr_path(pin_code), {"pin": pin_code.pin}, HTTP_ACCEPT="application/json").json()
    assert [w["code"] for w in again["warnings"]] == ["pin_reused"]


# --- branding and languages (issue 11) --------------------------------------------------------------------


@pytest.mark.parametrize(
    "language,words",
    [("ms", "Tulen. Imbasan pertama."), ("zh-hans", "正品。首次扫描。"), ("ta", "உண்மையானது. முதல் ஸ்கேன்.")],
)
def test_verify_page_speaks_the_phones_language(code, language, words):
    page = scan(qr_path(code), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert words in page and f'lang="{language}"' in page


def test_every_catalogue_is_complete():
    import polib

    for language in ("ms", "zh_Hans", "ta"):
        catalogue = polib.pofile(f"locale/{language}/LC_MESSAGES/django.po")
        assert catalogue.percent_translated() == 100 and not catalogue.fuzzy_entries(), language


def test_not_recognised_page_shows_the_brand_of_the_gtin_and_no_verified_by_line(code, brand):
    page = scan(f"/01/{code.product.gtin}/21/NOTAREALCODE").content.decode()
    assert brand.name in page and f"/brands/{brand.slug}/theme.css" in page
    assert "Verified by" not in page and "We could not verify this product" in page


def test_unknown_gtin_shows_no_brand_at_all(db):
    page = scan("/01/09506000117843/21/NOTAREALCODE").content.decode()
    assert "theme.css" not in page and "Verified by" not in page


def test_repeat_scan_offers_to_share_the_location_too(code):
    scan(qr_path(code))
    page = scan(qr_path(code)).content.decode()
    assert 'id="locate"' in page and "helps the brand find copies" in page


def test_report_form_is_in_the_phones_language(code):
    page = scan(f"/01/{code.product.gtin}/21/NOTAREALCODE", HTTP_ACCEPT_LANGUAGE="ms").content.decode()
    assert "Di mana anda membelinya?" in page and "Where did you buy it?" not in page


def test_brand_theme_carries_its_colour_and_never_anything_else(client, brand):
    brand.colour = "#aa3300"
    brand.save()
    assert client.get(f"/brands/{brand.slug}/theme.css").content == b":root { --brand: #aa3300; }\n"
    brand.colour = "red;}"
    brand.save()
    assert b"#1f6feb" in client.get(f"/brands/{brand.slug}/theme.css").content


def test_consumer_message_shows_under_an_authentic_verdict(code, brand):
    brand.consumer_message = "Thank you for choosing genuine."
    brand.save()
    assert "Thank you for choosing genuine." in scan(qr_path(code)).content.decode()
