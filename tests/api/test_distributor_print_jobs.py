"""Print jobs through a distributor's key: it lists and downloads the print files of the ranges it holds, as its
people do in the portal, and nothing else of the brand's printing (a sibling's jobs, the brand's own: 404)."""

import pytest

from codes.models import PrintDownload
from distributors import services
from tests.factories import DistributorFactory, ProductFactory, ready_batch, ready_print_job

from .conftest import key_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(brand):
    return ready_batch(ProductFactory(brand=brand), quantity=60)


@pytest.fixture
def kl(brand):
    return DistributorFactory(brand=brand, name="KL Wholesale", code="KL")


@pytest.fixture
def johor(brand):
    return DistributorFactory(brand=brand, name="Johor Trading", code="JHR")


@pytest.fixture
def jobs(batch, kl, johor):
    """KL holds positions 1–20, Johor 21–40; one print job of each range, and the brand's own of the whole batch."""
    services.assign_range(batch=batch, distributor=kl, first_position=1, last_position=20)
    services.assign_range(batch=batch, distributor=johor, first_position=21, last_position=40)
    return {
        "kl": ready_print_job(batch, "csv", first=1, last=20, part_size=10),
        "johor": ready_print_job(batch, "csv", first=21, last=40),
        "brand": ready_print_job(batch, "csv"),
    }


def test_a_distributors_key_lists_and_shows_the_print_jobs_of_its_ranges(kl, jobs):
    kl_api = key_client(kl.brand, "read", distributor=kl)
    listed = kl_api.get("/api/v1/print-jobs/")
    assert listed.status_code == 200 and [j["id"] for j in listed.json()["results"]] == [jobs["kl"].pk]
    shown = kl_api.get(f"/api/v1/print-jobs/{jobs['kl'].pk}/").json()
    assert (shown["first_position"], shown["last_position"]) == (1, 20)
    assert [f["part"] for f in shown["files"]] == [0, 1, 2]


def test_a_distributors_key_downloads_its_print_files_and_the_download_is_logged(kl, jobs):
    kl_api = key_client(kl.brand, "read", distributor=kl)
    answer = kl_api.get(f"/api/v1/print-jobs/{jobs['kl'].pk}/files/1/")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    assert b"".join(answer.streaming_content).decode().count("\n") == 11  # header and 10 codes
    logged = PrintDownload.objects.get()
    assert (logged.job, logged.file.part, logged.status) == (jobs["kl"], 1, 200)


@pytest.mark.parametrize("whose", ["johor", "brand"])
def test_a_siblings_or_the_brands_own_print_job_is_404_to_a_distributors_key(kl, jobs, whose):
    kl_api = key_client(kl.brand, "read,write", distributor=kl)
    job = jobs[whose]
    assert kl_api.get(f"/api/v1/print-jobs/{job.pk}/").status_code == 404
    assert kl_api.get(f"/api/v1/print-jobs/{job.pk}/files/1/").status_code == 404
    assert kl_api.get(f"/api/v1/print-jobs/{job.pk}/files/0/").status_code == 404
    assert not PrintDownload.objects.exists()


def test_a_distributors_key_does_not_order_print_jobs(kl, batch, jobs):
    kl_api = key_client(kl.brand, "read,write", distributor=kl)
    refused = kl_api.post("/api/v1/print-jobs/", {"batch": batch.pk, "format": "csv"}, format="json")
    assert refused.status_code == 404  # printing a batch is the brand's, outside the distributor's world


def test_a_range_moved_away_takes_its_print_jobs_with_it(kl, johor, jobs):
    from distributors.models import Assignment

    kl_api = key_client(kl.brand, "read", distributor=kl)
    held = Assignment.objects.get(distributor=kl)
    services.reassign_assignment(assignment=held, to=johor, by=None)
    assert kl_api.get("/api/v1/print-jobs/").json()["results"] == []
    assert kl_api.get(f"/api/v1/print-jobs/{jobs['kl'].pk}/files/1/").status_code == 404


def test_a_distributor_cannot_fetch_a_pin_batchs_csv(brand, kl):
    pin_batch = ready_batch(ProductFactory(brand=brand), quantity=10, with_pin=True)
    services.assign_range(batch=pin_batch, distributor=kl, first_position=1, last_position=10)
    job = ready_print_job(pin_batch, "csv")
    kl_api = key_client(brand, "read", distributor=kl)
    assert kl_api.get(f"/api/v1/print-jobs/{job.pk}/").status_code == 200
    assert kl_api.get(f"/api/v1/print-jobs/{job.pk}/files/1/").status_code == 403
