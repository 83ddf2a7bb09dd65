"""Benchmark: a status change of 1,000,000 listed serials (the API's bulk change beyond 1,000 codes, the
dashboard's change by serials), against a bare UPDATE of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/serialize_bench python bench/change_serials.py [--quantity N]
        [--rounds N]

Registers N activated codes for a product (imported serials, then ANALYZE, as autovacuum would), then in each
round: the service plans the change (`codes.recalls.plan_change`: every serial checked and normalised, the audit
row written) and a worker applies it (`apply_change`: chunk by chunk, each committed with its progress); the
baseline is ONE bare `UPDATE … WHERE product_id = %s` of the same rows, setting what the service sets. The units
are put back between runs (not timed) and which side goes first alternates. Prints both times, their ratio per
round and the median.
"""

import argparse
import statistics
import time
import uuid

from _setup import bench_brand, setup_django


def make_units(quantity: int, tag: str):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from codes import imports, services
    from codes.gs1 import gtin_check_digit

    gtin_body = f"0{int(tag, 16) % 10**12:012d}"
    gtin = gtin_body + gtin_check_digit(gtin_body)
    brand = bench_brand(tag, gtin)
    product = services.create_product(brand=brand, name="Bench change", gtin=gtin, serial_alphabet="alnum")
    # Upper case without separators: the spelling the generated form reads them in too, so each is looked for once.
    serials = [f"{tag[:4].upper()}CH{n:010d}" for n in range(quantity)]
    upload = SimpleUploadedFile("serials.csv", ("\n".join(serials) + "\n").encode())
    serial_import = imports.start_import(
        brand=brand, product=product, lot_number="CH1", upload=upload, fmt="csv", enqueue=False
    )
    serial_import = imports.run_import(serial_import.pk)
    assert serial_import.lines_accepted == quantity, serial_import.error
    put_back(product.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE codes_code")
    return brand, product, serials


def put_back(product_id: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE codes_code SET status = 'active', previous_status = NULL, status_changed_at = NULL, "
            "status_change_id = NULL WHERE product_id = %s",
            [product_id],
        )


def run_service(brand, product, serials: list[str]) -> tuple[float, float]:
    from codes import packstates, recalls

    started = time.perf_counter()
    change = recalls.plan_change(
        brand=brand, to_status=packstates.LOCKED, reason="bench", product=product, serials=serials, enqueue=False
    )
    planned = time.perf_counter()
    change = recalls.apply_change(change.pk)
    applied = time.perf_counter()
    assert change.codes_changed == len(serials), change.codes_changed
    return planned - started, applied - planned


def run_baseline(product_id: int) -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE codes_code SET previous_status = status, status = 'locked', status_changed_at = now() "
            "WHERE product_id = %s AND status NOT IN ('destroyed', 'locked')",
            [product_id],
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quantity", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    setup_django()
    brand, product, serials = make_units(args.quantity, uuid.uuid4().hex[:8])
    n, ratios = args.quantity, []
    print(f"listed serials: {n:,} (activated, imported)")
    for round_number in range(1, args.rounds + 1):
        if round_number % 2:
            baseline_s = run_baseline(product.pk)
            put_back(product.pk)
            plan_s, apply_s = run_service(brand, product, serials)
        else:
            plan_s, apply_s = run_service(brand, product, serials)
            put_back(product.pk)
            baseline_s = run_baseline(product.pk)
        put_back(product.pk)
        service_s = plan_s + apply_s
        ratios.append(baseline_s / service_s)
        print(
            f"round {round_number}: bare UPDATE {baseline_s:6.2f} s  change by serials {service_s:6.2f} s "
            f"(plan {plan_s:.2f} s, apply {apply_s:.2f} s, {n / service_s:,.0f} units/s)  ratio {ratios[-1]:.2f}"
        )
    print(f"ratio bare UPDATE/change, median of {len(ratios)}: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
