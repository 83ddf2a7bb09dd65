"""Benchmark: what detection adds to a scan, and how fast the alert inbox, the recall report and a big recall are.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/serialize_bench9 REDIS_URL=redis://127.0.0.1:6379/9 \
        python bench/detect.py [--codes 1000000] [--scans 10000000] [--samples 6000]

Seeds (once; later runs reuse them) a batch of `--codes` codes and `--scans` scans of them in the scan log,
by COPY, and gives every code a realistic detection state (a few regions and devices, a located fix).
Then, in the same run and process:
- the verify service on the same mix of requests (90% real codes from a dozen places, 10% made-up serials),
  alternating detection on and off call by call: p50/p99 per scan of each and the difference (target: detection
  adds < 2 ms at p99). Alerts go to a real Celery broker (REDIS_URL), as in production: never in the scan's time;
- the alert inbox and the recall report, as services and as pages (target < 200 ms);
- a recall of all `--codes` codes by the service the worker runs (target < 30 s).
"""

import argparse
import io
import os
import random
import statistics
import time
import uuid

from _setup import setup_django

LOT = "DETECT1"
PLACES = [  # IPs the packaged GeoLite2 maps to cities in different regions
    "175.139.1.1",
    "175.139.200.1",
    "60.48.1.1",
    "171.64.0.1",
    "81.2.69.142",
    "18.0.0.1",
    "202.186.1.1",
    "1.128.0.1",
]
AGENTS = ["Mobile Safari", "Chrome Mobile", "Samsung Internet", "Firefox Mobile"]


def batch_of_codes(quantity: int):
    from brands.models import User
    from brands.services import create_brand
    from codes import services
    from codes.gs1 import gtin_check_digit
    from codes.models import CodeBatch

    batch = (
        CodeBatch.objects.filter(lot__number=LOT, quantity=quantity, state="ready").select_related("product").first()
    )
    if batch:
        return batch
    tag = uuid.uuid4().hex[:8]
    owner = User.objects.create_user(f"detect-{tag}@example.com", "bench-password-1")
    brand = create_brand(name=f"Detect {tag}", owner=owner)
    body = f"0{int(tag, 16) % 10**12:012d}"
    product = services.create_product(
        brand=brand, name="Detect", gtin=body + gtin_check_digit(body), serial_alphabet="alnum", serial_length=12
    )
    lot = services.get_or_create_lot(product=product, number=LOT)
    started = time.perf_counter()
    batch = services.generate_batch(services.order_batch(product=product, lot=lot, quantity=quantity, enqueue=False).pk)
    print(f"seeded {quantity:,} codes in {time.perf_counter() - started:.1f} s")
    from codes import activation

    activation.activate(brand=brand, batch=batch, reason="Bench: labels applied", enqueue=False)  # live codes
    return batch


def code_id_range(batch) -> tuple[int, int]:
    from django.db import connection

    from codes.models import Code

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id), max(id) FROM {Code._meta.db_table} WHERE batch_id = %s", [batch.pk])
        return cursor.fetchone()


