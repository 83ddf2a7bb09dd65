"""The database server dropping a web worker's connection in the middle of a scan (a PostgreSQL restart or
failover, an idle-connection reaper): every kind of scan is still answered, and counted once. Real backends are
terminated on the real server, at a chosen statement, with Django's own query hook."""

import contextlib

import psycopg
import pytest
from django.db import connection
from django.test import Client

from codes.models import Code
from codes.serials import scratch_pin
from scans.models import Scan, ScanOutcome, ScanSource
from tests.factories import ProductFactory, ready_batch
from tests.scans.test_verify import IPHONE, KUALA_LUMPUR_IP, qr_path, scan

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.skipif("connection.vendor != 'postgresql'")]

LOGGED = "INSERT INTO scans_scan"  # the statement that counts a scan on its code and logs it
CLAIMED = "UPDATE scans_scan SET source"  # the one that counts a page view its browser confirmed
PIN_USED = "SET pin_first_used_at"


@pytest.fixture
def code(brand):
    batch = ready_batch(ProductFactory(brand=brand), quantity=3, activated=True)
    return Code.objects.select_related("batch__lot", "product").filter(batch=batch).first()


@pytest.fixture
def pin_code(brand):
    batch = ready_batch(ProductFactory(brand=brand), quantity=3, with_pin=True, activated=True)
    code = Code.objects.select_related("batch__lot", "product__key").filter(batch=batch).first()
    code.pin = scratch_pin(code.product.key.secret(), code.product.gtin, code.serial)
    return code


def terminate_backend(pid: int) -> None:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"], autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            pass


@contextlib.contextmanager
def connection_dropped_after(fragment: str, *, reply_lost: bool):
    """The server drops this process's connection just after the first statement holding `fragment` committed.
    With `reply_lost` its reply is lost too (the server went between commit and answer), else the request
    finds out on its next statement. Yields the statements it dropped after (one, once it happened)."""
    dropped: list[str] = []

    def drop(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not dropped and fragment in sql:
            dropped.append(sql)
            terminate_backend(context["connection"].connection.info.backend_pid)
            if reply_lost:
                execute("SELECT 1", None, False, context)  # the driver's own error: the connection is gone
        return result

    with connection.execute_wrapper(drop):
        yield dropped


def counted(code) -> int:
    return Code.objects.get(pk=code.pk).scan_count


@pytest.mark.parametrize("reply_lost", [False, True], ids=["next-statement-fails", "reply-lost"])
def test_a_json_scan_whose_connection_dropped_after_counting_is_counted_once(code, reply_lost):
    # Without reply_lost the request's next statement is the brand's detection settings (read every 30 s).
    with connection_dropped_after(LOGGED, reply_lost=reply_lost) as dropped:
        answer = scan(qr_path(code), json=True)
    assert dropped
    assert answer.status_code == 200
    assert answer.json()["first_scan"] is True and answer.json()["scan_count"] == 1
    assert counted(code) == 1 and Scan.objects.filter(code_id=code.pk).count() == 1
    assert scan(qr_path(code), json=True).json()["scan_count"] == 2  # and the next scan goes on from there


def test_a_page_view_whose_connection_dropped_is_answered_and_logged_once(code):
    with connection_dropped_after(LOGGED, reply_lost=True) as dropped:
        page = Client().get(qr_path(code), REMOTE_ADDR=KUALA_LUMPUR_IP, HTTP_USER_AGENT=IPHONE)
    assert dropped
    assert page.status_code == 200 and "Authentic. First scan." in page.content.decode()
    assert list(Scan.objects.filter(code_id=code.pk).values_list("source", flat=True)) == [ScanSource.PAGE]

    token = page.context["confirm_token"]
    with connection_dropped_after(CLAIMED, reply_lost=True) as dropped:
        confirmed = Client().post("/verify/confirm/", {"token": token}, REMOTE_ADDR=KUALA_LUMPUR_IP)
    assert dropped and confirmed.status_code == 200
    assert counted(code) == 1
    assert list(Scan.objects.filter(code_id=code.pk).values_list("source", flat=True)) == [ScanSource.QR]


def test_a_confirmation_whose_connection_dropped_after_counting_is_counted_once(code):
    page = Client().get(qr_path(code), REMOTE_ADDR=KUALA_LUMPUR_IP, HTTP_USER_AGENT=IPHONE)
    from scans.detection import thresholds_cache

    thresholds_cache.clear()  # so judging the counted view reads the brand's settings: the statement that fails
    with connection_dropped_after(CLAIMED, reply_lost=False) as dropped:
        confirmed = Client().post("/verify/confirm/", {"token": page.context["confirm_token"]})
    assert dropped and confirmed.status_code == 200
    assert counted(code) == 1


def test_a_pin_check_whose_connection_dropped_still_tells_the_buyer_it_is_the_first_use(pin_code):
    with connection_dropped_after(PIN_USED, reply_lost=False) as dropped:
        answer = Client().post(qr_path(pin_code), {"pin": pin_code.pin}, HTTP_ACCEPT="application/json")
    assert dropped
    assert answer.status_code == 200 and answer.json()["pin"] == {
        "verified": True,
        "first_use": True,
        "first_used_at": answer.json()["pin"]["first_used_at"],
    }
    assert list(Scan.objects.filter(code_id=pin_code.pk).values_list("outcome", flat=True)) == [ScanOutcome.PIN_OK]


def test_a_json_scan_is_answered_after_the_server_dropped_the_connection_between_requests(code):
    """The JSON fast path skips the per-request health check, so verify itself notices and answers on a new
    connection (and logs the scan)."""
    assert scan(qr_path(code), json=True).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        terminate_backend(cursor.fetchone()[0])
    answer = scan(qr_path(code), json=True)
    assert answer.status_code == 200 and answer.json()["scan_count"] == 2
    assert Scan.objects.filter(code_id=code.pk).count() == 2
