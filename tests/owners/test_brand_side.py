"""The brand's registrations page: counts by product, region and month and consent rates for every member
(`owners.stats`), the marketing list as CSV only for `owners.view`, never another brand's owners and nothing for
a distributor; the overview's registration rate beside the first-scan rate."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from selenium.webdriver.common.by import By

from brands.models import Role
from owners.models import ErasedBy, Registration
from owners.sealing import Contact
from owners.services import erase_registration, register_unit, withdraw_consent
from tests.factories import DistributorFactory, MembershipFactory, ProductFactory, distributor_member, logged_in_client
from tests.scans.test_back_office import JOHOR_BAHRU_IP, KUALA_LUMPUR_IP, PHONE
from tests.test_browser import browser, csp_violations, log_in  # noqa: F401 - browser: the Chromium fixture
from tests.test_journey import serious_violations

from .helpers import live_units, register, verify_page

pytestmark = pytest.mark.django_db

CSV_URL = "/registrations/marketing.csv"


def scan(code, ip=KUALA_LUMPUR_IP):
    """A person's counted scan from `ip`: the page, then its browser's confirmation from the same phone."""
    from django.test import Client

    page = Client().get(f"/01/{code.product.gtin}/21/{code.serial}", REMOTE_ADDR=ip, HTTP_USER_AGENT=PHONE)
    token = page.context["confirm_token"]
    Client().post("/verify/confirm/", {"token": token}, REMOTE_ADDR=ip, HTTP_USER_AGENT=PHONE)


def register_from_page(code, *, ip=KUALA_LUMPUR_IP, marketing="no", **fields):
    """The owner's way: the verify page (a scan from `ip`), its link, the form."""
    from .helpers import register_link

    link = register_link(verify_page(code, ip=ip))
    assert link, "the verify page of a live unit offers registration"
    response = register(link, ip=ip, consent_marketing=marketing, **fields)
    assert response.status_code == 200, response.content.decode()[:500]
    return Registration.objects.get(code=code)


@pytest.fixture
def registered(brand):
    """Three owners of two products: two registered from their pages in Kuala Lumpur and Johor Bahru (this
    month), one by the service without a page's scan two months ago, whose unit was first scanned in KL."""
    vitamins = live_units(brand, quantity=3)
    other = ProductFactory(brand=brand, name="Fish Oil")
    from tests.factories import ready_batch

    oil = ready_batch(other, quantity=1, activated=True).codes.select_related("product").get()
    register_from_page(vitamins[0], marketing="yes", name="Aisyah", email="aisyah@example.my")
    register_from_page(vitamins[1], ip=JOHOR_BAHRU_IP, email="ben@example.my", name="Ben")
    scan(oil)  # counted: its first scan's region is the unit's first entry
    earlier = timezone.now() - timedelta(days=62)
    register_unit(
        code=oil,
        scan_id=None,
        contact=Contact(name="Chong", phone="+60 12-000 0000"),
        consents={"warranty": True, "safety": False, "marketing": False},
        now=earlier,
    )
    return {"vitamins": vitamins, "oil": oil, "earlier": earlier}


def test_counts_by_product_region_and_month_with_consent_rates(owner_client, registered):
    stats = owner_client.get("/registrations/").context["stats"]
    assert stats.total == 3
    assert {p["product"].name: p["registrations"] for p in stats.by_product} == {"Vitamin C 1000": 2, "Fish Oil": 1}
    assert {r["code"]: r["registrations"] for r in stats.by_region} == {"MY-14": 2, "MY-01": 1}
    this_month = timezone.localdate().replace(day=1)
    then = timezone.localdate(registered["earlier"]).replace(day=1)
    assert [(m["month"], m["registrations"]) for m in stats.by_month] == [(then, 1), (this_month, 2)]
    rates = {c["purpose"]: (c["given"], c["rate"]) for c in stats.consents}
    assert rates == {"warranty": (3, 1.0), "safety": (2, pytest.approx(2 / 3)), "marketing": (1, pytest.approx(1 / 3))}


def test_a_viewer_sees_the_counts_but_not_the_marketing_list(viewer_client, registered):
    page = viewer_client.get("/registrations/")
    assert page.status_code == 200 and 'id="registrations-total">3<' in page.content.decode()
    assert CSV_URL not in page.content.decode() and "aisyah" not in page.content.decode()
    assert viewer_client.get(CSV_URL).status_code == 403


