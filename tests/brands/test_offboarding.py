"""Brand offboarding: an owner's confirmed request, an export of everything, then deletion of every row and
file of that brand, and of nothing of another, after the grace period."""

import csv
import io
import zipfile
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from brands import offboarding
from brands.models import Brand, BrandDeletion, Invitation, Role, User
from codes import gs1
from codes.models import Code, PrintDownload
from scans import rollups
from scans.models import Scan
from tests.factories import MembershipFactory, png_bytes


def populate(brand) -> dict:
    """One of everything a brand can own (one_of_everything has its distributor, range and carton), with a
    scan, a download log, an invitation and files."""
    from tests.factories import one_of_everything

    objects = one_of_everything(brand)
    brand.logo.save("logo.png", ContentFile(png_bytes()), save=True)
    code = Code.objects.for_brand(brand).select_related("product", "batch__lot").first()
    url = gs1.digital_link_url("https://v.example", gtin=code.product.gtin, serial=code.serial, lot=None, expiry=None)
    assert Client().get(urlsplit(url).path, REMOTE_ADDR="175.139.1.1").status_code == 200
    member = MembershipFactory(brand=brand, role=Role.OWNER)
    downloader = Client()
    downloader.force_login(member.user)
    assert downloader.get(f"/print-jobs/{objects['print_job_id']}/files/1/").status_code in (200, 302)
    Invitation.objects.create(brand=brand, email=f"new{brand.pk}@example.com")
    # Yesterday's scan, rolled up for the overview: the daily summary rows are the brand's too.
    Scan.objects.for_brand(brand).update(scanned_at=timezone.now() - timedelta(days=1))
    rollups.roll_up(brand)
    return objects


def counts(brand_id: int) -> dict[str, int]:
    return {m._meta.label: offboarding.rows_of(m, brand_id).count() for m in offboarding.brand_owned_models()}


def files_of(brand_id: int) -> set[str]:
    return {n for m in offboarding.brand_owned_models() for n in offboarding.stored_names(m, brand_id)}


@pytest.fixture
def doomed(s3, brand, owner):
    populate(brand)
    return brand


@pytest.fixture
def bystander(s3, other_brand):
    populate(other_brand)
    return other_brand


def test_every_model_with_for_brand_is_covered_including_other_apps():
    labels = {m._meta.label for m in offboarding.brand_owned_models()}
    assert {"brands.Brand", "codes.Code", "scans.Scan", "scans.CounterfeitReport", "codes.PrintDownload"} <= labels
    assert {"distributors.Assignment", "distributors.Carton", "distributors.Distributor"} <= labels
    assert {"owners.Registration", "owners.Consent"} <= labels  # owners' registrations, found by themselves
    order = [m._meta.label for m in offboarding.brand_owned_models()]
    assert order[-1] == "brands.Brand"
    assert order.index("scans.Scan") < order.index("codes.Code") < order.index("codes.CodeBatch")
    assert order.index("codes.Product") < order.index("brands.BrandKey")
    assert order.index("owners.Consent") < order.index("owners.Registration") < order.index("brands.BrandKey")


def test_deletion_needs_the_brand_short_name(doomed, owner):
    with pytest.raises(offboarding.OffboardingError) as refused:
        offboarding.request_deletion(brand=doomed, requested_by=owner.user, confirm_slug="typo", enqueue=False)
    assert refused.value.field == "confirm_slug" and not BrandDeletion.objects.exists()


def test_the_export_holds_every_table_of_the_brand_and_its_photos(doomed, bystander, owner, s3):
    offboarding.request_deletion(brand=doomed, requested_by=owner.user, confirm_slug=doomed.slug, enqueue=False)
    deletion = offboarding.export_brand(doomed.pk)
    with zipfile.ZipFile(io.BytesIO(s3.read(deletion.export_name))) as export:
        names = set(export.namelist())
        codes = list(csv.DictReader(io.StringIO(export.read("codes/code.csv").decode())))
        manifest = export.read("manifest.json").decode()
    assert {"codes/code.csv", "scans/scan.csv", "scans/counterfeitreport.csv", "brands/brand.csv"} <= names
    assert {r["serial"] for r in codes} == set(Code.objects.for_brand(doomed).values_list("serial", flat=True))
    assert not {r["serial"] for r in codes} & set(Code.objects.for_brand(bystander).values_list("serial", flat=True))
    assert {f"files/{doomed.logo.name}"} <= names and any(n.startswith("files/counterfeit-reports/") for n in names)
    assert "sealed" not in export_columns(names, deletion, s3) and '"rows": 5' in manifest


def export_columns(names, deletion, s3) -> str:
    with zipfile.ZipFile(io.BytesIO(s3.read(deletion.export_name))) as export:
        return export.read("brands/brandkey.csv").decode().splitlines()[0]


