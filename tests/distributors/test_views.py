import re

import pytest
from django.core import mail
from django.test import Client

from brands.models import Membership, Role
from codes.models import PrintDownload, PrintJob
from distributors import services
from distributors.models import Assignment, Distributor
from scans.models import Scan
from tests.factories import DistributorFactory, ProductFactory, distributor_member, ready_batch, ready_print_job
from tests.factories import logged_in_client as client_of


@pytest.fixture
def batch(brand):
    return ready_batch(ProductFactory(brand=brand, gtin="09506000134352"), quantity=100)


@pytest.fixture
def kl(brand):
    return DistributorFactory(brand=brand, name="KL Wholesale", code="KL", territory=["MY-10", "MY-14"])


def test_admin_adds_a_distributor_with_a_territory(owner_client, brand):
    response = owner_client.post(
        "/distributors/new/", {"name": "Johor Trading", "code": "jhr", "territory": "my-01, SG", "contact_email": ""}
    )
    distributor = Distributor.objects.get(brand=brand)
    assert response.url == f"/distributors/{distributor.pk}/"
    assert (distributor.code, distributor.territory) == ("JHR", ["MY-01", "SG"])


def test_unknown_territory_code_is_a_form_error_beside_the_field(owner_client):
    response = owner_client.post("/distributors/new/", {"name": "X", "code": "X", "territory": "MY-14, ZZ-9"})
    assert response.status_code == 200 and not Distributor.objects.exists()
    assert "ZZ-9 is not an ISO 3166" in " ".join(response.context["form"].errors["territory"])


def test_batch_page_shows_free_ranges_and_the_assign_form_to_operators(operator_client, batch, kl):
    services.assign_range(batch=batch, distributor=kl, first_position=11, last_position=40)
    page = operator_client.get(f"/batches/{batch.pk}/").content.decode()
    assert re.search(r"Free positions: .*1–10.*41–100", page) and 'id="assign-form"' in page
    assert "KL Wholesale" in page


def test_viewer_sees_ranges_but_no_assign_form(viewer_client, batch, kl):
    page = viewer_client.get(f"/batches/{batch.pk}/").content.decode()
    assert 'id="free-ranges"' in page and 'id="assign-form"' not in page


def test_operator_assigns_a_range_from_the_batch_page(operator_client, batch, kl):
    response = operator_client.post(
        f"/batches/{batch.pk}/ranges/assign/",
        {"distributor": kl.pk, "first_position": 1, "last_position": 50, "shipment_reference": "SO-1"},
    )
    assert response.url == f"/batches/{batch.pk}/"
    assert Assignment.objects.values_list("first_position", "last_position", "distributor").get() == (1, 50, kl.pk)


def test_overlapping_range_is_refused_beside_the_field_and_nothing_written(operator_client, batch, kl):
    services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=50)
    other = DistributorFactory(brand=batch.product.brand, code="JHR", territory=["MY-01"])
    response = operator_client.post(
        f"/batches/{batch.pk}/ranges/assign/", {"distributor": other.pk, "first_position": 40, "last_position": 60}
    )
    assert response.status_code == 400
    assert response.context["assign_form"].errors["first_position"] == [
        "Positions 40–50 are already assigned to KL Wholesale."
    ]
    assert Assignment.objects.count() == 1


def test_a_distributor_of_another_brand_cannot_be_chosen(operator_client, batch, other_brand):
    stranger = DistributorFactory(brand=other_brand)
    response = operator_client.post(
        f"/batches/{batch.pk}/ranges/assign/", {"distributor": stranger.pk, "first_position": 1, "last_position": 5}
    )
    assert response.status_code == 400 and "distributor" in response.context["assign_form"].errors
    assert not Assignment.objects.exists()


def test_viewer_cannot_assign(viewer_client, batch, kl):
    response = viewer_client.post(
        f"/batches/{batch.pk}/ranges/assign/", {"distributor": kl.pk, "first_position": 1, "last_position": 5}
    )
    assert response.status_code == 403 and not Assignment.objects.exists()


def test_moving_a_range_from_the_batch_page_keeps_history_on_the_distributor_page(owner_client, batch, kl):
    services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=50)
    johor = DistributorFactory(brand=batch.product.brand, name="Johor Trading", code="JHR")
    owner_client.post(f"/batches/{batch.pk}/ranges/move/", {"first_position": 21, "last_position": 30, "to": johor.pk})
    page = owner_client.get(f"/distributors/{kl.pk}/").content.decode()
    assert "Moved to another distributor" in page and "1–50" in page and "1–20" in page and "31–50" in page