def test_the_marketing_list_holds_exactly_the_owners_who_agreed_and_still_do(brand, owner_client, registered):
    withdrawn = register_from_page(
        registered["vitamins"][2], marketing="yes", name="Dina", email="dina@example.my", ip="175.139.1.2"
    )
    withdraw_consent(registration=withdrawn, purpose="marketing")  # she withdrew it later: a newer answer
    erased = register_from_page(live_units(brand, quantity=1)[0], marketing="yes", name="Eri", ip="175.139.1.3")
    erase_registration(registration=erased, by=ErasedBy.OWNER)  # agreed, then had the details erased
    response = owner_client.get(CSV_URL)
    assert response.status_code == 200 and response.streaming and response["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["name"], r["email"], r["serial"]) for r in rows] == [
        ("Aisyah", "aisyah@example.my", registered["vitamins"][0].serial)
    ]


def test_the_marketing_list_writes_a_formula_like_name_as_text(brand, owner_client):
    code = live_units(brand, quantity=1)[0]
    register_from_page(code, marketing="yes", name='=HYPERLINK("http://evil.example")', email="x@example.my")
    rows = list(csv.reader(io.StringIO(b"".join(owner_client.get(CSV_URL).streaming_content).decode())))
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example")'


def test_another_brand_never_sees_these_owners(outsider_client, registered):
    stats = outsider_client.get("/registrations/").context["stats"]
    assert stats.total == 0 and stats.by_product == []
    assert b"aisyah" not in b"".join(outsider_client.get(CSV_URL).streaming_content)


def test_a_distributor_never_sees_registrations(brand, registered):
    distributor = DistributorFactory(brand=brand, code="HOLDER")
    client = logged_in_client(distributor_member(distributor))
    assert client.get("/registrations/").status_code == 404
    assert client.get(CSV_URL).status_code == 404


def test_the_nav_links_the_page_for_members_only(brand, viewer_client):
    assert 'href="/registrations/"' in viewer_client.get("/scans/").content.decode()
    portal = logged_in_client(distributor_member(DistributorFactory(brand=brand)))
    assert 'href="/registrations/"' not in portal.get("/portal/").content.decode()


def test_the_page_costs_the_same_queries_however_many_registrations(brand, owner_client):
    codes = live_units(brand, quantity=8)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get("/registrations/").status_code == 200
        return len(captured)

    for code in codes[:2]:
        register_from_page(code)
    owner_client.get("/registrations/")
    few = queries()
    for n, code in enumerate(codes[2:]):
        register_from_page(code, ip=f"175.139.1.{n + 10}", marketing="yes")
    assert queries() == few


def test_the_overview_shows_the_registration_rate_of_units_first_scanned(brand, owner_client):
    codes = live_units(brand, quantity=4)
    for code in codes:
        scan(code)
    register_from_page(codes[0])
    page = owner_client.get("/dashboard/")
    rate = page.context["registration_rate"]
    assert (rate.registered, rate.first_scanned, rate.rate) == (1, 4, 0.25)
    html = page.content.decode()
    assert 'id="registration-rate"' in html and "25%" in html and "First-scan rate" in html


def test_the_overview_says_no_rate_before_any_first_scan(owner_client):
    rate = owner_client.get("/dashboard/").context["registration_rate"]
    assert (rate.registered, rate.first_scanned, rate.rate) == (0, 0, None)


def test_every_member_role_may_read_the_counts(brand, registered):
    for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.OWNER):
        client = logged_in_client(MembershipFactory(brand=brand, role=role))
        assert client.get("/registrations/").status_code == 200
        assert client.get(CSV_URL).status_code == (200 if role in (Role.ADMIN, Role.OWNER) else 403)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_registrations_page_and_the_overview_pass_axe_within_the_csp(
    browser,  # noqa: F811 - the fixture imported above
    live_server,
    brand,
    owner,
):
    codes = live_units(brand, quantity=2)
    scan(codes[0])
    register_from_page(codes[0], marketing="yes")
    log_in(browser, live_server, owner)
    for url, shown in (("/registrations/", "marketing-csv"), ("/dashboard/", "registration-rate")):
        browser.get(live_server.url + url)
        assert browser.find_element(By.ID, shown).is_displayed(), url
        assert serious_violations(browser) == [] and csp_violations(browser) == [], url


def test_a_withdrawal_and_an_erasure_count_as_no_answer_but_the_unit_stays_registered(owner_client, registered):
    first = Registration.objects.get(code=registered["vitamins"][0])
    withdraw_consent(registration=first, purpose="marketing")
    erase_registration(registration=Registration.objects.get(code=registered["oil"]), by=ErasedBy.BRAND)
    stats = owner_client.get("/registrations/").context["stats"]
    assert (stats.total, stats.erased) == (3, 1)
    rates = {c["purpose"]: (c["given"], c["rate"]) for c in stats.consents}
    assert rates == {"warranty": (2, 1.0), "safety": (2, 1.0), "marketing": (0, 0.0)}
