"""Scale: verify throughput and the dashboard's queries with a small scan log, then with 50,000,000 scans.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/serialize_scale REDIS_URL=redis://127.0.0.1:6379/5 \
        MASTER_KEY=… VERIFY_BASE_URL=https://verify.example.com python bench/scale.py [--scans 50000000] [--months 15]

In one run, on a scratch database:
1. small log: a brand with a batch of 1,000,000 codes (bench/verify_load.py's) and 1,000,000 scans of it over the
   last 30 days (what its overview shows), a few other brands with batches of their own;
2. measure (under `flock /tmp/bench.lock`: the machine's load benchmarks never overlap): the overview service and
   the whole overview page once rolled up, the scan list page (newest first, read from the log), a scan read by
   id alone (alerts worker, GPS fix, page-view confirmation: no partition key to prune with), and verify under
   gunicorn and wrk (bench/verify_load.py's machinery: 90% real codes, 10% made-up serials, JSON);
3. fill the log to `--scans` rows with server-side INSERT … SELECT generate_series (outside the lock), spread over
   the `--months` months before this one and this month so far: other brands' scans in every month, the measured
   brand's only before its 30-day window, so its overview has the same work to do and only the log around it grows.
   A past month is filled as a table of its own and then attached as the log's partition (its indexes are built
   once, in bulk); ANALYZE;
4. measure again, and print large/small ratios.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _setup import ROOT, bench_brand, setup_django

LOCK = "/tmp/bench.lock"
OTHER_BRANDS = 4
OTHER_BATCH = 200_000
RECENT_SCANS = 1_000_000
REGIONS = ["MY-14", "MY-10", "MY-01", "MY-07", "MY-08", "MY-12", "MY-13", "MY-06", "SG", "TH-10"]
FILL_COLUMNS = (
    "brand_id, product_id, code_id, gtin, serial, scanned_at, source, outcome, place, city, region_code, "
    "country_code, location_source, user_agent_family, ip_hash, distributor_id, out_of_territory"
)
# Scans of one batch in [start, end): one statement; codes picked by ordinal, a hash join with the batch's codes.
FILL_SQL = f"""
INSERT INTO {{table}} ({FILL_COLUMNS})
SELECT %(brand)s, %(product)s, c.id, %(gtin)s, c.serial,
       %(start)s::timestamptz + random() * (%(end)s::timestamptz - %(start)s::timestamptz),
       CASE WHEN g %% 9 = 0 THEN 'page' ELSE 'qr' END,
       CASE WHEN g %% 50 = 0 THEN 'not_recognised' ELSE 'authentic' END,
       (%(regions)s::text[])[1 + g %% 10] || ' town', '', (%(regions)s::text[])[1 + g %% 10],
       left((%(regions)s::text[])[1 + g %% 10], 2), 'ip', 'Chrome Mobile', md5(g::text), NULL, g %% 97 = 0
FROM generate_series(1, %(n)s) AS g
JOIN {{codes}} c ON c.product_id = %(product)s
    AND c.ordinal = %(first)s + (g::bigint * 7919 + %(salt)s) %% %(quantity)s
