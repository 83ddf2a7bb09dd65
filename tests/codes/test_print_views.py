"""Print jobs on the batch page: ordering them, downloading their files (streamed, resumable, logged)."""

import json

import pytest

from codes.models import PrintDownload, PrintFile, PrintFormat, PrintJob, PrintState
from tests.factories import ProductFactory, ready_batch, ready_print_job
from tests.processes import Worker, env_for_test_database, purge_queue, wait_for


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def batch(brand):
    return ready_batch(ProductFactory(brand=brand), quantity=30)


@pytest.fixture
def job(batch):
    return ready_print_job(batch, "csv", part_size=10)


def download_url(job, part=1):
    return f"/print-jobs/{job.pk}/files/{part}/"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def stored(job, part=1) -> bytes:
    from django.core.files.storage import default_storage

    with default_storage.open(job.files.get(part=part).name, "rb") as f:
        return f.read()


# --- the batch page and ordering ------------------------------------------------------------------------


def test_batch_page_lists_print_jobs_with_state_and_download_links(owner_client, batch, job):
    page = owner_client.get(f"/batches/{batch.pk}/").content.decode()
    assert f"#{job.number}" in page and "Ready" in page
    for part in (0, 1, 2, 3):
        assert download_url(job, part) in page
    assert 'id="print-form"' in page


def test_operator_orders_a_print_job_and_its_parts_are_queued_after_commit(
    operator_client, batch, django_capture_on_commit_callbacks
):
    data = {"format": "qr-png", "from_position": "3", "to_position": "22", "error_level": "H", "module_size": "3"}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = operator_client.post(f"/batches/{batch.pk}/print-jobs/new/", data)
    assert response.status_code == 302
    job = PrintJob.objects.get(batch=batch)
    assert (job.format, job.first_position, job.last_position, job.state) == ("qr-png", 3, 22, PrintState.QUEUED)
    assert job.options == {"error_level": "H", "module_size": 3}
    assert job.requested_by is not None and len(callbacks) == 1


