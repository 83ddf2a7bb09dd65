"""The living demo: `seed_demo` leaves every page something true to show, and stays idempotent."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Count

from brands.models import Brand
from codes.models import Code
from scans import queries
from scans.models import CounterfeitReport, Scan, ScanOutcome


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())
    return Brand.objects.get(slug="demo")


def test_demo_has_a_month_of_scans_from_malaysian_states_and_abroad(demo):
    scans = Scan.objects.for_brand(demo)
    assert scans.count() >= 300
    states = set(scans.filter(country_code="MY").exclude(region_code="").values_list("region_code", flat=True))
    assert len(states) >= 5 and len(set(scans.values_list("country_code", flat=True))) >= 3
    days = {s.date() for s in scans.values_list("scanned_at", flat=True)}
    assert len(days) >= 25


def test_demo_scans_are_placed_and_attributed_like_real_ones(demo):
    kl_unit = Scan.objects.for_brand(demo).filter(distributor__code="KL-SEL", out_of_territory=False).first()
    assert kl_unit.region_code in ("MY-14", "MY-10") and kl_unit.place and len(kl_unit.ip_hash) == 32
    assert Scan.objects.for_brand(demo).filter(out_of_territory=True).exists()
    code = Code.objects.get(pk=kl_unit.code_id)
    assert code.scan_count == Scan.objects.filter(code_id=code.pk).exclude(source="preview").count()
    assert code.first_scanned_at == Scan.objects.filter(code_id=code.pk).order_by("scanned_at")[0].scanned_at


def test_demo_has_repeat_scans_a_likely_copy_fakes_and_reports(demo):
    per_code = (
        Scan.objects.for_brand(demo).exclude(code=None).values("code_id").annotate(places=Count("place", distinct=True))
    )
    assert any(row["places"] >= 5 for row in per_code)  # more places than any default threshold allows
    assert Code.objects.filter(product__brand=demo, scan_count__gte=2).count() >= 20
    assert Scan.objects.for_brand(demo).filter(outcome=ScanOutcome.NOT_RECOGNISED).count() >= 3
    assert CounterfeitReport.objects.for_brand(demo).exclude(scan=None).count() >= 2


def test_demo_overview_shows_the_month(demo):
    overview = queries.overview(demo)
    assert overview.scans_30_days >= 300 and len(overview.regions) >= 5 and overview.out_of_territory > 0


def test_seeding_twice_adds_no_scans(demo):
    before = Scan.objects.count(), CounterfeitReport.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert (Scan.objects.count(), CounterfeitReport.objects.count()) == before


def test_the_demo_codes_are_live_and_verify_as_authentic(demo):
    from django.test import Client

    codes = Code.objects.filter(product__brand=demo)
    assert set(codes.values_list("status", flat=True)) == {"active"}
    assert codes.first().batch.codes_activated == codes.count()
    unscanned = codes.filter(scan_count=0).order_by("ordinal").first()
    answer = Client().get(
        f"/01/{unscanned.product.gtin}/21/{unscanned.serial}", HTTP_ACCEPT="application/json", REMOTE_ADDR="8.8.8.8"
    )
    assert (answer.json()["authentic"], answer.json()["status"]) == (True, "active")
