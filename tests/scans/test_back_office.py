"""The brand's pages over scans: overview, scan list and export, code lookup, reports."""

import csv
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from brands.models import Role
from codes.models import Code, CodeStatus
from scans import queries, rollups
from scans.models import CounterfeitReport, DailyScans, ReportStatus, Scan
from tests.factories import DistributorFactory, MembershipFactory, ProductFactory, ready_batch

KUALA_LUMPUR_IP = "175.139.1.1"
JOHOR_BAHRU_IP = "175.136.224.1"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


def scan(code, ip=KUALA_LUMPUR_IP):
    """A person's scan: the page, then its script's confirmation (what counts it on the code)."""
    page = Client().get(f"/01/{code.product.gtin}/21/{code.serial}", REMOTE_ADDR=ip, HTTP_USER_AGENT=PHONE)
    if page.context and page.context.get("confirm_token"):
        Client().post("/verify/confirm/", {"token": page.context["confirm_token"]}, HTTP_USER_AGENT=PHONE)
    return page


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.fixture
def codes(brand):
    batch = ready_batch(ProductFactory(brand=brand, name="Vitamin C"), quantity=40, activated=True)
    return list(Code.objects.filter(batch=batch).select_related("product", "batch__lot").order_by("ordinal"))


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/",
        "/scans/",
        "/scans/?days=30&outcome=authentic",
        "/reports/",
        "/codes/lookup/?q=X",
        "/batches/",
        "/products/",
        "/distributors/",
        "/members/",
    ],
)
def test_list_pages_issue_the_same_number_of_queries_whatever_their_length(owner_client, brand, codes, url):
    def add_rows(few):
        for code in few:
            scan(code)
            scan(code, JOHOR_BAHRU_IP)
            CounterfeitReport.objects.create(brand=brand, where_bought="Market", serial=code.serial)
            DistributorFactory(brand=brand)
            MembershipFactory(brand=brand, role=Role.VIEWER)
        ready_batch(ProductFactory(brand=brand), quantity=2, activated=True)

    add_rows(codes[:2])
    owner_client.get(url)  # warms caches that are per process, not per page
    small = queries_for(owner_client, url)
    add_rows(codes[2:30])
    assert queries_for(owner_client, url) == small


# --- overview --------------------------------------------------------------------------------------------


def test_overview_counts_scans_rates_regions_and_top_lots(owner_client, codes):
    scan(codes[0])
    scan(codes[0], JOHOR_BAHRU_IP)  # a repeat: authentic, not a first scan
    scan(codes[1], JOHOR_BAHRU_IP)
    Client().get(f"/01/{codes[0].product.gtin}/21/NOTOURS0000", REMOTE_ADDR=KUALA_LUMPUR_IP)
    overview = owner_client.get("/dashboard/").context["overview"]
    assert (overview.codes_issued, overview.scans_today, overview.scans_7_days, overview.scans_30_days) == (40, 4, 4, 4)
    assert overview.first_scan_rate == pytest.approx(2 / 3) and overview.not_recognised_rate == pytest.approx(1 / 4)
    assert {r["code"]: r["scans"] for r in overview.regions} == {"MY-01": 2, "MY-14": 2}
    assert overview.per_day[-1]["scans"] == 4 and len(overview.per_day) == 30
    assert overview.top_lots[0]["batch"] == codes[0].batch and overview.top_lots[0]["scans"] == 3


def test_overview_rolls_up_past_days_once_and_counts_today_live(brand, codes):
    scan(codes[0])
    Scan.objects.update(scanned_at=timezone.now() - timedelta(days=2))
    scan(codes[1])
    first = queries.overview(brand)
    assert DailyScans.objects.for_brand(brand).count() == 1 and first.scans_7_days == 2 and first.scans_today == 1
    Scan.objects.filter(code_id=codes[0].pk).delete()  # rolled-up days are read from the rollup, not the log
    assert queries.overview(brand).scans_7_days == 2
    rollups.forget(brand)
    assert queries.overview(brand).scans_7_days == 1