def test_print_form_errors_name_the_field_and_create_nothing(operator_client, batch):
    response = operator_client.post(
        f"/batches/{batch.pk}/print-jobs/new/", {"format": "csv", "from_position": "20", "to_position": "4"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"to_position": ["To must not be before From."]}
    response = operator_client.post(f"/batches/{batch.pk}/print-jobs/new/", {"format": "csv", "to_position": "31"})
    assert "to_position" in response.context["form"].errors
    response = operator_client.post(f"/batches/{batch.pk}/print-jobs/new/", {"format": "bmp"})
    assert "format" in response.context["form"].errors
    assert not PrintJob.objects.exists()


def test_viewer_cannot_order_print_jobs(viewer_client, batch):
    response = viewer_client.post(f"/batches/{batch.pk}/print-jobs/new/", {"format": "csv"})
    assert response.status_code == 403
    assert not PrintJob.objects.exists()


def test_outsider_cannot_order_print_jobs_for_another_brands_batch(outsider_client, batch):
    assert outsider_client.post(f"/batches/{batch.pk}/print-jobs/new/", {"format": "csv"}).status_code == 404


# --- downloads ------------------------------------------------------------------------------------------


def test_download_streams_the_whole_file_and_logs_it(owner_client, owner, job):
    response = owner_client.get(download_url(job, 2))
    assert response.status_code == 200 and response.streaming
    assert body(response) == stored(job, 2)
    batch = job.batch
    stem = f"{batch.product.brand.slug}-{batch.product.gtin}-{batch.lot.number}-batch{batch.number}-job{job.number}"
    assert response["Content-Disposition"] == f'attachment; filename="{stem}-11-20-csv-part0002.csv"'
    assert response["Accept-Ranges"] == "bytes"
    (log,) = PrintDownload.objects.all()
    assert (log.job, log.file.part, log.user, log.first_byte, log.status) == (job, 2, owner.user, None, 200)


def test_range_request_resumes_with_206_and_exactly_those_bytes(owner_client, job):
    whole = stored(job, 1)
    response = owner_client.get(download_url(job), HTTP_RANGE="bytes=100-")
    assert response.status_code == 206
    assert body(response) == whole[100:]
    assert response["Content-Range"] == f"bytes 100-{len(whole) - 1}/{len(whole)}"
    assert response["Content-Length"] == str(len(whole) - 100)
    response = owner_client.get(download_url(job), HTTP_RANGE="bytes=10-19")
    assert (response.status_code, body(response)) == (206, whole[10:20])
    assert list(PrintDownload.objects.order_by("pk").values_list("first_byte", "last_byte", "status")) == [
        (100, len(whole) - 1, 206),
        (10, 19, 206),
    ]


def test_suffix_range_gives_the_last_bytes(owner_client, job):
    response = owner_client.get(download_url(job), HTTP_RANGE="bytes=-20")
    assert (response.status_code, body(response)) == (206, stored(job)[-20:])


def test_range_past_the_end_is_416(owner_client, job):
    size = len(stored(job))
    response = owner_client.get(download_url(job), HTTP_RANGE=f"bytes={size}-")
    assert response.status_code == 416 and response["Content-Range"] == f"bytes */{size}"


def test_stale_if_range_gets_the_whole_file(owner_client, job):
    response = owner_client.get(download_url(job), HTTP_RANGE="bytes=5-", HTTP_IF_RANGE='"not-the-etag"')
    assert response.status_code == 200 and body(response) == stored(job)


def test_manifest_download_lists_the_parts_sha256(owner_client, job):
    manifest = json.loads(body(owner_client.get(download_url(job, PrintFile.MANIFEST))))
    assert [f["sha256"] for f in manifest["files"]] == list(
        job.files.filter(part__gt=0).order_by("part").values_list("sha256", flat=True)
    )


def test_viewer_may_download(viewer_client, job):
    assert viewer_client.get(download_url(job)).status_code == 200


def test_another_brands_print_file_is_404_and_not_logged(outsider_client, job):
    assert outsider_client.get(download_url(job)).status_code == 404
    assert outsider_client.get(download_url(job), HTTP_RANGE="bytes=0-9").status_code == 404
    assert not PrintDownload.objects.exists()


def test_files_of_a_job_not_ready_are_404(owner_client, batch):
    from codes import printing

    job = printing.create_print_job(batch=batch, fmt="csv", enqueue=False)
    assert owner_client.get(download_url(job)).status_code == 404


# --- a real worker --------------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_renders_a_print_job_in_parts(settings, tmp_path):
    from codes import printing

    settings.MEDIA_ROOT = tmp_path / "worker-media"
    batch = ready_batch(quantity=500)
    env = env_for_test_database(MEDIA_ROOT=settings.MEDIA_ROOT)
    purge_queue(env)
    worker = Worker(MEDIA_ROOT=settings.MEDIA_ROOT).start()
    try:
        job = printing.create_print_job(batch=batch, fmt=PrintFormat.QR_SVG, part_size=200)
        wait_for(lambda: PrintJob.objects.get(pk=job.pk).is_finished, timeout=120)
    finally:
        worker.stop()
    job.refresh_from_db()
    assert job.state == PrintState.READY and job.codes_done == 500
    manifest = json.loads(stored(job, PrintFile.MANIFEST))
    assert [(f["from_position"], f["to_position"]) for f in manifest["files"]] == [(1, 200), (201, 400), (401, 500)]
    import hashlib

    assert all(hashlib.sha256(stored(job, f["part"])).hexdigest() == f["sha256"] for f in manifest["files"])


def test_absurd_range_header_gets_the_whole_file_not_an_error(owner_client, job):
    response = owner_client.get(download_url(job), HTTP_RANGE="bytes=0-" + "9" * 4400)
    assert response.status_code == 200 and body(response) == stored(job)


def test_file_missing_from_storage_is_a_404(owner_client, job):
    from django.core.files.storage import default_storage

    default_storage.delete(job.files.get(part=1).name)
    assert owner_client.get(download_url(job)).status_code == 404


def test_two_print_jobs_of_one_batch_download_under_different_names(owner_client, batch):
    """The same format ordered twice (a reprint, another range): files never overwrite each other in a
    downloads folder, and each name says its job and positions."""
    first, second = ready_print_job(batch, "csv", last=20), ready_print_job(batch, "csv", first=21, last=30)
    names = [
        owner_client.get(download_url(job, part))["Content-Disposition"] for job in (first, second) for part in (1, 0)
    ]
    assert len(set(names)) == 4
    assert f"-job{first.number}-1-20-csv-part0001.csv" in names[0]
    assert f"-job{second.number}-21-30-csv-manifest.json" in names[3]


def test_a_manifest_names_the_job_by_the_number_the_brand_sees(owner_client, brand):
    ready_print_job(ready_batch(ProductFactory(), quantity=5), "csv")  # another brand's job: a lower global id
    batch = ready_batch(ProductFactory(brand=brand), quantity=5)
    job = ready_print_job(batch, "csv")
    page = owner_client.get(f"/batches/{batch.pk}/").content.decode()
    manifest = json.loads(body(owner_client.get(download_url(job, 0))))
    assert job.number == 1 and job.pk != 1 and "<td>#1</td>" in page
    assert manifest["job"] == 1
