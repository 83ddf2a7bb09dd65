"""Files on a real S3-compatible server (moto's server mode): private, never overwritten, downloads by presigned
redirect, print jobs rendered by the web process and by a Celery worker alike."""

import io
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from codes.models import PrintDownload, PrintFile, PrintFormat, PrintJob, PrintState
from scans.models import CounterfeitReport
from serialize_saas.settings import file_storage
from tests.factories import ProductFactory, ready_batch, ready_print_job
from tests.processes import Worker, env_for_test_database, purge_queue, wait_for


def jpeg(colour="red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def fetch(url: str, **headers) -> tuple[int, bytes, dict]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:  # noqa: S310
        return response.status, response.read(), dict(response.headers)


def report_with_photo(name: str, data: bytes):
    photo = SimpleUploadedFile(name, data, content_type="image/jpeg")
    return Client().post("/verify/report/", {"where_bought": "Night market", "photo": photo}, REMOTE_ADDR="8.8.4.4")


def test_s3_is_configured_from_the_standard_aws_variables():
    config = file_storage(
        {
            "FILE_STORAGE_BACKEND": "storages.backends.s3.S3Storage",
            "AWS_STORAGE_BUCKET_NAME": "prints",
            "AWS_S3_ENDPOINT_URL": "https://s3.example.com",
            "AWS_S3_REGION_NAME": "ap-southeast-1",
            "AWS_S3_CUSTOM_DOMAIN": "files.example.com",
            "AWS_ACCESS_KEY_ID": "id",
            "AWS_SECRET_ACCESS_KEY": "secret",
        }
    )
    options = config["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
        "prints",
        "https://s3.example.com",
        "ap-southeast-1",
    )
    assert (options["custom_domain"], options["access_key"], options["secret_key"]) == (
        "files.example.com",
        "id",
        "secret",
    )
    assert options["default_acl"] == "private" and options["file_overwrite"] is False
    with pytest.raises(ImproperlyConfigured, match="AWS_STORAGE_BUCKET_NAME"):
        file_storage({"FILE_STORAGE_BACKEND": "storages.backends.s3.S3Storage"})


def test_a_print_job_renders_into_the_bucket_as_private_objects(s3, brand):
    job = ready_print_job(ready_batch(ProductFactory(brand=brand), quantity=30), "qr-svg", part_size=20)
    assert job.state == PrintState.READY
    names = sorted(job.files.values_list("name", flat=True))
    assert s3.object_names() == names and len(names) == 3
    grants = s3.client().get_object_acl(Bucket=s3.name, Key=names[0])["Grants"]
    assert all("URI" not in grant["Grantee"] for grant in grants)  # no AllUsers / AuthenticatedUsers grant
    assert all(g["Permission"] == "FULL_CONTROL" for g in grants)


def test_a_download_is_a_short_lived_presigned_redirect_logged_per_user(s3, brand, owner, owner_client):
    job = ready_print_job(ready_batch(ProductFactory(brand=brand), quantity=30), "csv", part_size=30)
    part = job.files.get(part=1)
    response = owner_client.get(f"/print-jobs/{job.pk}/files/1/")
    assert response.status_code == 302 and response["Cache-Control"] == "private, no-store"
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["X-Amz-Expires"] == ["60"] and "X-Amz-Signature" in query
    status, data, headers = fetch(response["Location"])
    assert status == 200 and data == s3.read(part.name)
    batch = job.batch
    stem = f"{batch.product.brand.slug}-{batch.product.gtin}-{batch.lot.number}-batch{batch.number}-job{job.number}"
    assert headers["Content-Disposition"] == f'attachment; filename="{stem}-1-30-csv-part0001.csv"'
    (log,) = PrintDownload.objects.all()
    assert (log.user, log.file, log.first_byte, log.last_byte, log.status) == (owner.user, part, None, None, 302)


def test_a_range_download_never_fetches_the_object_into_the_web_process(s3, brand, owner_client):
    job = ready_print_job(ready_batch(ProductFactory(brand=brand), quantity=1_000), "csv", part_size=1_000)
    part = job.files.get(part=1)
    assert part.size > 100_000
    s3.proxy.reset()
    response = owner_client.get(f"/print-jobs/{job.pk}/files/1/", HTTP_RANGE="bytes=0-0")
    assert response.status_code == 302
    assert s3.proxy.bytes_from_server == 0  # the web process signed a URL and fetched nothing
    status, data, _headers = fetch(response["Location"], Range="bytes=0-0")
    assert (status, data) == (206, s3.read(part.name)[:1])
    s3.proxy.reset()
    fetch(response["Location"], Range="bytes=5-14")
    assert s3.proxy.bytes_from_server < 2_000  # headers and ten bytes, not the part's 100 kB
    log = PrintDownload.objects.get()
    assert (log.first_byte, log.last_byte, log.status) == (0, 0, 302)


def test_two_photos_with_the_same_file_name_are_two_files(s3, db):
    for colour in ("red", "blue"):
        assert report_with_photo("IMG_0001.jpg", jpeg(colour)).status_code == 200
    names = list(CounterfeitReport.objects.values_list("photo", flat=True))
    assert len(set(names)) == 2 and s3.object_names() == sorted(names)
    assert all("IMG_0001" not in name for name in names)
    colours = {Image.open(io.BytesIO(s3.read(name))).getpixel((5, 5))[2] > 128 for name in names}
    assert colours == {True, False}  # one red, one blue: neither replaced the other


def test_an_anonymous_upload_never_replaces_another_file(s3, brand):
    brand.logo.save("l.png", ContentFile(jpeg("green")), save=True)
    evidence = CounterfeitReport(brand=brand, where_bought="Shop")
    evidence.photo.save("p.jpg", ContentFile(jpeg("red")), save=True)
    before = {key: s3.read(key) for key in s3.object_names()}
    for name in (evidence.photo.name.rsplit("/", 1)[-1], "../" + brand.logo.name, brand.logo.name, "p.jpg"):
        assert report_with_photo(name, jpeg("black")).status_code == 200
    assert {key: s3.read(key) for key in before} == before
    assert len(s3.object_names()) == len(before) + 4


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_renders_a_print_job_into_s3_from_the_environment(s3_server, settings):
    from codes import printing
    from tests.s3 import new_bucket

    bucket = new_bucket(*s3_server)
    settings.STORAGES = {**settings.STORAGES, "default": file_storage(bucket.environ())}
    batch = ready_batch(quantity=300)
    env = env_for_test_database(**bucket.environ())
    purge_queue(env)
    worker = Worker(**bucket.environ()).start()
    try:
        job = printing.create_print_job(batch=batch, fmt=PrintFormat.CSV, part_size=100)
        wait_for(lambda: PrintJob.objects.get(pk=job.pk).is_finished, timeout=120)
    finally:
        worker.stop()
    job.refresh_from_db()
    assert job.state == PrintState.READY, job.error
    assert bucket.object_names() == sorted(job.files.values_list("name", flat=True))
    manifest = bucket.read(job.files.get(part=PrintFile.MANIFEST).name)
    assert b'"parts": 3' in manifest