"""  # noqa: S608 - fixed table names


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


# ---------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------


def measured_batch():
    from verify_load import million_code_batch

    return million_code_batch(1_000_000)


def other_batches() -> list:
    """A few more brands with batches of their own, so the log holds realistic brand, product and code ids."""
    from codes import activation, services
    from codes.gs1 import gtin_check_digit
    from codes.models import CodeBatch

    batches = list(CodeBatch.objects.filter(lot__number="SCALE", state="ready").select_related("product"))
    for n in range(len(batches), OTHER_BRANDS):
        body = f"0{950600077700 + n:012d}"
        gtin = body + gtin_check_digit(body)
        brand = bench_brand(f"scale{n}", gtin)
        product = services.create_product(
            brand=brand, name=f"Scale {n}", gtin=gtin, serial_alphabet="alnum", serial_length=12
        )
        lot = services.get_or_create_lot(product=product, number="SCALE")
        batch = services.generate_batch(
            services.order_batch(product=product, lot=lot, quantity=OTHER_BATCH, enqueue=False).pk
        )
        activation.activate(brand=brand, batch=batch, reason="Bench: labels applied", enqueue=False)  # live codes
        batches.append(batch)
    return batches


def fill(cursor, table: str, batch, n: int, start: datetime, end: datetime, salt: int) -> None:
    if n <= 0 or end <= start:
        return
    params = {
        "brand": batch.product.brand_id,
        "product": batch.product_id,
        "gtin": batch.product.gtin,
        "start": start,
        "end": end,
        "regions": REGIONS,
        "n": n,
        "first": batch.first_ordinal,
        "quantity": batch.quantity,
        "salt": salt,
    }
    from codes.models import Code

    cursor.execute(FILL_SQL.format(table=table, codes=Code._meta.db_table), params)


def scans_in_log() -> int:
    from django.db import connection

    with connection.cursor() as cursor:  # the planner's count: exact enough, and instant over 50M rows
        cursor.execute(
            "SELECT COALESCE(sum(GREATEST(c.reltuples, 0)), 0)::bigint FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'scans_scan'::regclass"
        )
        estimate = cursor.fetchone()[0]
        if estimate > 5_000_000:
            return estimate
        cursor.execute("SELECT count(*) FROM scans_scan")
        return cursor.fetchone()[0]


def small_log(batch) -> None:
    """The measured brand's last 30 days: RECENT_SCANS scans (once)."""
    from django.db import connection

    from scans import partitions, rollups
    from scans.models import Scan

    partitions.create_partitions()
    have = Scan.objects.for_brand(batch.product.brand).count()
    if have < RECENT_SCANS:
        now = datetime.now(UTC)
        with connection.cursor() as cursor:
            cursor.execute("SET work_mem = '256MB'")
            fill(cursor, "scans_scan", batch, RECENT_SCANS - have, now - timedelta(days=30), now, 0)
        partitions.create_partitions()  # last month's scans wait in the default partition until now
    with connection.cursor() as cursor:  # fresh statistics for every table (codes were just COPY-inserted)
        cursor.execute("VACUUM ANALYZE")
    rollups.forget(batch.product.brand)


def fill_log(batch, others: list, scans: int, months: int) -> None:
    """Grow the log to `scans` rows over the last `months` months and this one (outside the lock)."""
    from django.db import connection, transaction

    from scans import partitions

    missing = scans - scans_in_log()
    if missing <= 0:
        return
    now = datetime.now(UTC)
    this_month = partitions.month_of(now.date())
    window = now - timedelta(days=31)  # the measured brand's recent scans are already there
    periods = []
    for n in range(months, -1, -1):
        month = partitions.add_months(this_month, -n)
        start = datetime(month.year, month.month, 1, tzinfo=UTC)
        nxt = partitions.add_months(month, 1)
        periods.append((month, start, min(datetime(nxt.year, nxt.month, 1, tzinfo=UTC), now)))
    total_seconds = sum((end - start).total_seconds() for _, start, end in periods)
    existing = partitions.monthly_partitions()
    started = time.perf_counter()
    for index, (month, start, end) in enumerate(periods):
        share = missing * (end - start).total_seconds() / total_seconds
        measured_end = min(end, window)
        measured = int(share * 0.3) if measured_end > start else 0
        per_other = int((share - measured) / len(others))
        attach = month not in existing
        name = partitions.partition_name(month)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            if attach:  # filled as a plain table, its indexes built once when it is attached
                cursor.execute(f"CREATE TABLE {name} (LIKE scans_scan INCLUDING DEFAULTS INCLUDING STORAGE)")
            table = name if attach else "scans_scan"
            fill(cursor, table, batch, measured, start, measured_end, index)
            for n, other in enumerate(others):
                fill(cursor, table, other, per_other, start, end, index * 10 + n)
            if attach:
                lo, hi = start.strftime("%Y-%m-%d"), partitions.add_months(month, 1).strftime("%Y-%m-%d")
                cursor.execute(f"ALTER TABLE scans_scan ATTACH PARTITION {name} FOR VALUES FROM ('{lo}') TO ('{hi}')")
        print(f"  {month:%Y-%m}: {measured + per_other * len(others):,} scans ({time.perf_counter() - started:.0f} s)")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# ---------------------------------------------------------------------------------------------------------
# Measuring (run under the lock)
# ---------------------------------------------------------------------------------------------------------


