"""What the distributor lookup and territory check add to the verify path, per scan.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/serialize_bench python bench/distributor_lookup.py

Uses (or generates) a batch of 1,000,000 codes split into 1,000 assignments over 10 distributors. Reports,
in the same run: (a) the lookup and territory check alone (the bisect over the cached ranges), and (b) the
whole in-process verify path (parse, decrypt, one statement on PostgreSQL) with the lookup on and off,
interleaved scan by scan so that machine noise falls on both alike. Target: < 200 µs added at p99.
"""

import argparse
import dataclasses
import json
import random
import statistics
import time
from pathlib import Path

from _setup import setup_django

ASSIGNMENTS = 1_000
DISTRIBUTORS = 10


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def ensure_assignments(batch) -> None:
    from distributors import services
    from distributors.models import Assignment, Distributor

    if Assignment.objects.filter(batch=batch, ended_at__isnull=True).count() >= ASSIGNMENTS:
        return
    Assignment.objects.filter(batch=batch).delete()
    brand = batch.product.brand
    states = ["MY-01", "MY-02", "MY-04", "MY-05", "MY-06", "MY-07", "MY-08", "MY-10", "MY-13", "MY-14"]
    distributors = []
    for n, state in enumerate(states[:DISTRIBUTORS]):
        distributor = Distributor.objects.for_brand(brand).filter(code=f"BENCH{n}").first()
        distributors.append(
            distributor
            or services.create_distributor(brand=brand, name=f"Bench {n}", code=f"BENCH{n}", territory=state)
        )
    size = batch.quantity // ASSIGNMENTS
    for n in range(ASSIGNMENTS):
        first = n * size + 1
        services.assign_range(
            batch=batch,
            distributor=distributors[n % DISTRIBUTORS],
            first_position=first,
            last_position=first + size - 1,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, default=4_000)
    parser.add_argument("--quantity", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE (bench/ab.py)")
    args = parser.parse_args()
    setup_django()
    from verify_load import million_code_batch

    from codes.services import codec_for
    from distributors.territory import is_outside
    from scans import verify
    from scans.context import ScanContext
    from scans.geo import Place
    from scans.products import product_cache

    batch = million_code_batch(args.quantity)
    ensure_assignments(batch)
    gtin = batch.product.gtin
    product_cache.clear()
    with_lookup = product_cache.get(gtin)
    without = dataclasses.replace(
        with_lookup, batches=tuple(dataclasses.replace(b, holders=()) for b in with_lookup.batches)
    )
    info = next(b for b in with_lookup.batches if b.first_ordinal == batch.first_ordinal)
    held = sum(h.last_position - h.first_position + 1 for h in info.holders)
    print(f"batch {batch.pk}: {batch.quantity:,} codes, {len(info.holders):,} assignments holding {held:,} units")

    johor = Place("Johor Bahru", "MY-01", "Johor", "MY", "Malaysia", "ip")
    rng = random.Random(7)
    ordinals = [batch.first_ordinal + rng.randrange(batch.quantity) for _ in range(args.scans)]

    # (a) the lookup and check alone
    alone = []
    for ordinal in ordinals:
        started = time.perf_counter_ns()
        holder = info.holder_of(ordinal)
        if holder is not None:
            is_outside(holder.territory, johor.country_code, johor.region_code or "")
        alone.append((time.perf_counter_ns() - started) / 1000)
    print(f"lookup + territory check alone: p50 {percentile(alone, 50):.1f} µs, p99 {percentile(alone, 99):.1f} µs")

    # (b) the whole verify path, on and off interleaved
    codec = codec_for(batch.product)
    context = ScanContext(ip_hash="bench", place=johor, user_agent_family="bench")
    timings: dict[str, list[float]] = {"on": [], "off": []}
    for n, ordinal in enumerate(ordinals):
        path = f"/01/{gtin}/10/{batch.lot.number}/21/{codec.serial(ordinal)}"
        for mode in ("on", "off") if n % 2 == 0 else ("off", "on"):
            product_cache._entries[gtin] = (time.monotonic(), with_lookup if mode == "on" else without)
            started = time.perf_counter_ns()
            verify.verify(path=path, query="", context=context)
            timings[mode].append((time.perf_counter_ns() - started) / 1000)
    for mode in ("off", "on"):
        values = timings[mode]
        print(
            f"verify, lookup {mode:>3}: p50 {percentile(values, 50):7.1f} µs, p99 {percentile(values, 99):7.1f} µs, "
            f"mean {statistics.fmean(values):7.1f} µs ({len(values):,} scans)"
        )
    added50 = percentile(timings["on"], 50) - percentile(timings["off"], 50)
    added99 = percentile(timings["on"], 99) - percentile(timings["off"], 99)
    print(f"added by the lookup: p50 {added50:+.1f} µs, p99 {added99:+.1f} µs (target < 200 µs at p99)")
    if args.json:
        figures = {"alone_p50": percentile(alone, 50), "alone_p99": percentile(alone, 99), "scans": len(ordinals)}
        for mode in ("off", "on"):
            values = timings[mode]
            figures |= {
                f"{mode}_p50": percentile(values, 50),
                f"{mode}_p99": percentile(values, 99),
                f"{mode}_mean": statistics.fmean(values),
            }
        figures |= {"added_p50": added50, "added_p99": added99}
        args.json.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
