"""Detection rules driven by real scans from places the offline location data knows (through a trusted
proxy's X-Forwarded-For), checking what later scanners are told and which alerts the brand gets."""

from datetime import timedelta

import pytest
from django.test import Client

from codes.models import Code, CodeStatus
from scans import alerts, rules
from scans.models import Alert, AlertStatus, DetectionSettings, Scan
from tests.factories import ProductFactory, ready_batch
from tests.scans.test_verify import qr_path

HOUR = timedelta(hours=1)
PROXY = "10.0.0.1"
KUALA_LUMPUR, GEORGE_TOWN, PERAK = "175.139.1.1", "175.139.200.1", "60.48.1.1"
STANFORD, ENGLAND = "171.64.0.1", "81.2.69.142"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"  # noqa: E501


@pytest.fixture(autouse=True)
def _behind_proxy(settings, eager_tasks):
    settings.TRUSTED_PROXIES = [PROXY]


@pytest.fixture
def code(brand):
    batch = ready_batch(ProductFactory(brand=brand, gtin="09506000134352"), quantity=10, activated=True)
    return Code.objects.select_related("batch__lot", "product").filter(batch=batch).order_by("ordinal")[2]


def limits(brand, **fields):
    DetectionSettings.objects.update_or_create(brand=brand, defaults=fields)


def scan_from(ip, path, capture, client=None, agent=IPHONE):
    with capture(execute=True):
        response = (client or Client()).get(
            path, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ip, HTTP_USER_AGENT=agent, HTTP_ACCEPT="application/json"
        )
    return response.json()


@pytest.fixture
def scan(django_capture_on_commit_callbacks):
    return lambda ip, path, **kw: scan_from(ip, path, django_capture_on_commit_callbacks, **kw)


def test_code_scanned_in_five_states_warns_every_later_scanner_and_alerts_once(brand, code, scan):
    limits(brand, max_regions=4, min_travel_km=50_000)  # regions only
    for ip in (KUALA_LUMPUR, GEORGE_TOWN, PERAK, STANFORD):
        assert scan(ip, qr_path(code))["warnings"] == []
    fifth = scan(ENGLAND, qr_path(code))
    assert fifth["status"] == "active" and [w["code"] for w in fifth["warnings"]] == ["likely_copy"]
    assert fifth["warnings"][0]["message"].startswith("Scanned 5 times in 5 places since ")
    assert fifth["warnings"][0]["message"].endswith("and 2 more. This may be a copy: check the packaging carefully.")
    later = scan(KUALA_LUMPUR, qr_path(code))
    assert later["warnings"][0]["code"] == "likely_copy"  # every later scanner, from anywhere
    assert Code.objects.get(pk=code.pk).suspect_at is not None
    alert = Alert.objects.get(kind="likely_copy")  # de-duplicated: one open alert per code and kind
    assert alert.code_id == code.pk and alert.count == 2 and alert.evidence.count() == 2
    assert alert.details["reasons"] == ["regions"] and alert.severity == "high"


def test_page_views_are_judged_when_their_browser_confirms_them(brand, code, django_capture_on_commit_callbacks):
    """A page view is counted (and its place and device kept) only on confirmation; from then on, page views of
    the likely copy warn, before their own confirmation."""

    def page(ip):
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().get(qr_path(code), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ip, HTTP_USER_AGENT=IPHONE)
            token = response.context["confirm_token"]
            Client().post(
                "/verify/confirm/", {"token": token}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ip, HTTP_USER_AGENT=IPHONE
            )
        return response.content.decode()

    assert "possible copy" not in page(KUALA_LUMPUR)
    assert "possible copy" not in page(STANFORD)  # this view's confirmation is what tips the code
    assert Code.objects.get(pk=code.pk).suspect_at is not None
    assert Alert.objects.get().details["reasons"] == ["travel"]
    assert "possible copy" in page(KUALA_LUMPUR) and "This may be a copy" in page(GEORGE_TOWN)
    assert Code.objects.get(pk=code.pk).seen_regions == "MY-14;US-CA;MY-07;"


def test_an_honest_owner_rescanning_ten_times_is_not_a_copy(brand, code, scan):
    for _ in range(10):
        data = scan(KUALA_LUMPUR, qr_path(code))
    assert data["scan_count"] == 10 and data["warnings"] == []
    assert not Alert.objects.exists()