def measure_pages(batch, runs: int) -> dict:
    from django.conf import settings
    from django.test import Client, override_settings

    from brands.models import Membership
    from scans import queries
    from scans.models import Scan

    brand = batch.product.brand
    first = queries.overview(brand)  # rolls the past days up (once), then reads rollups + today's rows
    client = Client()
    client.force_login(Membership.objects.filter(brand=brand).order_by("pk").first().user)
    plain = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    ids = list(Scan.objects.for_brand(brand).order_by("-scanned_at").values_list("pk", flat=True)[:5000:25])
    with override_settings(STORAGES=plain):
        assert client.get("/dashboard/", HTTP_HOST="127.0.0.1").status_code == 200
        result = {
            "overview_30_days": first.scans_30_days,
            "overview service": timed(lambda: queries.overview(brand), runs),
            "GET /dashboard/": timed(lambda: client.get("/dashboard/", HTTP_HOST="127.0.0.1"), runs),
            "GET /scans/ (newest 50)": timed(lambda: client.get("/scans/", HTTP_HOST="127.0.0.1"), runs),
            "scan by id alone": [t for i in ids for t in timed(lambda i=i: Scan.objects.filter(pk=i).first(), 1)],
        }
    return result


def measure_verify(batch, seconds: int, workers: int) -> dict:
    from verify_load import check_answers, start_gunicorn, stop, write_paths, wrk

    folder = Path(tempfile.mkdtemp())
    paths, _ = write_paths(batch, 50_000, folder)
    server = start_gunicorn(workers)
    try:
        check_answers(paths)
        wrk(paths, 3)  # warm-up: per-process caches, connections
        return wrk(paths, seconds)
    finally:
        stop(server)


def measure(args) -> None:
    batch = measured_batch()
    result = {"scans_in_log": scans_in_log(), "partitions": partitions_count()}
    result.update(measure_pages(batch, args.runs))
    result["verify"] = measure_verify(batch, args.seconds, args.workers)
    Path(args.out).write_text(json.dumps(result))


def partitions_count() -> int:
    from scans import partitions

    return len(partitions.monthly_partitions())


# ---------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------


def measure_under_lock(args, label: str) -> dict:
    out = Path(tempfile.gettempdir()) / f"scale-{label}.json"
    command = [sys.executable, __file__, "--measure", "--out", str(out), "--seconds", str(args.seconds)]
    command += ["--runs", str(args.runs), "--workers", str(args.workers)]
    print(f"measuring ({label} log), waiting for {LOCK} …", flush=True)
    subprocess.run(["flock", LOCK, *command], check=True, cwd=ROOT)
    return json.loads(out.read_text())


def report(small: dict, large: dict, args) -> None:
    print(f"\nscan log: {small['scans_in_log']:,} scans ({small['partitions']} monthly partitions) → ", end="")
    print(f"{large['scans_in_log']:,} scans ({large['partitions']} monthly partitions)")
    print(f"overview, scans in the last 30 days: {small['overview_30_days']:,} → {large['overview_30_days']:,}")
    print(f"{'median ms (max)':<34}{'small log':>18}{'50M log':>18}{'large/small':>13}")
    for name in ("overview service", "GET /dashboard/", "GET /scans/ (newest 50)", "scan by id alone"):
        a, b = statistics.median(small[name]), statistics.median(large[name])
        cells = f"{a:9.2f} ({max(small[name]):6.1f}){b:11.2f} ({max(large[name]):6.1f})"
        print(f"{name:<34}{cells}{b / a:11.2f}")
    a, b = small["verify"], large["verify"]
    print(f"verify (wrk, 16 connections, {args.seconds} s, gunicorn {args.workers} sync workers, loopback):")
    print(f"  {'req/s':<10}{a['rps']:>14,.0f}{b['rps']:>18,.0f}{b['rps'] / a['rps']:>13.2f}")
    for p in ("p50", "p99"):
        print(f"  {p + ' ms':<10}{a[p]:>14.1f}{b[p]:>18.1f}{b[p] / a[p]:>13.2f}")
    errors, not_found = f"{int(a['errors'])} / {int(b['errors'])}", f"{int(a['non2xx'])} / {int(b['non2xx'])}"
    print(f"  socket errors: {errors}; 404s (the made-up serials): {not_found}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, default=50_000_000)
    parser.add_argument("--months", type=int, default=15)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    setup_django()
    if args.measure:
        measure(args)
        return
    batch = measured_batch()
    others = other_batches()
    small_log(batch)
    small = measure_under_lock(args, "small")
    print(f"filling the log to {args.scans:,} scans over {args.months} months and this one …", flush=True)
    started = time.perf_counter()
    fill_log(batch, others, args.scans, args.months)
    print(f"filled in {time.perf_counter() - started:.0f} s", flush=True)
    large = measure_under_lock(args, "large")
    report(small, large, args)


if __name__ == "__main__":
    main()
