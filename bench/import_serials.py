"""Benchmark: import 1,000,000 serials from a CSV file through the service, against a bare COPY of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/serialize_bench python bench/import_serials.py [--quantity N]
        [--rounds N]

The service run reads the uploaded file from storage, checks every line (GS1 AI 21, not of the product's generated
form, no repeat), registers the good ones chunk by chunk (each chunk through one COPY kept open while its pieces are
checked, committed with its progress) and ends the batch. Baseline, measured in the same run: psycopg COPY of the
same serials, already formatted as COPY rows, into the same table (codes_code, with its indexes) for another product.
Prints both rates and their ratio for each round (`--rounds`; which of the two runs first alternates), the median
ratio (goal ≥ 0.8) and the peak memory.
"""

import argparse
import resource
import statistics
import time
import uuid

from _setup import bench_brand, setup_django


def serials(quantity: int, tag: str) -> list[str]:
    """Serials a packaging line might assign: a line prefix and a counter, 16 characters (never of the product's
    generated form, 12 Crockford characters)."""
    return [f"{tag[:4].upper()}-L1-{n:09d}" for n in range(quantity)]


def run_service(quantity: int, tag: str, lines: list[str]):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from codes import imports, services
    from codes.gs1 import gtin_check_digit

    gtin_body = f"0{int(tag, 16) % 10**12:012d}"
    gtin = gtin_body + gtin_check_digit(gtin_body)
    brand = bench_brand(tag, gtin)
    product = services.create_product(brand=brand, name="Bench import", gtin=gtin, serial_alphabet="alnum")
    upload = SimpleUploadedFile("serials.csv", ("\n".join(lines) + "\n").encode())
    serial_import = imports.start_import(
        brand=brand, product=product, lot_number="BYO1", upload=upload, fmt="csv", enqueue=False
    )
    started = time.perf_counter()
    serial_import = imports.run_import(serial_import.pk)
    seconds = time.perf_counter() - started
    assert serial_import.lines_accepted == quantity, serial_import.error or serial_import.lines_refused
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return seconds, peak_kb, product


def run_baseline(lines: list[str], tag: str) -> float:
    """A bare COPY of the same serials, formatted as COPY rows beforehand, into the same table (codes_code, as big
    as the import found it, with its indexes) for another product; those rows are deleted again afterwards."""
    from django.db import connection

    from codes import services
    from codes.gs1 import gtin_check_digit

    gtin_body = f"0{(int(tag, 16) + 1) % 10**12:012d}"
    gtin = gtin_body + gtin_check_digit(gtin_body)
    brand = bench_brand(tag + "b", gtin)
    product = services.create_product(brand=brand, name="Bench baseline", gtin=gtin, serial_alphabet="alnum")
    data = "".join(f"{product.pk}\t0\t{i}\t{s}\tnot_activated\t0\t\n" for i, s in enumerate(lines))
    columns = "product_id, batch_id, ordinal, serial, status, scan_count, first_scanned_in"
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY codes_code ({columns}) FROM STDIN") as copy:
        for i in range(0, len(data), 1 << 20):
            copy.write(data[i : i + (1 << 20)])
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM codes_code WHERE product_id = %s", [product.pk])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quantity", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1, help="baseline and import measured this many times each")
    args = parser.parse_args()
    setup_django()
    n, ratios, peak_kb = args.quantity, [], 0
    print(f"serials: {n:,}")
    for round_number in range(1, args.rounds + 1):
        tag = uuid.uuid4().hex[:8]
        lines = serials(n, tag)
        # Which one runs first alternates: the table grows by a million codes each round, so neither always
        # meets the smaller table.
        if round_number % 2:
            baseline_s = run_baseline(lines, tag)
            service_s, peak_kb, _product = run_service(n, tag, lines)
        else:
            service_s, peak_kb, _product = run_service(n, tag, lines)
            baseline_s = run_baseline(lines, tag)
        ratios.append(baseline_s / service_s)
        print(
            f"round {round_number}: bare COPY {baseline_s:6.2f} s ({n / baseline_s:9,.0f} rows/s)  "
            f"import {service_s:6.2f} s ({n / service_s:9,.0f} serials/s)  ratio {ratios[-1]:.2f}"
        )
    print(f"ratio import/COPY, median of {len(ratios)}: {statistics.median(ratios):.2f}  (goal >= 0.8)")
    print(f"peak memory (whole process, file and baseline rows included): {peak_kb / 1024:.0f} MB")


if __name__ == "__main__":
    main()
