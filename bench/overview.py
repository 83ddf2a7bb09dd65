"""The overview over a brand with 1,000,000 scans in the last 30 days: does it answer in under 200 ms?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/serialize_bench python bench/overview.py

Uses (or makes) a brand with a batch of 200,000 codes and 1,000,000 scans spread over 30 days and 8 regions
(one INSERT … SELECT). Reports, in the same run: the baseline, the plain aggregate the overview would need
without rollups (the 30 days of the log grouped as the overview groups them); the one-off roll-up of the past
days; then the overview service and the whole page (a logged-in GET /dashboard/) once rolled up.
"""

import argparse
import statistics
import time

from _setup import setup_django

REGIONS = ["MY-14", "MY-10", "MY-01", "MY-07", "MY-08", "MY-12", "MY-13", "MY-06"]


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(name: str, times: list[float], baseline: float | None = None) -> str:
    median = statistics.median(times)
    worst = max(times)
    ratio = f"  ({baseline / median:,.0f}× faster than the plain aggregate)" if baseline else ""
    return f"{name:<48} median {median:9.1f} ms   max {worst:9.1f} ms{ratio}"


def ensure_data(scans: int):
    from django.db import connection

    from brands.models import Brand, User
    from brands.services import create_brand
    from codes import services
    from codes.models import Code
    from scans.models import Scan

    brand = Brand.objects.filter(slug="bench-overview").first()
    if brand is None:
        owner = User.objects.create_user("bench-overview@example.com", "bench")
        brand = create_brand(name="Bench Overview", owner=owner, slug="bench-overview")
        product = services.create_product(
            brand=brand, name="Bench", variant="", gtin="09506000999993", serial_alphabet="alnum", serial_length=12
        )
        lot = services.get_or_create_lot(product=product, number="B1", expires_on=None)
        services.generate_batch(services.order_batch(product=product, lot=lot, quantity=200_000, enqueue=False).pk)
    batch = brand.products.get().batches.get()
    have = Scan.objects.for_brand(brand).count()
    if have < scans:
        print(f"inserting {scans - have:,} scans …", flush=True)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO scans_scan (brand_id, product_id, code_id, gtin, serial, scanned_at, source, outcome,
                    place, city, region_code, country_code, location_source, user_agent_family, ip_hash,
                    distributor_id, out_of_territory)
                SELECT %(brand)s, c.product_id, c.id, %(gtin)s, c.serial,
                       now() - random() * interval '30 days', 'qr',
                       CASE WHEN g %% 50 = 0 THEN 'not_recognised' ELSE 'authentic' END,
                       (%(regions)s::text[])[1 + g %% 8] || ' town', '', (%(regions)s::text[])[1 + g %% 8], 'MY', 'ip',
                       'Chrome Mobile', md5(g::text), NULL, g %% 97 = 0
                FROM generate_series(1, %(n)s) AS g
                JOIN {Code._meta.db_table} c ON c.product_id = %(product)s AND c.ordinal = %(first)s + g %% %(quantity)s
                """,
                {
                    "brand": brand.pk,
                    "product": batch.product_id,
                    "gtin": batch.product.gtin,
                    "regions": REGIONS,
                    "n": scans - have,
                    "first": batch.first_ordinal,
                    "quantity": batch.quantity,
                },
            )
            cursor.execute("ANALYZE scans_scan")
    return brand


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.test import Client, override_settings

    from brands.models import Membership
    from scans import queries, rollups

    brand = ensure_data(args.scans)
    rollups.forget(brand)
    print(f"brand with {args.scans:,} scans over 30 days")
    # Baseline: what the overview would cost read straight from the log (one run is plenty: it is slow).
    baseline = timed(lambda: rollups.grouped_scans(brand, rollups.since_days(30), None), 3)
    print(summary("plain aggregate over the log (baseline)", baseline))
    print(summary("first overview: rolls up the past 29 days", timed(lambda: queries.overview(brand), 1)))
    service = timed(lambda: queries.overview(brand), args.runs)
    print(summary("overview service, rolled up", service, statistics.median(baseline)))
    client = Client()
    client.force_login(Membership.objects.filter(brand=brand).get().user)
    plain = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=plain):  # no collectstatic manifest needed to render the page here
        assert client.get("/dashboard/", HTTP_HOST="127.0.0.1").status_code == 200
        page = timed(lambda: client.get("/dashboard/", HTTP_HOST="127.0.0.1"), args.runs)
    print(summary("GET /dashboard/ (whole page, logged in)", page, statistics.median(baseline)))
    verdict = "meets" if statistics.median(page) < 200 else "MISSES"
    print(f"target: the overview answers in under 200 ms: {verdict} it")


if __name__ == "__main__":
    main()