def seed_scans(batch, count: int) -> None:
    """COPY `count` scans of the batch's codes over the last 90 days (skipped when they are there)."""
    from django.db import connection

    brand_id, product_id = batch.product.brand_id, batch.product_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM scans_scan WHERE product_id = %s", [product_id])
        have = cursor.fetchone()[0]
    if have >= count:
        print(f"scan log: {have:,} scans of the bench product already there")
        return
    first_id, last_id = code_id_range(batch)
    rng = random.Random(7)
    regions = [
        ("Kuala Lumpur, Kuala Lumpur, MY", "Kuala Lumpur", "MY-14", "MY"),
        ("George Town, Penang, MY", "George Town", "MY-07", "MY"),
        ("Stanford, California, US", "Stanford", "US-CA", "US"),
    ]
    columns = (
        "code_id, brand_id, product_id, gtin, serial, scanned_at, source, outcome, place, city, region_code, "
        "country_code, location_source, user_agent_family, ip_hash, out_of_territory"
    )
    now = time.time()
    started = time.perf_counter()
    todo = count - have
    while todo > 0:
        n = min(todo, 1_000_000)
        out = io.StringIO()
        for _ in range(n):
            place, city, region, country = regions[rng.randrange(3)]
            moment = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(now - 3600 - rng.random() * 90 * 86400))
            out.write(
                f"{rng.randint(first_id, last_id)}\t{brand_id}\t{product_id}\t{batch.product.gtin}\t\t{moment}\tqr\t"
                f"authentic\t{place}\t{city}\t{region}\t{country}\tip\tMobile Safari\t{rng.getrandbits(128):032x}\tf\n"
            )
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY scans_scan ({columns}) FROM STDIN") as copy:
            copy.write(out.getvalue())
        todo -= n
        print(f"  … {count - todo:,} scans", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE scans_scan")
    print(f"seeded {count - have:,} scans by COPY in {time.perf_counter() - started:.1f} s")


def reset_codes(batch) -> None:
    """Every code active again with a typical detection state (a rerun measures the same thing)."""
    from django.db import connection

    from codes.models import Code

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Code._meta.db_table} SET status = 'active', previous_status = NULL, status_change_id = NULL, "
            "suspect_at = NULL, scan_count = 10, first_scanned_at = now() - interval '30 days', "
            "first_scanned_in = 'Kuala Lumpur, Kuala Lumpur, MY', seen_regions = 'MY-14;MY-07;', "
            "seen_devices = '0123456789;abcdef0123;', last_fix = '3.0947,101.6796,1700000000', prev_fix = NULL "
            "WHERE batch_id = %s",
            [batch.pk],
        )
        cursor.execute(f"VACUUM ANALYZE {Code._meta.db_table}")  # autocommit: the bench runs outside any transaction
    print(f"reset {batch.quantity:,} codes' states in {time.perf_counter() - started:.1f} s")


def requests(batch, count: int) -> list[tuple[str, object]]:
    from codes.serials import CROCKFORD32
    from codes.services import codec_for
    from scans.context import ScanContext
    from scans.geo import default_locator

    codec, rng, locator = codec_for(batch.product), random.Random(11), default_locator()
    made = []
    for _ in range(count):
        if rng.random() < 0.9:
            serial = codec.serial(batch.first_ordinal + rng.randrange(batch.quantity))
        else:
            serial = "".join(rng.choice(CROCKFORD32) for _ in range(12))
        ip = rng.choice(PLACES)
        context = ScanContext(
            ip_hash=f"{rng.getrandbits(128):032x}", place=locator.from_ip(ip), user_agent_family=rng.choice(AGENTS)
        )
        made.append((f"/01/{batch.product.gtin}/10/{LOT}/21/{serial}", context))
    return made


def measure_verify(batch, samples: int) -> dict:
    from django.conf import settings

    from scans import verify

    work = requests(batch, samples)
    for path, context in work[:300]:  # warm up: caches, prepared statements
        verify.verify(path=path, query="", context=context)
    times = {True: [], False: []}
    for i, (path, context) in enumerate(work):
        detect = i % 2 == 0  # alternate: both modes see the same mix, the same cache and disk state
        settings.DETECTION_ENABLED = detect
        started = time.perf_counter_ns()
        verify.verify(path=path, query="", context=context)
        times[detect].append((time.perf_counter_ns() - started) / 1000)
    settings.DETECTION_ENABLED = True
    return {mode: (percentile(t, 50), percentile(t, 99)) for mode, t in times.items()}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def seed_alerts(batch, count: int) -> None:
    from scans.models import Alert

    brand_id = batch.product.brand_id
    have = Alert.objects.filter(brand_id=brand_id).count()
    if have >= count:
        return
    first_id, _ = code_id_range(batch)
    kinds, statuses = ["likely_copy", "grey_market", "off_market", "late_scan"], ["new", "investigating", "closed"]
    Alert.objects.bulk_create(
        (
            Alert(
                brand_id=brand_id,
                kind=kinds[i % 4],
                status=statuses[i % 3],
                key=f"code:{first_id + i}",
                code_id=first_id + i,
                product_id=batch.product_id,
                gtin=batch.product.gtin,
                place="Kuala Lumpur, Kuala Lumpur, MY",
                region_code="MY-14",
                country_code="MY",
                count=1 + i % 7,
            )
            for i in range(have, count)
        ),
        batch_size=5_000,
    )


