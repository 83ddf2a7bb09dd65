"""Importing serials through the API: a JSON list or a file, answered 202, registered in the background, every
refused line reported as CSV; another brand's import is a 404, a read key cannot import."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from codes.models import Code, ImportState, SerialImport
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(brand):
    return ProductFactory(brand=brand)


def import_json(api, product, serials, **fields):
    body = {"product": product.pk, "lot_number": "BYO1", "serials": serials, **fields}
    return api.post("/api/v1/imports/", body, format="json")


def test_a_json_list_is_imported_and_its_bad_lines_reported(
    api, product, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = import_json(api, product, ["BYO-0001", "BYO-0002", "BYO-0001", "bad#serial"])
    assert answer.status_code == 202 and answer["Location"] == answer.json()["status_url"]
    done = api.get(answer.json()["status_url"]).json()
    assert (done["state"], done["lines_accepted"], done["lines_refused"]) == (ImportState.DONE, 2, 2)
    assert set(Code.objects.filter(batch_id=done["batch"]).values_list("serial", flat=True)) == {"BYO-0001", "BYO-0002"}
    report = api.get(done["refused_url"])
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert [row["line"] for row in rows] == ["3", "4"] and all(row["reason"] for row in rows)


def test_a_csv_file_is_imported(api, product, eager_tasks, django_capture_on_commit_callbacks):
    file = SimpleUploadedFile("serials.csv", b"serial\nLINE-1\nLINE-2\nLINE-3\n")
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(
            "/api/v1/imports/", {"product": product.pk, "lot_number": "BYO2", "format": "csv", "file": file}
        )
    assert answer.status_code == 202, answer.json()
    assert SerialImport.objects.get(pk=answer.json()["id"]).lines_accepted == 3


def test_a_file_larger_than_other_requests_may_be_is_taken(api, product, settings):
    settings.MAX_REQUEST_BYTES = 1000
    file = SimpleUploadedFile("serials.csv", "\n".join(f"BIG-{n:06d}" for n in range(1000)).encode())
    answer = api.post("/api/v1/imports/", {"product": product.pk, "lot_number": "BYO3", "format": "csv", "file": file})
    assert answer.status_code == 202
    assert api.post("/api/v1/products/", {"name": "x" * 2000}, format="json").status_code == 413  # not elsewhere


def test_a_file_needs_its_format_and_a_body_needs_one_of_file_or_serials(api, product):
    assert import_json(api, product, []).status_code == 400
    answer = api.post(
        "/api/v1/imports/", {"product": product.pk, "lot_number": "L", "file": SimpleUploadedFile("s", b"A")}
    )
    assert answer.status_code == 400 and "format" in answer.json()["errors"]


def test_another_brands_product_and_import_do_not_exist(api, outsider_api, product, other_brand):
    answer = import_json(outsider_api, product, ["BYO-0001"])
    assert answer.status_code == 400 and "product" in answer.json()["errors"]
    mine = import_json(api, product, ["BYO-0001"]).json()
    assert outsider_api.get(mine["status_url"]).status_code == 404
    assert outsider_api.get(mine["refused_url"]).status_code == 404


def test_a_read_key_cannot_import(read_api, product):
    assert import_json(read_api, product, ["BYO-0001"]).status_code == 403


def test_no_key_no_import(client, product):
    assert client.post("/api/v1/imports/", {}, content_type="application/json").status_code == 401