def test_more_distinct_devices_than_allowed_is_a_likely_copy(brand, code, scan):
    limits(brand, max_devices=3)
    for n in range(1, 4):
        assert scan(f"175.139.1.{n}", qr_path(code))["warnings"] == []
    assert scan("175.139.1.4", qr_path(code))["warnings"][0]["code"] == "likely_copy"
    assert Alert.objects.get().details["reasons"] == ["devices"]


def test_a_phone_keeps_its_device_cookie_across_networks(brand, code, scan):
    phone = Client()
    scan("175.139.1.1", qr_path(code), client=phone)
    scan("175.139.1.2", qr_path(code), client=phone)
    assert rules.device_count(Code.objects.get(pk=code.pk).seen_devices) == 1


def test_device_cookies_forged_from_one_address_count_as_one_device(brand, code, scan):
    """Issue 18: from one address, forged device cookies made genuine codes likely copies (5 codes, 5 alerts,
    6 e-mails, 6 webhooks). Devices seen from one network now count once."""
    limits(brand, max_devices=3, max_regions=50)
    for n in range(12):
        forger = Client()
        forger.cookies["sz_device"] = f"{n:010x}"
        assert scan(KUALA_LUMPUR, qr_path(code), client=forger)["warnings"] == []
    assert not Alert.objects.exists() and Code.objects.get(pk=code.pk).suspect_at is None


def test_impossible_travel_is_a_likely_copy(brand, code, scan):
    scan(KUALA_LUMPUR, qr_path(code))
    data = scan(STANFORD, qr_path(code))  # 13,000 km a second later
    assert data["warnings"][0]["code"] == "likely_copy"
    details = Alert.objects.get().details
    assert details["reasons"] == ["travel"] and details["km"] > 13_000


def test_nearby_places_are_not_travel(brand, code, scan):
    scan(KUALA_LUMPUR, qr_path(code))
    assert scan(GEORGE_TOWN, qr_path(code))["warnings"] == []  # under the minimum distance


def test_scans_outside_the_brands_markets_alert_off_market(brand, code, scan):
    limits(brand, markets=["MY", "SG"], blocked_countries=["GB"])
    scan(KUALA_LUMPUR, qr_path(code))
    assert not Alert.objects.exists()
    scan(STANFORD, qr_path(code))
    scan(ENGLAND, qr_path(code))
    off = Alert.objects.get(kind="off_market")
    assert off.country_code == "US" and off.count == 2 and off.severity == "high"  # raised by the blocked one
    assert scan(ENGLAND, qr_path(code))["status"] == "active"  # the consumer is not told: the brand is


def test_not_recognised_scans_of_a_brand_gtin_from_one_region_make_a_hot_spot(brand, code, scan):
    from django.core.cache import cache
    from django.utils import timezone

    from scans.detection import hot_spot_key

    limits(brand, hot_spot_scans=3, hot_spot_minutes=60)
    now = timezone.now()  # counters live in Redis, which outlives the test database: start from zero
    cache.delete_many([hot_spot_key(brand.pk, code.product.gtin, "MY-08", now + d, 60) for d in (timedelta(0), HOUR)])
    fakes = [f"/01/{code.product.gtin}/21/FAKE{n:08d}" for n in range(7)]
    for path in fakes[:2]:
        scan(PERAK, path)
    assert not Alert.objects.exists()
    for path in fakes[2:]:
        scan(PERAK, path)
    alert = Alert.objects.get(kind="hot_spot")
    assert alert.region_code == "MY-08" and alert.gtin == code.product.gtin and alert.code_id is None
    assert alert.count == 6 and alert.evidence.count() == 2  # reached at 3 and at 6 scans