def timed(call, repeat: int = 15) -> tuple[float, float]:
    """(median, max) milliseconds."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), max(runs)


def owner_client(batch):
    from django.test import Client

    from brands.models import Membership

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(Membership.objects.filter(brand_id=batch.product.brand_id).first().user)
    return client


def page(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    if hasattr(response, "streaming_content"):
        for _ in response.streaming_content:
            pass


def recall_everything(batch):
    from codes import recalls

    change = recalls.recall(brand=batch.product.brand, batch=batch, reason="Benchmark recall", enqueue=False)
    started = time.perf_counter()
    change = recalls.apply_change(change.pk)
    return change, time.perf_counter() - started


def late_scans(batch, change, count: int) -> None:
    """Scans of recalled units after the recall, through the verify service (what the report lists)."""
    from scans import verify

    for path, context in requests(batch, count):
        verify.verify(path=path, query="", context=context)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--scans", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=6_000)
    parser.add_argument("--alerts", type=int, default=50_000)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL: alerts must go to a broker, as in production, not run in the scan's time.")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    setup_django()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},  # no collectstatic
    }

    from scans import alerts, recall_report

    batch = batch_of_codes(args.codes)
    seed_scans(batch, args.scans)
    reset_codes(batch)
    seed_alerts(batch, args.alerts)

    verify = measure_verify(batch, args.samples)
    (on50, on99), (off50, off99) = verify[True], verify[False]

    client = owner_client(batch)
    brand = batch.product.brand
    inbox_service = timed(lambda: list(alerts.inbox(brand)[0]))
    inbox_page = timed(lambda: page(client, "/alerts/"))

    change, recall_seconds = recall_everything(batch)
    late_scans(batch, change, 2_000)
    report_service = timed(lambda: recall_report.summary(change))
    report_page = timed(lambda: page(client, f"/recalls/{change.pk}/"))
    report_csv = timed(lambda: page(client, f"/recalls/{change.pk}/report.csv"))
    summary = recall_report.summary(change)

    from scans.models import Alert, Scan

    print(f"data: {args.codes:,} codes, {Scan.objects.count():,} scans, {Alert.objects.count():,} alerts")
    print(f"verify service, {args.samples:,} calls alternating (90% real codes, 10% made-up), µs per scan:")
    print(f"  detection off: p50 {off50:8.0f}  p99 {off99:8.0f}")
    print(f"  detection on : p50 {on50:8.0f}  p99 {on99:8.0f}")
    print(f"  added        : p50 {on50 - off50:8.0f}  p99 {on99 - off99:8.0f}  (target: p99 < 2000 µs)")
    print(
        f"alert inbox   : service {inbox_service[0]:6.1f} ms (max {inbox_service[1]:.1f}), "
        f"page {inbox_page[0]:6.1f} ms (max {inbox_page[1]:.1f})  (target < 200 ms)"
    )
    print(f"recall of {change.codes_changed:,} codes: {recall_seconds:.1f} s  (target < 30 s)")
    print(
        f"recall report ({summary['scans']:,} scans of {summary['units']:,} units after the recall): "
        f"service {report_service[0]:.1f} ms, page {report_page[0]:.1f} ms (max {report_page[1]:.1f}), "
        f"CSV {report_csv[0]:.1f} ms  (target < 200 ms)"
    )
    print(
        f"run at {time.strftime('%Y-%m-%d %H:%M:%S')} on {os.cpu_count()} CPUs; "
        f"timings include this process's Python (no HTTP server) except the pages, which use the test client"
    )
    from serialize_saas.celery import app

    app.control.purge()  # the alerts the run queued: nobody needs them


if __name__ == "__main__":
    main()