def test_overview_tiles_link_to_the_filtered_scan_lists(owner_client, codes):
    page = owner_client.get("/dashboard/").content.decode()
    for link in (
        "/scans/?days=1",
        "/scans/?days=7",
        "/scans/?days=30&amp;outcome=not_recognised",
        "/reports/?status=new",
    ):
        assert f'href="{link}"' in page


def test_overview_of_a_new_brand_says_what_to_do_first(owner_client):
    page = owner_client.get("/dashboard/").content.decode()
    assert "Add your first product" in page and 'href="/products/new/"' in page


def test_htmx_refresh_returns_only_the_overview_panel(owner_client, codes):
    page = owner_client.get("/dashboard/", HTTP_HX_REQUEST="true").content.decode()
    assert page.startswith('<div id="overview"') and "<html" not in page


# --- scan list and export ---------------------------------------------------------------------------------


def test_scan_list_filters_by_region_outcome_and_search(owner_client, codes):
    scan(codes[0])
    scan(codes[1], JOHOR_BAHRU_IP)
    johor = owner_client.get("/scans/?region=MY-01").content.decode()
    assert codes[1].serial in johor and codes[0].serial not in johor
    found = owner_client.get(f"/scans/?q={codes[0].serial.lower()}").content.decode()
    assert codes[0].serial in found and codes[1].serial not in found
    assert codes[0].serial not in owner_client.get("/scans/?outcome=not_recognised").content.decode()


def test_scan_list_pages_by_the_last_row_seen(owner_client, codes):
    for code in codes[:3]:
        scan(code)
    Scan.objects.update(scanned_at=timezone.now())  # same instant: the id breaks the tie
    from backoffice.views import scans as scan_pages

    scan_pages.PAGE_SIZE, saved = 2, scan_pages.PAGE_SIZE
    try:
        first = owner_client.get("/scans/")
        second = owner_client.get("/scans/?" + first.context["older"])
    finally:
        scan_pages.PAGE_SIZE = saved
    seen = [s.pk for s in first.context["scans"]] + [s.pk for s in second.context["scans"]]
    assert sorted(seen) == sorted(Scan.objects.values_list("pk", flat=True)) and second.context["older"] is None


def test_scan_export_streams_every_matching_scan_as_csv(owner_client, codes):
    for code in codes[:3]:
        scan(code)
    response = owner_client.get("/scans/export.csv?days=7")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("scanned_at,gtin,serial,product,variant,batch,lot,outcome") and len(lines) == 4
    assert codes[0].serial in "".join(lines) and "Kuala Lumpur" in "".join(lines)


def test_scan_export_writes_an_anonymous_formula_like_serial_as_text(owner_client, codes):
    evil = '=HYPERLINK("x.io")'  # a serial is at most 20 characters of GS1's set, '=' and '"' included
    Client().get(
        f"/01/{codes[0].product.gtin}/21/{quote(evil)}", REMOTE_ADDR=KUALA_LUMPUR_IP, HTTP_ACCEPT="application/json"
    )
    assert Scan.objects.filter(serial=evil).exists()  # what the outsider typed is kept as evidence, exactly
    rows = list(csv.DictReader(b"".join(owner_client.get("/scans/export.csv").streaming_content).decode().splitlines()))
    assert [r["serial"] for r in rows] == ["'" + evil]


def test_scan_export_says_which_variant_was_scanned(owner_client, brand):
    """Two variants of one product share its name: only the variant column tells their scans apart."""
    for variant in ("100 tablets", "30 tablets"):
        batch = ready_batch(ProductFactory(brand=brand, name="Vitamin C", variant=variant), quantity=2, activated=True)
        scan(Code.objects.filter(batch=batch).select_related("product").first())
    response = owner_client.get("/scans/export.csv")
    rows = list(csv.DictReader(b"".join(response.streaming_content).decode().splitlines()))
    assert sorted((row["product"], row["variant"]) for row in rows) == [
        ("Vitamin C", "100 tablets"),
        ("Vitamin C", "30 tablets"),
    ]