def test_a_growing_hot_spot_tells_the_brand_at_the_default_threshold(brand, code, scan, receiver):
    """The default threshold is 20 scans: counts 20, 40, 60 … are never powers of two, so "alert.updated"
    (sent at 2, 4, 8 … findings) never went out for a hot spot."""
    from django.core.cache import cache
    from django.utils import timezone

    from notifications.models import WebhookDelivery
    from scans.detection import hot_spot_key
    from tests.factories import webhook_of

    webhook_of(brand, url=receiver.url)
    limits(brand, hot_spot_scans=rules.Thresholds().hot_spot_scans, hot_spot_minutes=60)
    step, now = rules.Thresholds().hot_spot_scans, timezone.now()
    cache.delete_many([hot_spot_key(brand.pk, code.product.gtin, "MY-08", now + d, 60) for d in (timedelta(0), HOUR)])
    for n in range(2 * step):
        scan(PERAK, f"/01/{code.product.gtin}/21/FAKE{n:08d}")
    assert Alert.objects.get(kind="hot_spot").count == 2 * step
    assert list(WebhookDelivery.objects.values_list("event", flat=True).order_by("pk")) == [
        "alert.opened",
        "alert.updated",
    ]


def test_scans_of_recalled_units_alert_late_scan(brand, code, scan):
    Code.objects.filter(pk=code.pk).update(
        status=CodeStatus.RECALLED, status_change=None
    )  # not by a recall: one alert per unit
    data = scan(PERAK, qr_path(code))
    assert data["status"] == "recalled" and data["warnings"][0]["code"] == "recalled"
    alert = Alert.objects.get(kind="late_scan")
    assert alert.place.startswith("Seri Iskandar") and alert.details == {"status": "recalled"}


def test_grey_market_scan_opens_an_alert_naming_the_distributor(brand, code):
    """The distributor lookup on the verify path sets `out_of_territory` (distributors issue); here the rule
    and the alert are driven with such a scan."""
    from distributors.models import Distributor

    distributor = Distributor.objects.create(brand=brand, name="KL Trading", code="KL", territory=["MY-14"])
    signals = rules.CodeSignals(scan_count=1, regions=1, devices=1)
    found = rules.findings(
        signals, rules.ScanFacts(status="active", country_code="MY", out_of_territory=True), rules.Thresholds()
    )
    assert [f.kind for f in found] == ["grey_market"]
    scan = Scan.objects.create(
        brand=brand,
        code=code,
        product=code.product,
        outcome="authentic",
        region_code="MY-07",
        country_code="MY",
        distributor=distributor,
        out_of_territory=True,
    )
    alerts.record_findings(
        scan_id=scan.pk, findings=[{"kind": f.kind, "severity": f.severity, "params": {}} for f in found]
    )
    assert Alert.objects.get().distributor == distributor


def test_a_redelivered_findings_task_counts_each_scan_once_per_alert(brand, code):
    """Each finding is recorded in its own transaction: a worker killed after the first leaves its task to be
    redelivered, and the repeat records the rest and counts nothing twice (nor tells the brand twice)."""
    from notifications.models import WebhookDelivery
    from scans.tasks import record_findings_task
    from tests.factories import webhook_of

    webhook_of(brand)
    scan = Scan.objects.create(brand=brand, code=code, product=code.product, outcome="authentic", country_code="MY")
    findings = [
        {"kind": "likely_copy", "severity": "high", "params": {"reasons": ["regions"]}},
        {"kind": "late_scan", "severity": "medium", "params": {"status": "recalled"}},
    ]
    alerts.record_findings(scan_id=scan.pk, findings=findings[:1])  # what the killed worker had committed
    record_findings_task(scan.pk, findings)  # the redelivered task
    record_findings_task(scan.pk, findings)  # and a redelivery more
    assert sorted(Alert.objects.values_list("kind", "count")) == [("late_scan", 1), ("likely_copy", 1)]
    assert sorted(a.evidence.count() for a in Alert.objects.all()) == [1, 1]
    assert WebhookDelivery.objects.filter(event="alert.opened").count() == 2


def test_an_alert_runs_new_investigating_escalated_closed_with_reason(brand, owner):
    from tests.factories import alert_of

    alert = alert_of(ready_batch(ProductFactory(brand=brand), quantity=2, activated=True))
    for status in ("investigating", "escalated"):
        alerts.move_alert(alert=alert, to_status=status, by=owner.user)
    with pytest.raises(alerts.AlertError):
        alerts.move_alert(alert=alert, to_status="closed", by=owner.user)  # no reason
    alerts.move_alert(alert=alert, to_status="closed", by=owner.user, note="Parallel import, settled")
    alert.refresh_from_db()
    assert alert.closed_by == owner.user and alert.close_reason == "Parallel import, settled"
    assert list(alert.events.values_list("to_status", flat=True)) == ["new", "investigating", "escalated", "closed"]


