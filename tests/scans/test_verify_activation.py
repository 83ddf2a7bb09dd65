"""Codes are born not activated: until their unit is marked applied (or received) they answer "not yet activated",
never "authentic", so a leaked print file verifies as nothing. Their scans are logged as evidence, uncounted."""

import pytest
from django.test import Client

from codes.models import Code
from codes.serials import scratch_pin
from scans.models import Alert, Scan, ScanOutcome
from tests.factories import ProductFactory, activate, ready_batch
from tests.scans.test_verify import IPHONE, KUALA_LUMPUR_IP, qr_path, scan


@pytest.fixture
def batch(brand):
    return ready_batch(ProductFactory(brand=brand, name="Vitamin C 1000 mg", gtin="09506000134352"), quantity=10)


def code_at(batch, position: int) -> Code:
    return Code.objects.select_related("batch__lot", "product").get(
        batch=batch, ordinal=batch.first_ordinal + position - 1
    )


def test_a_new_batchs_code_answers_not_yet_activated_in_json(batch):
    response = scan(qr_path(code_at(batch, 1)), json=True)
    data = response.json()
    assert response.status_code == 404  # not authentic, like every answer that does not vouch for a product
    assert (data["authentic"], data["status"], data["first_scan"], data["scan_count"]) == (
        False,
        "not_activated",
        False,
        0,
    )
    assert data["product"]["name"] == "Vitamin C 1000 mg"  # a packaging line checks its labels with it
    [warning] = data["warnings"]
    assert warning["code"] == "not_activated" and "not been released" in warning["message"]


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "not been released"), ("ms", "belum dikeluarkan"), ("zh-hans", "尚未发布"), ("ta", "வெளியிடப்படவில்லை")],
)
def test_the_not_activated_warning_is_in_the_readers_language(batch, language, words):
    data = scan(qr_path(code_at(batch, 1)), json=True, HTTP_ACCEPT_LANGUAGE=language).json()
    assert words in data["warnings"][0]["message"]


@pytest.mark.parametrize(
    ("language", "headline"),
    [
        ("en", "Not yet activated"),
        ("ms", "Belum diaktifkan"),
        ("zh-hans", "尚未激活"),
        ("ta", "இன்னும் செயல்படுத்தப்படவில்லை"),
    ],
)
def test_the_verify_page_says_not_yet_activated_never_authentic(batch, language, headline):
    page = scan(qr_path(code_at(batch, 1)), HTTP_ACCEPT_LANGUAGE=language)
    text = page.content.decode()
    assert headline in text and "Authentic" not in text
    assert page.context["confirm_token"] == ""  # nothing for the page's script to count
    assert 'action="/verify/report/"' in text  # the consumer can say where it was bought


def test_activation_makes_the_same_code_authentic_and_its_first_real_scan_is_the_first(batch):
    code = code_at(batch, 2)
    for _ in range(3):  # a leaked file scanned before the labels exist: logged, never counted
        scan(qr_path(code))
        scan(qr_path(code), json=True)
    assert Code.objects.get(pk=code.pk).scan_count == 0
    assert set(Scan.objects.filter(code=code).values_list("outcome", flat=True)) == {ScanOutcome.NOT_ACTIVATED}
    activate(batch, first=2, last=2)
    data = scan(qr_path(code), json=True).json()
    assert (data["authentic"], data["status"], data["first_scan"], data["scan_count"]) == (True, "active", True, 1)
    assert scan(qr_path(code_at(batch, 3)), json=True).json()["status"] == "not_activated"  # only position 2


def test_scans_before_activation_feed_no_copy_detection_but_alert_the_brand_of_a_leak(
    batch, eager_tasks, django_capture_on_commit_callbacks
):
    code = code_at(batch, 1)
    for n in range(8):  # many regions and devices: a copy's pattern, were the code live
        with django_capture_on_commit_callbacks(execute=True):
            Client().get(
                qr_path(code),
                REMOTE_ADDR=f"175.139.{n * 30}.1",
                HTTP_USER_AGENT=f"{IPHONE} {n}",
                HTTP_ACCEPT="application/json",
            )
    row = Code.objects.get(pk=code.pk)
    assert (row.seen_regions, row.seen_devices, row.suspect_at) == (None, None, None)
    [alert] = Alert.objects.all()  # one alert for the code, grown by each scan; no likely copy, no hot spot
    assert (alert.kind, alert.count, alert.serial, alert.get_kind_display()) == (
        "early_scan",
        8,
        code.serial,
        "Scanned before activation",
    )


def test_a_scan_of_a_code_not_yet_activated_is_still_one_statement(batch, django_assert_num_queries):
    path = qr_path(code_at(batch, 1))
    scan(path, json=True)  # the product is cached now
    with django_assert_num_queries(1):  # the count that counts nothing, and the log INSERT, in one statement
        assert scan(path, json=True).json()["status"] == "not_activated"


def test_a_pin_is_not_checked_before_activation(brand):
    batch = ready_batch(ProductFactory(brand=brand, gtin="09506000134352"), quantity=3, with_pin=True)
    code = code_at(batch, 1)
    pin = scratch_pin(code.product.key.secret(), code.product.gtin, code.serial)
    response = Client().post(qr_path(code), {"pin": pin}, REMOTE_ADDR=KUALA_LUMPUR_IP, HTTP_USER_AGENT=IPHONE)
    assert response.context["verdict"].status == "not_activated"
    assert Code.objects.get(pk=code.pk).pin_first_used_at is None  # the buyer's first use is still to come