def test_distributor_list_counts_units_and_scans_outside_territory(owner_client, batch, kl):
    services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=30)
    Scan.objects.create(brand=batch.product.brand, distributor=kl, outcome="authentic", out_of_territory=True)
    Scan.objects.create(brand=batch.product.brand, distributor=kl, outcome="authentic")
    response = owner_client.get("/distributors/")
    assert response.context["rows"] == [(kl, 30, 2, 1)]


def test_distributor_list_is_a_fixed_number_of_queries(owner_client, brand, django_assert_max_num_queries):
    owner_client.get("/distributors/")
    for n in range(5):
        DistributorFactory(brand=brand, code=f"N{n}")
    with django_assert_max_num_queries(12):
        owner_client.get("/distributors/")


def test_invited_distributor_login_lands_on_its_portal(owner_client, brand, kl, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(f"/distributors/{kl.pk}/invite/", {"email": "ops@kl-wholesale.example"})
    link = re.search(r"http://testserver(/invite/\S+/)", mail.outbox[0].body).group(1)
    newcomer = Client()
    newcomer.post(link, {"password1": "a long enough pass 42", "password2": "a long enough pass 42"})
    membership = Membership.objects.get(user__email="ops@kl-wholesale.example")
    assert (membership.role, membership.distributor) == (Role.DISTRIBUTOR, kl)
    assert newcomer.get("/", follow=True).redirect_chain[-1][0] == "/portal/"


@pytest.fixture
def portal(kl):
    return client_of(distributor_member(kl))


def test_portal_lists_only_its_own_ranges(portal, batch, kl):
    johor = DistributorFactory(brand=batch.product.brand, name="Johor Trading", code="JHR")
    services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=30)
    services.assign_range(batch=batch, distributor=johor, first_position=31, last_position=60)
    page = portal.get("/portal/").content.decode()
    assert "1–30" in page and "31–60" not in page and "Johor Trading" not in page


def test_portal_renders_and_downloads_its_range_and_every_download_is_logged(portal, batch, kl):
    assignment = services.assign_range(batch=batch, distributor=kl, first_position=11, last_position=30)
    response = portal.post(f"/portal/assignments/{assignment.pk}/print/", {"format": "qr-svg"})
    assert response.url == "/portal/"
    job = PrintJob.objects.get()
    assert (job.first_position, job.last_position, job.format) == (11, 30, "qr-svg")
    from codes import printing

    printing.render_job_here(job)
    download = portal.get(f"/portal/print-jobs/{job.pk}/files/1/")
    assert download.status_code == 200 and b"".join(download.streaming_content)[:2] == b"PK"
    assert PrintDownload.objects.get().user.memberships.get().distributor == kl


def test_portal_cannot_download_print_files_outside_its_ranges(portal, batch, kl):
    services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=30)
    whole_batch = ready_print_job(batch)  # the brand's own job of every unit
    assert portal.get(f"/portal/print-jobs/{whole_batch.pk}/files/1/").status_code == 404
    assert not PrintDownload.objects.exists()


def test_portal_refuses_pin_files(portal, brand, kl):
    pin_batch = ready_batch(ProductFactory(brand=brand), quantity=10, with_pin=True)
    assignment = services.assign_range(batch=pin_batch, distributor=kl, first_position=1, last_position=10)
    response = portal.post(f"/portal/assignments/{assignment.pk}/print/", {"format": "csv"}, follow=True)
    assert "scratch PINs" in response.content.decode() and not PrintJob.objects.exists()


def test_portal_downloads_the_qr_files_it_may_queue_for_a_pin_batch(portal, brand, kl):
    """Symbols carry only the URL, never the PIN: a distributor allowed to queue them must be able to fetch them."""
    from codes import printing

    pin_batch = ready_batch(ProductFactory(brand=brand), quantity=10, with_pin=True)
    assignment = services.assign_range(batch=pin_batch, distributor=kl, first_position=1, last_position=10)
    portal.post(f"/portal/assignments/{assignment.pk}/print/", {"format": "qr-png"})
    job = printing.render_job_here(PrintJob.objects.get())
    assert portal.get(f"/portal/print-jobs/{job.pk}/files/1/").status_code == 200


def test_a_viewer_still_cannot_download_a_pin_batchs_csv(viewer_client, brand):
    pin_batch = ready_batch(ProductFactory(brand=brand), quantity=3, with_pin=True)
    job = ready_print_job(pin_batch, "csv")
    assert viewer_client.get(f"/print-jobs/{job.pk}/files/1/").status_code == 403


