"""Benchmark: generate and register 1,000,000 codes through the service, against a bare COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/serialize_bench python bench/generate.py [--quantity N]

Baseline, measured in the same run: psycopg COPY of the same number of precomputed rows of the same shape
into an empty copy of the codes table with the same indexes. Prints rates, the ratio (target ≥ 0.6) and the
peak memory of the service run (target < 300 MB).
"""

import argparse
import resource
import time
import uuid

from _setup import bench_brand, setup_django


def run_service(quantity: int) -> tuple[float, int]:
    from codes import services

    tag = uuid.uuid4().hex[:8]
    gtin_body = f"0{int(tag, 16) % 10**12:012d}"
    from codes.gs1 import gtin_check_digit

    brand = bench_brand(tag, gtin_body + gtin_check_digit(gtin_body))

    product = services.create_product(
        brand=brand,
        name="Bench",
        gtin=gtin_body + gtin_check_digit(gtin_body),
        serial_alphabet="alnum",
        serial_length=12,
    )
    lot = services.get_or_create_lot(product=product, number="BENCH1")
    started = time.perf_counter()
    batch = services.order_batch(product=product, lot=lot, quantity=quantity, enqueue=False)
    batch = services.generate_batch(batch.pk)
    seconds = time.perf_counter() - started
    assert batch.codes_done == quantity
    # Live codes, so that the verify benchmarks that reuse this batch measure the authentic path (not timed here).
    from codes import activation

    activation.activate(brand=brand, batch=batch, reason="Bench: labels applied", enqueue=False)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return seconds, peak_kb, product


def run_baseline(product, quantity: int) -> float:
    from django.db import connection

    from codes.models import Code
    from codes.services import codec_for

    codec = codec_for(product)
    serials = codec.serials(10**9, quantity)  # other ordinals than the service's: no clash, same shape
    data = "".join(f"{product.pk}\t1\t{10**9 + i}\t{s}\tactive\t0\t\n" for i, s in enumerate(serials))
    columns = "product_id, batch_id, ordinal, serial, status, scan_count, first_scanned_in"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        # Same columns, defaults and indexes (PK + both unique constraints); no FKs, which COPY would check.
        cursor.execute(f"CREATE TABLE bench_copy (LIKE {Code._meta.db_table} INCLUDING ALL)")
    connection.commit() if not connection.get_autocommit() else None
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY bench_copy ({columns}) FROM STDIN") as copy:
        for i in range(0, len(data), 1 << 20):
            copy.write(data[i : i + (1 << 20)])
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quantity", type=int, default=1_000_000)
    args = parser.parse_args()
    setup_django()
    n = args.quantity
    service_s, peak_kb, product = run_service(n)
    baseline_s = run_baseline(product, n)
    print(f"codes: {n:,}")
    print(f"baseline bare COPY : {baseline_s:7.2f} s  {n / baseline_s:10,.0f} rows/s")
    print(f"service end to end : {service_s:7.2f} s  {n / service_s:10,.0f} codes/s")
    print(f"ratio service/COPY : {baseline_s / service_s:.2f}  (target >= 0.6)")
    print(f"peak memory (service run): {peak_kb / 1024:.0f} MB  (target < 300 MB)")


if __name__ == "__main__":
    main()
