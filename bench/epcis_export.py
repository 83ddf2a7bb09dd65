"""Benchmark: a batch's EPCIS export through the API, in bounded memory, against a bare COPY of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/serialize_bench python bench/epcis_export.py [--quantity N]
        [--rounds R] [--cartons SIZE]

Registers a batch of N codes (1,000,000 by default) and one of N/10, then streams `GET /api/v1/batches/{id}/epcis/`
for each in a fresh process (Django's test client, a read key), reading the whole body. Baseline, measured in the
same run: `COPY (SELECT ordinal, serial … ORDER BY ordinal) TO STDOUT` of the same rows through psycopg. Prints the
time of each, their ratio, and each export process's peak RSS: the same peak for N/10 and N is bounded memory.
With `--cartons SIZE` both batches are also packed in cartons of SIZE and shipped whole, so their exports hold
packing and shipping events too (each unit named three times, against the baseline's one read).
"""

import argparse
import json
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

from _setup import ROOT, bench_brand, setup_django


def make_batch(brand, product, quantity: int):
    from codes import services

    lot = services.get_or_create_lot(product=product, number=f"E{quantity}")
    batch = services.order_batch(product=product, lot=lot, quantity=quantity, enqueue=False)
    return services.generate_batch(batch.pk)


def supply(brand, batch, carton_size: int) -> None:
    """Pack the batch into cartons and ship all of it to one distributor: packing and shipping events too."""
    from distributors.models import Distributor
    from distributors.services import assign_range, pack_cartons

    prefix = batch.product.gtin[1:13]  # the bench brand's 12-digit prefix: 9,999 SSCCs, so cartons of 200 or more
    pack_cartons(batch=batch, first_position=1, last_position=batch.quantity, size=carton_size, company_prefix=prefix)
    distributor = Distributor.objects.create(brand=brand, name="Bench", code=f"B{batch.pk}")
    assign_range(batch=batch, distributor=distributor, first_position=1, last_position=batch.quantity)


def setup(quantity: int, carton_size: int) -> tuple[list[int], str]:
    from brands.apikeys import create_api_key
    from codes import services
    from codes.gs1 import gtin_check_digit

    tag = uuid.uuid4().hex[:8]
    body = f"0{int(tag, 16) % 10**12:012d}"
    gtin = body + gtin_check_digit(body)
    brand = bench_brand(tag, gtin)
    product = services.create_product(brand=brand, name="Bench", gtin=gtin, serial_alphabet="alnum", serial_length=12)
    batches = [make_batch(brand, product, q) for q in (quantity // 10, quantity)]
    for batch in batches if carton_size else []:
        supply(brand, batch, carton_size)
    _key, raw = create_api_key(brand=brand, name="bench", scopes="read")
    return [b.pk for b in batches], raw


def child(batch_id: int, raw_key: str) -> None:
    """In a fresh process: stream the export, print seconds, bytes, events and the process's peak RSS."""
    sys.path.insert(0, str(ROOT))
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serialize_saas.settings")
    import django

    django.setup()
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    client.get("/api/v1/account/")  # a first request loads the URLconf and the API's modules: not the export's cost
    idle_kb = _status_kb("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reset = Path("/proc/self/clear_refs")
    if reset.exists():
        reset.write_text("5")  # Linux: the peak (VmHWM) starts again from the current RSS
    started = time.perf_counter()
    response = client.get(f"/api/v1/batches/{batch_id}/epcis/")
    size = events = 0
    for piece in response.streaming_content:
        size += len(piece)
        events += piece.count(b'"eventID"')
    seconds = time.perf_counter() - started
    peak_kb = _status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "bytes": size, "events": events, "peak_kb": peak_kb, "idle_kb": idle_kb}))


def _status_kb(field: str) -> int:
    """A memory figure of this process from /proc (Linux: VmRSS now, VmHWM its peak since the reset), in kB."""
    status = Path("/proc/self/status")
    if not status.exists():
        return 0
    line = next(x for x in status.read_text().splitlines() if x.startswith(f"{field}:"))
    return int(line.split()[1])


def export(batch_id: int, raw_key: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(batch_id), raw_key], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def baseline(batch_id: int) -> float:
    """A bare COPY of the batch's (ordinal, serial) rows in print order, read to the end."""
    from django.db import connection

    from codes.models import CodeBatch

    batch = CodeBatch.objects.get(pk=batch_id)
    sql = (
        "COPY (SELECT ordinal, serial FROM codes_code WHERE product_id = %s AND ordinal >= %s AND ordinal < %s "
        "ORDER BY ordinal) TO STDOUT"
    )
    started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(sql, [batch.product_id, batch.first_ordinal, batch.end_ordinal]) as copy,
    ):
        for _block in copy:
            pass
    return time.perf_counter() - started


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--quantity", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cartons", type=int, default=0, help="pack in cartons of N and ship it all (0: neither)")
    args = parser.parse_args()
    setup_django()
    started = time.perf_counter()
    (small, large), raw = setup(args.quantity, args.cartons)
    supplied = f", packed in cartons of {args.cartons} and shipped" if args.cartons else ""
    took = time.perf_counter() - started
    print(f"registered {args.quantity // 10:,} + {args.quantity:,} codes{supplied} in {took:.0f} s")
    runs: dict[int, list[dict]] = {small: [], large: []}
    copies: list[float] = []
    for _ in range(args.rounds):  # alternating, so both see the same machine
        copies.append(baseline(large))
        for batch_id in (small, large):
            runs[batch_id].append(export(batch_id, raw))
    best = {b: min(r, key=lambda x: x["seconds"]) for b, r in runs.items()}
    copy_s = min(copies)
    n = args.quantity
    big, little = best[large], best[small]
    print(f"bare COPY of {n:,} rows:        {copy_s:6.2f} s  ({n / copy_s:,.0f} rows/s)")
    print(
        f"EPCIS export of {n:,} codes:  {big['seconds']:6.2f} s  ({n / big['seconds']:,.0f} EPCs/s), "
        f"{big['events']:,} events, {big['bytes'] / 1e6:,.0f} MB; export/COPY time ratio {big['seconds'] / copy_s:.1f}"
    )
    for label, run in ((f"{n // 10:,}", little), (f"{n:,}", big)):
        print(f"peak RSS, export of {label}: {run['peak_kb'] / 1024:.0f} MB (before: {run['idle_kb'] / 1024:.0f} MB)")
    print(f"peak ratio 1M/100k: {big['peak_kb'] / little['peak_kb']:.2f} (1.0 = memory does not grow with the batch)")


if __name__ == "__main__":
    main()