def test_nothing_is_deleted_before_the_grace_period_ends(doomed, owner):
    offboarding.request_deletion(brand=doomed, requested_by=owner.user, confirm_slug=doomed.slug, enqueue=False)
    offboarding.export_brand(doomed.pk)
    assert offboarding.delete_due_brands() == []
    assert Brand.objects.filter(pk=doomed.pk).exists()


def test_deletion_removes_every_row_and_file_of_the_brand_and_nothing_of_another(doomed, bystander, owner, s3):
    for brand in (doomed, bystander):
        offboarding.request_deletion(brand=brand, requested_by=owner.user, confirm_slug=brand.slug, enqueue=False)
        offboarding.export_brand(brand.pk)
    BrandDeletion.objects.filter(brand=bystander).update(delete_after=timezone.now() + timedelta(days=30))
    product_ids = list(
        offboarding.rows_of(offboarding.apps.get_model("codes", "Product"), doomed.pk).values_list("pk", flat=True)
    )
    doomed_files, kept_files = files_of(doomed.pk), files_of(bystander.pk)
    assert doomed_files and kept_files and set(s3.object_names()) == doomed_files | kept_files
    before, users = counts(bystander.pk), User.objects.count()
    assert all(before.values()), before  # the bystander really has a row of every kind

    later = timezone.now() + timedelta(days=15)
    assert offboarding.delete_due_brands(now=later) == [doomed.pk]

    assert not any(counts(doomed.pk).values())
    assert not Code.objects.filter(product_id__in=product_ids).exists()
    assert not Scan.objects.filter(brand_id=doomed.pk).exists()
    assert counts(bystander.pk) == before
    assert set(s3.object_names()) == kept_files
    assert User.objects.count() == users  # people are not the brand's: their accounts stay
    assert PrintDownload.objects.for_brand(bystander).exists()


def test_deletion_resumes_after_a_crash_and_a_repeat_does_nothing(doomed, owner):
    offboarding.request_deletion(brand=doomed, requested_by=owner.user, confirm_slug=doomed.slug, enqueue=False)
    offboarding.export_brand(doomed.pk)
    offboarding.delete_brand(doomed.pk)
    assert not any(offboarding.delete_brand(doomed.pk).values())


def test_an_export_half_stored_by_a_killed_worker_is_deleted_and_never_offered(brand, owner, owner_client):
    from django.core.files.storage import default_storage

    deletion = offboarding.request_deletion(
        brand=brand, requested_by=owner.user, confirm_slug=brand.slug, enqueue=False
    )
    # What a worker killed while storing the export leaves: the name it was writing, and part of a ZIP there.
    half = default_storage.save(f"{offboarding.EXPORT_FOLDER}/half.zip", ContentFile(b"PK\x03\x04"))
    BrandDeletion.objects.filter(pk=deletion.pk).update(export_name=half)
    assert owner_client.get("/settings/delete/export/").status_code == 404
    offboarding.export_brand(brand.pk)  # the redelivered task
    deletion.refresh_from_db()
    assert not default_storage.exists(half) and deletion.export_name != half
    with default_storage.open(deletion.export_name, "rb") as handle, zipfile.ZipFile(handle) as export:
        assert "manifest.json" in export.namelist()


def test_codes_are_deleted_by_set_based_statements_in_chunks(doomed, owner, monkeypatch):
    monkeypatch.setattr(offboarding, "CHUNK", 2)
    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        offboarding.delete_brand(doomed.pk)
    deletes = [sql for sql in recorder.sql if sql.startswith(f'DELETE FROM "{Code._meta.db_table}"')]
    assert len(deletes) == 3  # 5 codes in chunks of 2: three statements, no per-row work


class Recorder:
    def __init__(self):
        self.sql = []

    def __call__(self, execute, sql, params, many, context):
        self.sql.append(sql)
        return execute(sql, params, many, context)


# --- the pages ------------------------------------------------------------------------------------------


def test_owner_requests_deletion_with_short_name_and_password_then_cancels(doomed, owner_client):
    page = owner_client.post("/settings/delete/", {"confirm_slug": doomed.slug, "password": "wrong"})
    assert page.status_code == 200 and not BrandDeletion.objects.exists()
    response = owner_client.post(
        "/settings/delete/", {"confirm_slug": doomed.slug, "password": "correct horse battery"}
    )
    assert response.status_code == 302
    deletion = BrandDeletion.objects.get(brand=doomed)
    assert deletion.delete_after > timezone.now() + timedelta(days=13)
    offboarding.export_brand(doomed.pk)
    assert owner_client.get("/settings/delete/export/").status_code == 302  # presigned, on S3
    owner_client.post("/settings/delete/", {"action": "cancel"})
    assert not BrandDeletion.objects.exists()


def test_only_owners_may_delete_a_brand(brand, viewer_client):
    from tests.conftest import _client_for

    admin = _client_for(MembershipFactory(brand=brand, role=Role.ADMIN))
    for client in (admin, viewer_client):
        assert client.get("/settings/delete/").status_code == 403
        assert client.post("/settings/delete/", {"confirm_slug": brand.slug}).status_code == 403
