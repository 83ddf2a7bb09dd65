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


def _demo_owner_client(demo):
    from brands.models import Membership
    from tests.factories import logged_in_client

    return logged_in_client(Membership.objects.get(brand=demo, role="owner"))


def test_demo_history_raises_the_alerts_live_scans_would(demo):
    from scans.models import Alert

    copied = Code.objects.get(product__brand=demo, suspect_at__isnull=False)  # the copied label, flagged
    copy_alert = Alert.objects.for_brand(demo).get(kind="likely_copy")
    assert copy_alert.code_id == copied.pk and copy_alert.details["regions"] == 7
    outside = set(Scan.objects.for_brand(demo).filter(out_of_territory=True).values_list("code_id", flat=True))
    grey = Alert.objects.for_brand(demo).filter(kind="grey_market")
    assert set(grey.values_list("code_id", flat=True)) == outside and len(outside) >= 20
    page = _demo_owner_client(demo).get("/alerts/").content.decode()
    assert "Likely copy" in page and "Grey market" in page and "No alerts here" not in page


def test_demo_copied_unit_page_shows_the_copy_flag_and_its_alert(demo):
    from scans.models import Alert

    copied = Code.objects.get(product__brand=demo, suspect_at__isnull=False)
    page = _demo_owner_client(demo).get(f"/codes/{copied.pk}/").content.decode()
    alert = Alert.objects.for_brand(demo).get(kind="likely_copy")
    assert 'id="copy-flag"' in page and "Likely copy" in page and f"/alerts/{alert.pk}/" in page


def test_seeding_twice_adds_no_alerts(demo):
    from scans.models import Alert, AlertEvidence

    before = Alert.objects.count(), AlertEvidence.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert (Alert.objects.count(), AlertEvidence.objects.count()) == before


def test_likely_copy_alert_page_says_why_shows_the_scans_and_the_first_place(demo):
    from scans.models import Alert

    alert = Alert.objects.for_brand(demo).get(kind="likely_copy")
    page = _demo_owner_client(demo).get(f"/alerts/{alert.pk}/").content.decode()
    assert "Scanned in 7 different regions" in page
    assert "reasons=" not in page and "{&#x27;" not in page and "[&#x27;" not in page  # no Python repr
    for place in ("Kuala Lumpur", "George Town", "Ipoh", "Jakarta", "Bangkok", "Singapore", "Kuching"):
        assert place in page  # every scan of the unit, the ones before the alert opened too
    assert page.count('class="evidence"') == alert.count
    assert "First scanned on" in page and "in Kuala Lumpur" in page and "unknown" not in page


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