def test_scan_list_shows_out_of_territory_scans_of_a_distributors_units(owner_client, brand, codes):
    from distributors import services

    holder = DistributorFactory(brand=brand, code="JHR", territory=["MY-01"])
    services.assign_range(batch=codes[0].batch, distributor=holder, first_position=1, last_position=10)
    scan(codes[0])  # Kuala Lumpur, outside Johor
    page = owner_client.get("/scans/?outside=on").content.decode()
    assert codes[0].serial in page and "outside territory" in page


# --- code lookup -----------------------------------------------------------------------------------------


def test_code_lookup_finds_a_unit_by_serial_or_by_its_verify_url(owner_client, codes):
    code = codes[5]
    assert owner_client.get(f"/codes/lookup/?q={code.serial.lower()}").url == f"/codes/{code.pk}/"
    url = f"https://verify.example.com/01/{code.product.gtin}/10/{code.batch.lot.number}/21/{code.serial}?17=301231"
    assert owner_client.get("/codes/lookup/", {"q": url}).url == f"/codes/{code.pk}/"
    assert "No unit of" in owner_client.get("/codes/lookup/?q=NOSUCHSERIAL").content.decode()


def test_code_lookup_does_not_find_another_brands_unit(outsider_client, codes):
    assert "No unit of" in outsider_client.get(f"/codes/lookup/?q={codes[0].serial}").content.decode()


def test_code_page_shows_the_unit_its_holder_and_scan_timeline(owner_client, brand, codes):
    from distributors import services

    services.assign_range(
        batch=codes[0].batch,
        distributor=DistributorFactory(brand=brand, name="KL Wholesale"),
        first_position=1,
        last_position=5,
    )
    scan(codes[2])
    scan(codes[2], JOHOR_BAHRU_IP)
    page = owner_client.get(f"/codes/{codes[2].pk}/").content.decode()
    assert "position 3" in page and "KL Wholesale" in page and "Scanned 2 times" in page
    assert page.index("Kuala Lumpur") < page.index("Johor")


def test_operator_changes_a_units_state_and_the_next_scan_says_so(operator_client, codes):
    response = operator_client.post(f"/codes/{codes[3].pk}/", {"status": CodeStatus.STOLEN, "reason": "Van robbed"})
    assert response.status_code == 302
    assert Code.objects.get(pk=codes[3].pk).status == CodeStatus.STOLEN
    assert "reported stolen" in scan(codes[3]).content.decode()


def test_a_units_change_is_recorded_as_a_one_unit_status_change(operator_client, codes):
    from codes.models import StatusChange

    operator_client.post(f"/codes/{codes[3].pk}/", {"status": CodeStatus.SAMPLE, "reason": "Trade fair"})
    change = StatusChange.objects.get(to_status=CodeStatus.SAMPLE)
    assert (change.serials, change.reason, change.to_status, change.codes_changed) == (
        [codes[3].serial],
        "Trade fair",
        CodeStatus.SAMPLE,
        1,
    )
    assert Code.objects.get(pk=codes[3].pk).status_change_id == change.pk


@pytest.mark.parametrize("final", [CodeStatus.RECALLED, CodeStatus.DESTROYED])
def test_an_operator_cannot_bring_a_recalled_or_destroyed_unit_back(operator_client, codes, final):
    Code.objects.filter(pk=codes[3].pk).update(status=final)
    refused = operator_client.post(f"/codes/{codes[3].pk}/", {"status": CodeStatus.ACTIVE, "reason": "Oops"})
    assert refused.status_code == 400 and Code.objects.get(pk=codes[3].pk).status == final
    response = operator_client.post(
        f"/codes/{codes[3].pk}/", {"status": CodeStatus.SUPPLIED, "reason": "x"}, follow=True
    )
    assert "that state is final" in response.content.decode()
    assert Code.objects.get(pk=codes[3].pk).status == final


def test_viewer_cannot_change_a_units_state(viewer_client, codes):
    response = viewer_client.post(f"/codes/{codes[3].pk}/", {"status": CodeStatus.STOLEN, "reason": "x"})
    assert response.status_code == 403
    assert Code.objects.get(pk=codes[3].pk).status == CodeStatus.ACTIVE