def test_portal_marks_its_range_received(portal, batch, kl):
    assignment = services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=30)
    portal.post(f"/portal/assignments/{assignment.pk}/receive/")
    assignment.refresh_from_db()
    assert assignment.received_at is not None and assignment.received_by.memberships.get().distributor == kl


def test_portal_shows_scan_counts_by_region_without_consumer_data(portal, batch, kl):
    Scan.objects.create(
        brand=batch.product.brand,
        distributor=kl,
        outcome="authentic",
        region_code="MY-01",
        country_code="MY",
        ip_hash="secret-hash",
        place="Johor Bahru, Johor, MY",
        out_of_territory=True,
    )
    page = portal.get("/portal/").content.decode()
    assert "Johor, MY" in page and "secret-hash" not in page and "Johor Bahru" not in page  # the region, by name


def _receive_buttons(page: str) -> list[str]:
    """The actions of the "Mark as received" forms on a page."""
    return re.findall(r'action="([^"]+/receive/)"[^>]*>\s*<input[^>]*>\s*<button>Mark as received', page)


def test_a_range_whose_cartons_were_all_received_no_longer_offers_mark_as_received(portal, batch, kl):
    assignment = services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=20)
    first, second = services.pack_cartons(
        batch=batch, first_position=1, last_position=20, size=10, company_prefix="9506000"
    )
    range_button = f"/portal/assignments/{assignment.pk}/receive/"
    portal.post(f"/portal/cartons/{first.pk}/receive/")
    assert range_button in _receive_buttons(portal.get("/portal/").content.decode())  # half is still on its way
    portal.post(f"/portal/cartons/{second.pk}/receive/")
    page = portal.get("/portal/").content.decode()
    assert _receive_buttons(page) == [] and "Received, carton by carton" in page


def test_cartons_of_a_received_range_no_longer_offer_mark_as_received(portal, owner_client, batch, kl):
    assignment = services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=20)
    services.pack_cartons(batch=batch, first_position=1, last_position=20, size=10, company_prefix="9506000")
    assert len(_receive_buttons(portal.get("/portal/").content.decode())) == 3  # the range and its two cartons
    portal.post(f"/portal/assignments/{assignment.pk}/receive/")
    page = portal.get("/portal/").content.decode()
    assert _receive_buttons(page) == [] and page.count("Received with its range") == 2
    assert owner_client.get(f"/batches/{batch.pk}/").content.decode().count("Received with its range") == 2


def test_the_batch_page_shows_the_distributor_holding_each_carton(owner_client, batch, kl):
    held, kept = services.pack_cartons(
        batch=batch, first_position=1, last_position=20, size=10, company_prefix="9506000"
    )
    services.assign_carton(carton=held, distributor=kl)
    page = owner_client.get(f"/batches/{batch.pk}/").content.decode()
    rows = {sscc: row for row in page.split("<tr>") for sscc in (held.sscc, kept.sscc) if sscc in row}
    assert f'<a href="/distributors/{kl.pk}/">KL Wholesale</a>' in rows[held.sscc]
    assert "KL Wholesale</a>" not in rows[kept.sscc] and '<span class="muted">the brand</span>' in rows[kept.sscc]


def test_a_range_moved_to_a_new_distributor_is_not_received_by_it_until_it_says_so(batch, kl):
    johor = DistributorFactory(brand=batch.product.brand, name="Johor Trading", code="JHR")
    first = services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=20)
    services.pack_cartons(batch=batch, first_position=1, last_position=20, size=10, company_prefix="9506000")
    services.receive_assignment(assignment=first)  # KL received every unit
    (moved,) = services.reassign_range(batch=batch, first_position=1, last_position=20, to=johor)
    page = client_of(distributor_member(johor)).get("/portal/").content.decode()
    assert f"/portal/assignments/{moved.pk}/receive/" in _receive_buttons(page)


def test_distributor_pages_name_the_territory_and_the_regions_of_scans(owner_client, batch, kl):
    brand = batch.product.brand
    Scan.objects.create(brand=brand, distributor=kl, outcome="authentic", region_code="MY-07", country_code="MY")
    listing = owner_client.get("/distributors/").content.decode()
    page = owner_client.get(f"/distributors/{kl.pk}/").content.decode()
    for html in (listing, page):
        assert "Selangor, MY; Kuala Lumpur, MY" in html
    assert "<td>Pulau Pinang, MY</td>" in page and "MY-07" not in page