def test_a_finding_after_close_opens_a_new_alert(brand):
    from tests.factories import alert_of

    batch = ready_batch(ProductFactory(brand=brand), quantity=2, activated=True)
    first = alert_of(batch)
    alerts.move_alert(alert=first, to_status=AlertStatus.CLOSED, note="done")
    second = alert_of(batch)
    assert second.pk != first.pk and second.status == "new"


def test_alert_opened_goes_out_as_a_signed_webhook(brand, code, scan, receiver):
    import json

    from tests.factories import webhook_of

    webhook_of(brand, url=receiver.url)
    scan(KUALA_LUMPUR, qr_path(code))
    scan(STANFORD, qr_path(code))
    [(headers, body)] = receiver.requests
    event = json.loads(body)
    assert event["type"] == "alert.opened" and event["data"]["kind"] == "likely_copy"
    assert event["data"]["serial"] == code.serial and headers["Serialize-Signature"].startswith("t=")


def test_inbox_counts_filters_and_query_count(brand, owner_client, django_assert_max_num_queries):
    from tests.factories import alert_of

    batch = ready_batch(ProductFactory(brand=brand), quantity=2, activated=True)
    alert_of(batch)
    alert_of(batch, kind="off_market")
    with django_assert_max_num_queries(8):
        page = owner_client.get("/alerts/").content.decode()
    assert "Likely copy" in page and "Off market" in page
    only = owner_client.get("/alerts/?kind=off_market").content.decode()
    assert only.count('href="/alerts/') - page.count('href="/alerts/') < 0


def test_alert_page_shows_the_timeline_and_viewers_cannot_move_it(brand, owner_client, viewer_client):
    from tests.factories import alert_of

    alert = alert_of(ready_batch(ProductFactory(brand=brand), quantity=2, activated=True))
    page = viewer_client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "Kuala Lumpur" in page and "Scan timeline" in page and "Move to" not in page
    assert viewer_client.post(f"/alerts/{alert.pk}/move/", {"status": "investigating"}).status_code == 403
    owner_client.post(f"/alerts/{alert.pk}/move/", {"status": "investigating"})
    assert Alert.objects.get(pk=alert.pk).status == "investigating"


def test_detection_settings_are_edited_by_admins(brand, owner_client, operator_client):
    assert operator_client.get("/settings/detection/").status_code == 403
    response = owner_client.post(
        "/settings/detection/",
        {
            "max_regions": 3,
            "max_devices": 8,
            "max_speed_kmh": 800,
            "min_travel_km": 200,
            "markets": "my, sg",
            "blocked_countries": "",
            "hot_spot_scans": 10,
            "hot_spot_minutes": 30,
            "late_scan_alerts": "on",
        },
    )
    assert response.status_code == 302
    assert DetectionSettings.objects.get(brand=brand).markets == ["MY", "SG"]


@pytest.mark.embedded
def test_embedded_sqlite_mode_gives_the_same_verdicts_alerts_and_recalls(tmp_path):
    import os
    import subprocess
    import sys

    from tests.test_operability import ROOT, run_manage

    drop = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "MASTER_KEY", "ALLOWED_HOSTS"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    # No worker runs beside this probe (bin/run starts one in the embedded mode): tasks run in-process.
    env.update(VAR_DIR=str(tmp_path), TRUSTED_PROXIES="127.0.0.1", CELERY_TASK_ALWAYS_EAGER="1")
    run_manage("migrate", "--noinput", env=env)
    run_manage("seed_demo", env=env)
    probe = (
        "import django, os\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'serialize_saas.settings'); django.setup()\n"
        "from django.core.management import call_command\n"
        "from django.test import Client\n"
        "from codes.models import Code\n"
        "from scans.models import Alert\n"
        "code = Code.objects.select_related('batch__lot', 'product').order_by('pk').first()\n"
        "path = f'/01/{code.product.gtin}/21/{code.serial}'\n"
        "ask = lambda ip: Client(HTTP_HOST='127.0.0.1').get(path, HTTP_ACCEPT='application/json',"
        " HTTP_X_FORWARDED_FOR=ip).json()\n"
        "print('first', [w['code'] for w in ask('175.139.1.1')['warnings']])\n"
        "print('travel', [w['code'] for w in ask('171.64.0.1')['warnings']])\n"
        "print('alerts', list(Alert.objects.filter(code=code).values_list('kind', flat=True)))\n"
        "call_command('recall', '--brand', code.product.brand.slug, '--batch', str(code.batch_id), '--from', '1',"
        " '--to', '1', '--reason', 'probe')\n"
        "data = ask('175.139.1.1')\n"
        "print('recalled', data['status'], [w['code'] for w in data['warnings']])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    lines = [
        line for line in out.stdout.splitlines() if line.split(" ")[0] in {"first", "travel", "alerts", "recalled"}
    ]
    assert lines == [
        "first []",
        "travel ['likely_copy']",
        "alerts ['likely_copy', 'grey_market']",  # the demo batch is a KL distributor's: Stanford is outside
        "recalled recalled ['recalled', 'likely_copy']",
    ], out.stderr[-3000:]