# --- reports ---------------------------------------------------------------------------------------------


def test_report_made_from_a_verify_page_links_to_its_scan(owner_client, codes):
    page = Client().get(f"/01/{codes[0].product.gtin}/21/NOTOURS0000", REMOTE_ADDR=KUALA_LUMPUR_IP)
    form = page.context["report_form"]
    data = {**form.initial, "where_bought": "Pasar malam", "token": page.context["locate_token"]}
    assert Client().post("/verify/report/", data).status_code == 200
    report = CounterfeitReport.objects.get()
    assert report.scan == Scan.objects.get() and report.status == ReportStatus.NEW


def test_operator_reviews_then_closes_a_report(operator_client, brand):
    report = CounterfeitReport.objects.create(brand=brand, where_bought="Market")
    operator_client.post(f"/reports/{report.pk}/status/", {"status": "reviewed"})
    assert CounterfeitReport.objects.get().status == "reviewed"
    assert "Market" in operator_client.get("/reports/?status=reviewed").content.decode()
    assert "Market" not in operator_client.get("/reports/?status=new").content.decode()


def test_viewer_cannot_change_a_reports_status(viewer_client, brand):
    report = CounterfeitReport.objects.create(brand=brand, where_bought="Market")
    assert viewer_client.post(f"/reports/{report.pk}/status/", {"status": "closed"}).status_code == 403


@pytest.mark.parametrize(
    "before",
    ["2026-13-45T10:00:00_5", "2026-01-01T10:00:00_99999999999999999999999", "2026-01-01T10:00:00_x", "garbage"],
)
def test_a_hand_edited_page_key_starts_from_the_newest_scans(owner_client, codes, before):
    scan(codes[0])
    response = owner_client.get("/scans/", {"before": before})
    assert response.status_code == 200 and len(response.context["scans"]) == 1


def test_code_lookup_of_text_with_a_nul_byte_finds_nothing_instead_of_failing(owner_client, codes):
    response = owner_client.get("/codes/lookup/", {"q": codes[0].serial[:4] + "\x00"})
    assert response.status_code == 200 and response.context["matches"] == []


def test_signed_in_pages_and_exports_are_kept_out_of_shared_caches(owner_client, codes):
    for url in ("/dashboard/", "/scans/", "/scans/export.csv", f"/codes/{codes[0].pk}/"):
        cache_control = owner_client.get(url)["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control, url


def test_a_report_cannot_be_tied_to_another_brands_scan(codes, other_brand):
    """A consumer's report names a GTIN and carries the token of the page it came from: a token lifted from
    one brand's verify page, sent with another brand's GTIN, must not show that scan to the other brand."""
    page = Client().get(f"/01/{codes[0].product.gtin}/21/NOTOURS0000", REMOTE_ADDR=KUALA_LUMPUR_IP)
    theirs = ProductFactory(brand=other_brand, gtin="09506000134369")
    data = {"gtin": theirs.gtin, "serial": "X1", "where_bought": "Market", "token": page.context["locate_token"]}
    assert Client().post("/verify/report/", data).status_code == 200
    report = CounterfeitReport.objects.get()
    assert report.brand == other_brand and report.scan is None


def test_alerts_name_a_region_people_can_read(owner_client, brand):
    from scans.models import Alert
    from tests.factories import ProductFactory, alert_of, ready_batch

    alert = alert_of(ready_batch(ProductFactory(brand=brand), quantity=2), kind="hot_spot")
    Alert.objects.filter(pk=alert.pk).update(place="", region_code="MY-10")
    listing = owner_client.get("/alerts/?kind=hot_spot").content.decode()
    assert "Selangor, MY" in listing and "MY-10" not in listing
    page = owner_client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "Selangor, Malaysia" in page and "MY-10" not in page


def test_the_admin_shows_a_units_state_without_letting_staff_edit_it(codes):
    from tests.factories import UserFactory, verified_client

    staff = verified_client(UserFactory(is_staff=True, is_superuser=True))
    page = staff.get(f"/admin/codes/code/{codes[0].pk}/change/").content.decode()
    assert "Active" in page and 'name="status"' not in page