def test_late_scans_of_one_recall_make_one_alert_that_grows_and_lists_its_units(brand, owner_client, scan):
    from tests.factories import applied_recall

    batch = ready_batch(ProductFactory(brand=brand, gtin="09506000134352"), quantity=10, activated=True)
    change = applied_recall(batch, first=2, last=5)
    units = list(Code.objects.filter(batch=batch, status=CodeStatus.RECALLED).order_by("ordinal"))
    for unit in units[:3]:
        assert scan(PERAK, qr_path(unit))["status"] == "recalled"
    alert = Alert.objects.get(kind="late_scan")  # one for the recall, not one per unit
    assert alert.count == 3 and alert.details == {"status": "recalled", "recall": change.pk} and alert.serial == ""
    page = owner_client.get(f"/alerts/{alert.pk}/").content.decode()
    assert all(unit.serial in page for unit in units[:3]) and units[3].serial not in page
    assert f"/recalls/{change.pk}/" in page


def test_a_person_clears_a_wrong_copy_flag_with_a_reason_and_it_stays_cleared(brand, code, scan, operator_client):
    """Issue 18: closing the alert was undone by the next genuine scan (the flag is permanent)."""
    limits(brand, max_regions=2, min_travel_km=50_000)
    for ip in (KUALA_LUMPUR, GEORGE_TOWN, PERAK):
        scan(ip, qr_path(code))
    assert Code.objects.get(pk=code.pk).suspect_at is not None
    assert operator_client.post(f"/codes/{code.pk}/clear-copy-flag/", {"reason": ""}).status_code == 302
    assert Code.objects.get(pk=code.pk).suspect_at is not None  # no reason, nothing cleared
    operator_client.post(f"/codes/{code.pk}/clear-copy-flag/", {"reason": "Our own field tests in 3 states"})
    assert Code.objects.get(pk=code.pk).suspect_at is None
    alert = Alert.objects.get(kind="likely_copy")
    assert alert.status == AlertStatus.CLOSED and "Our own field tests" in alert.close_reason
    assert scan(KUALA_LUMPUR, qr_path(code))["warnings"] == []  # the next genuine scan raises nothing anew
    assert Alert.objects.filter(kind="likely_copy").exclude(status=AlertStatus.CLOSED).count() == 0


def test_clearing_a_copy_flag_needs_the_operators_role_of_the_codes_brand(code, viewer_client, outsider_client):
    Code.objects.filter(pk=code.pk).update(suspect_at="2026-01-01T00:00:00Z")
    assert viewer_client.post(f"/codes/{code.pk}/clear-copy-flag/", {"reason": "x"}).status_code == 403
    assert outsider_client.post(f"/codes/{code.pk}/clear-copy-flag/", {"reason": "x"}).status_code == 404
    assert Code.objects.get(pk=code.pk).suspect_at is not None


def test_a_flood_of_new_alerts_is_not_sent_out_one_message_each(brand, settings, receiver):
    from notifications.models import WebhookDelivery
    from tests.factories import alert_of, webhook_of

    settings.ALERT_NOTIFICATIONS_PER_HOUR = 3
    webhook_of(brand, url=receiver.url)
    for _ in range(5):
        alert_of(ready_batch(ProductFactory(brand=brand), quantity=1, activated=True), kind="likely_copy")
    assert Alert.objects.filter(brand=brand).count() == 5  # every alert is in the inbox
    assert WebhookDelivery.objects.filter(event="alert.opened").count() == 3
