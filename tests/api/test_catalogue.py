"""The catalogue through the API: products, lots, batches (202, idempotent), print jobs and their files."""

import threading

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from api.models import IdempotentRequest
from brands.models import Brand, Role
from codes.gs1 import gtin_check_digit
from codes.models import BatchState, CodeBatch, Lot, PrintDownload, PrintJob, PrintState, Product
from tests.factories import LotFactory, MembershipFactory, ProductFactory, ready_batch, ready_print_job, ref_product
from tests.processes import Worker, env_for_test_database, purge_queue, wait_for

from .conftest import key_client

pytestmark = pytest.mark.django_db

NEW_GTIN = (body := "0950600099999") + gtin_check_digit(body)


@pytest.fixture
def product(brand):
    return ProductFactory(brand=brand)


@pytest.fixture
def lot(product):
    return LotFactory(product=product)


def order(client, product, key=None, **fields):
    body = {"product": product.pk, "lot_number": "L-API-1", "expires_on": "2031-06-30", "quantity": 25, **fields}
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/batches/", body, format="json", **headers)


def field_errors(response) -> dict:
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()["errors"]


# --- products ---------------------------------------------------------------------------------------------


def test_a_product_is_created_listed_and_read(api):
    made = api.post("/api/v1/products/", {"name": "Vitamin C 500", "gtin": NEW_GTIN[1:]}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["gtin"] == NEW_GTIN and made.json()["frozen_fields"] == []
    listed = api.get("/api/v1/products/").json()["results"]
    assert [p["name"] for p in listed] == ["Vitamin C 500"]
    assert api.get(f"/api/v1/products/{made.json()['id']}/").json()["serial_alphabet"] == "alnum"


def test_a_product_without_a_gtin_gets_a_ref(api, brand):
    made = api.post("/api/v1/products/", {"name": "Herbal Balm"}, format="json").json()
    assert made["gtin"] is None and made["ref"].startswith(f"{brand.slug}.")


def test_a_gtin_outside_the_brands_prefix_is_refused_naming_the_field(api):
    refused = api.post("/api/v1/products/", {"name": "Stolen", "gtin": "4006381333931"}, format="json")
    assert refused.status_code == 400 and "gtin" in field_errors(refused)
    assert not Product.objects.filter(name="Stolen").exists()


def test_a_product_is_renamed(api, product):
    changed = api.patch(f"/api/v1/products/{product.pk}/", {"name": "Renamed"}, format="json")
    assert changed.status_code == 200 and changed.json()["name"] == "Renamed"
    assert Product.objects.get(pk=product.pk).name == "Renamed"


def test_the_serial_format_is_frozen_once_a_product_has_codes(api, product):
    ready_batch(product, quantity=3)
    refused = api.patch(f"/api/v1/products/{product.pk}/", {"serial_length": 16}, format="json")
    assert refused.status_code == 400 and "serial_length" in field_errors(refused)
    assert Product.objects.get(pk=product.pk).serial_length == 12
    assert api.get(f"/api/v1/products/{product.pk}/").json()["frozen_fields"] == [
        "serial_alphabet",
        "serial_length",
        "gtin",
    ]


def test_products_are_the_key_brands_only(outsider_api, read_api, product):
    assert outsider_api.get(f"/api/v1/products/{product.pk}/").status_code == 404
    assert outsider_api.patch(f"/api/v1/products/{product.pk}/", {"name": "x"}, format="json").status_code == 404
    assert outsider_api.get("/api/v1/products/").json()["results"] == []
    assert read_api.patch(f"/api/v1/products/{product.pk}/", {"name": "x"}, format="json").status_code == 403
    assert read_api.post("/api/v1/products/", {"name": "x"}, format="json").status_code == 403
    assert APIClient().get("/api/v1/products/").status_code == 401


def test_a_write_key_cannot_manage_products(brand, product):
    """Products are an admin's in the dashboard: a `write` key (an operator's permissions) reads them only."""
    write = key_client(brand, "read,write")
    assert write.get(f"/api/v1/products/{product.pk}/").status_code == 200
    assert write.patch(f"/api/v1/products/{product.pk}/", {"name": "x"}, format="json").status_code == 403


# --- lots -------------------------------------------------------------------------------------------------


def test_a_lot_is_made_once_and_found_again(api, product):
    body = {"product": product.pk, "number": " L2031 ", "expires_on": "2031-01-31"}
    made = api.post("/api/v1/lots/", body, format="json")
    again = api.post("/api/v1/lots/", body, format="json")
    assert (made.status_code, again.status_code) == (201, 200)
    assert made.json()["id"] == again.json()["id"] and made.json()["number"] == "L2031"
    assert api.get(f"/api/v1/lots/{made.json()['id']}/").json()["expires_on"] == "2031-01-31"
    assert [lot["number"] for lot in api.get(f"/api/v1/lots/?product={product.pk}").json()["results"]] == ["L2031"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"number": "L 1é"}, "number"), ({"number": "L1", "expires_on": "2001-01-01"}, "expires_on")],
)
def test_a_lot_that_could_not_be_printed_is_refused_naming_the_field(api, product, fields, field):
    refused = api.post("/api/v1/lots/", {"product": product.pk, **fields}, format="json")
    assert refused.status_code == 400 and field in field_errors(refused)
    assert not Lot.objects.filter(product=product).exists()


def test_a_lot_of_another_brands_product_is_refused_as_unknown(outsider_api, product):
    refused = outsider_api.post("/api/v1/lots/", {"product": product.pk, "number": "L1"}, format="json")
    assert refused.status_code == 400 and "product" in field_errors(refused)


def test_lots_are_the_key_brands_only(outsider_api, read_api, product, lot):
    assert outsider_api.get(f"/api/v1/lots/{lot.pk}/").status_code == 404
    assert outsider_api.get(f"/api/v1/lots/?product={product.pk}").json()["results"] == []
    assert read_api.get(f"/api/v1/lots/{lot.pk}/").status_code == 200
    assert read_api.post("/api/v1/lots/", {"product": product.pk, "number": "L9"}, format="json").status_code == 403
    assert APIClient().get(f"/api/v1/lots/{lot.pk}/").status_code == 401


# --- batches ----------------------------------------------------------------------------------------------


def test_an_order_is_accepted_with_its_status_url(api, product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        answer = order(api, product)
    assert answer.status_code == 202, answer.content
    batch = CodeBatch.objects.get(pk=answer.json()["id"])
    assert (batch.quantity, batch.lot.number, str(batch.lot.expires_on)) == (25, "L-API-1", "2031-06-30")
    assert len(queued) == 1  # generation is handed to a worker after commit
    status_url = answer.json()["status_url"]
    assert answer["Location"] == status_url and status_url.endswith(f"/api/v1/batches/{batch.pk}/")
    polled = api.get(status_url).json()
    assert polled["state"] == "queued"
    assert polled["progress"] == batch.progress(state_label="Queued")  # what the dashboard's bar polls


def test_a_batch_shows_its_progress_as_the_dashboard_does(api, product, owner_client):
    batch = ready_batch(product, quantity=7)
    shown = api.get(f"/api/v1/batches/{batch.pk}/").json()
    assert shown["state"] == "ready" and shown["progress"] == owner_client.get(f"/batches/{batch.pk}/progress/").json()
    assert shown["progress"]["percent"] == 100 and shown["progress"]["finished"] is True


def test_batches_are_filtered_by_product_lot_and_state(api, brand, product):
    ready = ready_batch(product, quantity=3)
    other = ready_batch(ProductFactory(brand=brand), quantity=3)
    queued = order(api, product).json()["id"]

    def ids(query):
        return {b["id"] for b in api.get(f"/api/v1/batches/?{query}").json()["results"]}

    assert ids(f"product={product.pk}") == {ready.pk, queued}
    assert ids(f"lot={other.lot_id}") == {other.pk}
    assert ids("state=queued") == {queued}
    assert ids(f"product={product.pk}&state=ready") == {ready.pk}


def test_an_order_the_plan_refuses_is_a_400_naming_the_field(api, brand, product):
    brand.plan = "trial"
    brand.save(update_fields=["plan"])
    refused = order(api, product, quantity=60_000)
    assert refused.status_code == 400 and "plan allows" in field_errors(refused)["quantity"][0]
    assert not CodeBatch.objects.exists() and not Lot.objects.exists()  # not even its new lot


def test_an_order_names_its_lot_by_id_or_number_never_both(api, product, lot):
    by_id = api.post("/api/v1/batches/", {"product": product.pk, "lot": lot.pk, "quantity": 5}, format="json")
    assert by_id.status_code == 202 and by_id.json()["lot"] == lot.pk
    both = order(api, product, lot=lot.pk)
    assert both.status_code == 400 and "lot" in field_errors(both)


def test_a_lot_of_another_product_is_refused(api, brand, product):
    elsewhere = LotFactory(product=ProductFactory(brand=brand))
    refused = api.post("/api/v1/batches/", {"product": product.pk, "lot": elsewhere.pk, "quantity": 5}, format="json")
    assert refused.status_code == 400 and "lot" in field_errors(refused)


def test_batches_are_the_key_brands_only(outsider_api, read_api, product):
    batch = ready_batch(product, quantity=3)
    assert outsider_api.get(f"/api/v1/batches/{batch.pk}/").status_code == 404
    assert outsider_api.get("/api/v1/batches/").json()["results"] == []
    assert order(outsider_api, product).status_code == 400  # another brand's product is no product
    assert read_api.get(f"/api/v1/batches/{batch.pk}/").status_code == 200
    assert order(read_api, product).status_code == 403
    assert APIClient().get(f"/api/v1/batches/{batch.pk}/").status_code == 401
    assert CodeBatch.objects.count() == 1


def test_the_batch_is_recorded_as_ordered_by_the_keys_maker(brand, product):
    maker = MembershipFactory(brand=brand, role=Role.ADMIN).user
    client = key_client(brand, "read,write", created_by=maker)
    batch = CodeBatch.objects.get(pk=order(client, product).json()["id"])
    assert batch.ordered_by == maker


# --- Idempotency-Key --------------------------------------------------------------------------------------


def test_a_retried_order_with_its_key_gets_the_same_answer_and_no_second_batch(api, product):
    first = order(api, product, key="order-7f3a")
    retry = order(api, product, key="order-7f3a")
    assert (first.status_code, retry.status_code) == (202, 202)
    assert retry.json() == first.json() and retry["Location"] == first["Location"]
    assert retry["Idempotent-Replayed"] == "true"
    assert CodeBatch.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422(api, product):
    assert order(api, product, key="order-1").status_code == 202
    reused = order(api, product, key="order-1", quantity=26)
    assert reused.status_code == 422 and reused["Content-Type"] == "application/problem+json"
    assert CodeBatch.objects.count() == 1


def test_without_a_key_each_post_orders_again(api, product):
    order(api, product)
    order(api, product)
    assert CodeBatch.objects.count() == 2


def test_keys_are_per_brand(api, outsider_api, product, other_brand):
    order(api, product, key="shared-key")
    theirs = order(outsider_api, ProductFactory(brand=other_brand), key="shared-key")
    assert theirs.status_code == 202 and CodeBatch.objects.count() == 2


def test_keys_are_forgotten_after_a_week_and_a_later_post_orders_anew(api, product):
    from datetime import timedelta

    from django.utils import timezone

    from api.tasks import forget_idempotency_keys_task

    order(api, product, key="order-old")
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(days=8))
    assert forget_idempotency_keys_task() == 1
    assert order(api, product, key="order-old").status_code == 202 and CodeBatch.objects.count() == 2


def test_a_refused_request_leaves_its_key_free_for_the_corrected_retry(api, product):
    assert order(api, product, key="order-2", quantity=0).status_code == 400
    assert not IdempotentRequest.objects.exists()
    assert order(api, product, key="order-2").status_code == 202


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_once_order_once_and_the_loser_replays(brand):
    """The race: both requests find no key row and INSERT one; the second INSERT waits on the first's uncommitted
    row (the unique index) and fails once the first commits, so the second answers with the first's answer."""
    product, api, answers = ProductFactory(brand=brand), key_client(brand), {}

    def send(name):
        try:
            answers[name] = order(api, product, key="k-race")
        finally:
            connections.close_all()

    with transaction.atomic():
        # Hold the brand row as another order would: the first request writes its key row, then waits in
        # order_batch (which locks the brand row); the second then waits on the first's key row.
        Brand.objects.select_for_update(no_key=True).get(pk=brand.pk)
        first, second = threading.Thread(target=send, args=("first",)), threading.Thread(target=send, args=("second",))
        first.start()
        wait_for(lambda: sessions_waiting_on_a_lock() == 1, timeout=30, interval=0.05)
        second.start()
        wait_for(lambda: sessions_waiting_on_a_lock() == 2, timeout=30, interval=0.05)
    first.join(30)
    second.join(30)
    assert answers["first"].status_code == answers["second"].status_code == 202
    assert answers["second"].json() == answers["first"].json() and answers["second"]["Idempotent-Replayed"] == "true"
    assert CodeBatch.objects.count() == 1


def sessions_waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees the activity it saw first
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


# --- print jobs -------------------------------------------------------------------------------------------


@pytest.fixture
def batch(product):
    return ready_batch(product, quantity=30)


def print_request(client, batch, fmt="csv", key=None, **fields):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    body = {"batch": batch.pk, "format": fmt, **fields}
    return client.post("/api/v1/print-jobs/", body, format="json", **headers)


def test_a_print_job_is_accepted_with_its_options_filled_in(api, batch, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        answer = print_request(api, batch, "qr-png", options={"error_level": "h"}, first_position=3, last_position=22)
    assert answer.status_code == 202, answer.content
    job = PrintJob.objects.get(pk=answer.json()["id"])
    assert job.options == {"error_level": "H", "module_size": 4} and (job.first_position, job.last_position) == (3, 22)
    assert len(queued) == job.files.count() >= 1  # a render task per part, after commit
    assert answer["Location"] == answer.json()["status_url"] and answer.json()["state"] == "queued"


@pytest.mark.parametrize(
    ("fmt", "options", "field"),
    [("pdf", {"columns": 99}, "columns"), ("csv", {"module_size": 3}, "module_size"), ("tiff", {}, "format")],
)
def test_print_options_the_format_does_not_take_are_refused_naming_them(api, batch, fmt, options, field):
    refused = print_request(api, batch, fmt, options=options)
    assert refused.status_code == 400 and field in field_errors(refused)
    assert not PrintJob.objects.exists()


def test_a_datamatrix_for_a_product_without_a_gtin_is_refused_with_the_reason(api, brand):
    batch = ready_batch(ref_product(brand), quantity=5)
    refused = print_request(api, batch, "datamatrix")
    assert refused.status_code == 400 and "GTIN" in field_errors(refused)["format"][0]


def test_a_batch_not_ready_cannot_print(api, product, lot):
    queued = order(api, product).json()["id"]
    refused = api.post("/api/v1/print-jobs/", {"batch": queued, "format": "csv"}, format="json")
    assert refused.status_code == 400 and "batch" in field_errors(refused)


def test_print_jobs_beyond_the_plans_are_refused_with_the_reason(api, brand, batch):
    from codes import printing

    brand.plan = "trial"  # three print jobs in progress at once
    brand.save(update_fields=["plan"])
    for _ in range(3):
        printing.create_print_job(batch=batch, fmt="csv", enqueue=False)
    refused = print_request(api, batch)
    assert refused.status_code == 400 and "3 print jobs in progress" in field_errors(refused)["format"][0]


def test_a_retried_print_request_with_its_key_prints_once(api, batch):
    first = print_request(api, batch, key="print-1")
    assert print_request(api, batch, key="print-1").json() == first.json()
    assert PrintJob.objects.count() == 1


def test_a_print_job_shows_its_progress_and_files(api, batch):
    job = ready_print_job(batch, "csv", part_size=10)
    shown = api.get(f"/api/v1/print-jobs/{job.pk}/").json()
    assert shown["state"] == PrintState.READY and shown["progress"]["percent"] == 100
    assert [f["part"] for f in shown["files"]] == [0, 1, 2, 3]
    assert shown["files"][1]["download_url"].endswith(f"/api/v1/print-jobs/{job.pk}/files/1/")
    assert [j["id"] for j in api.get(f"/api/v1/print-jobs/?batch={batch.pk}&state=ready").json()["results"]] == [job.pk]


def test_a_file_is_streamed_and_the_download_logged(brand, batch):
    maker = MembershipFactory(brand=brand, role=Role.VIEWER).user
    reader = key_client(brand, "read", created_by=maker)
    job = ready_print_job(batch, "csv", part_size=10)
    answer = reader.get(f"/api/v1/print-jobs/{job.pk}/files/1/")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    assert b"".join(answer.streaming_content).decode().count("\n") == 11  # header and 10 codes
    logged = PrintDownload.objects.get()
    assert (logged.job, logged.file.part, logged.user, logged.status) == (job, 1, maker, 200)


def test_a_file_resumes_with_a_range(api, batch):
    job = ready_print_job(batch, "csv", part_size=10)
    answer = api.get(f"/api/v1/print-jobs/{job.pk}/files/1/", HTTP_RANGE="bytes=10-19")
    assert answer.status_code == 206 and len(b"".join(answer.streaming_content)) == 10
    assert PrintDownload.objects.get().first_byte == 10


def test_a_file_on_s3_is_a_redirect_to_a_presigned_url(s3, api, batch):
    job = ready_print_job(batch, "csv", part_size=10)
    answer = api.get(f"/api/v1/print-jobs/{job.pk}/files/2/")
    assert answer.status_code == 302 and "X-Amz-Signature" in answer["Location"]
    assert PrintDownload.objects.get().status == 302


def test_pin_files_need_a_key_that_may_download_pins(brand, api, read_api, product):
    job = ready_print_job(ready_batch(product, quantity=5, with_pin=True), "csv")
    assert read_api.get(f"/api/v1/print-jobs/{job.pk}/files/1/").status_code == 403
    assert api.get(f"/api/v1/print-jobs/{job.pk}/files/1/").status_code == 200
    assert PrintDownload.objects.count() == 1


def test_a_part_that_does_not_exist_is_a_404(api, batch):
    job = ready_print_job(batch, "csv", part_size=10)
    assert api.get(f"/api/v1/print-jobs/{job.pk}/files/9/").status_code == 404


def test_print_jobs_are_the_key_brands_only(outsider_api, read_api, batch):
    job = ready_print_job(batch, "csv", part_size=10)
    assert outsider_api.get(f"/api/v1/print-jobs/{job.pk}/").status_code == 404
    assert outsider_api.get(f"/api/v1/print-jobs/{job.pk}/files/1/").status_code == 404
    assert outsider_api.get("/api/v1/print-jobs/").json()["results"] == []
    assert print_request(outsider_api, batch).status_code == 400  # another brand's batch is no batch
    assert read_api.get(f"/api/v1/print-jobs/{job.pk}/").status_code == 200
    assert print_request(read_api, batch).status_code == 403
    assert APIClient().get(f"/api/v1/print-jobs/{job.pk}/files/1/").status_code == 401
    assert PrintDownload.objects.count() == 0 and PrintJob.objects.count() == 1


def test_a_distributors_key_sees_no_catalogue(brand, batch):
    """The catalogue is the brand's back office: a distributor's key lives in the portal's world (404)."""
    from tests.factories import DistributorFactory

    portal = key_client(brand, "read,write", distributor=DistributorFactory(brand=brand))
    job = ready_print_job(batch, "csv", part_size=10)
    for url in (
        "/api/v1/products/",
        f"/api/v1/products/{batch.product_id}/",
        f"/api/v1/lots/{batch.lot_id}/",
        f"/api/v1/batches/{batch.pk}/",
        f"/api/v1/print-jobs/{job.pk}/files/1/",
    ):
        assert portal.get(url).status_code == 404, url
    assert print_request(portal, batch).status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/products/", "/api/v1/lots/", "/api/v1/batches/", "/api/v1/print-jobs/"])
def test_a_list_reads_as_many_rows_in_as_many_queries(api, brand, url):
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(url).status_code == 200
        return len(captured)

    ready_print_job(ready_batch(ProductFactory(brand=brand), quantity=3), "csv")
    queries()  # the key's first call of the minute also notes when it was last used
    one = queries()
    for _ in range(3):
        ready_print_job(ready_batch(ProductFactory(brand=brand), quantity=3), "csv")
    assert queries() == one


# --- a real worker ----------------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_batch_ordered_through_the_api_reaches_ready_with_a_real_worker(brand):
    product = ProductFactory(brand=brand)
    api = key_client(brand)
    env = env_for_test_database()
    purge_queue(env)
    worker = Worker().start()
    try:
        answer = order(api, product, quantity=2_000)
        assert answer.status_code == 202
        status_url = answer["Location"]
        shown = wait_for(lambda: (s := api.get(status_url).json())["state"] == BatchState.READY and s, timeout=120)
    finally:
        worker.stop()
    assert shown["progress"] == {**shown["progress"], "codes_done": 2_000, "percent": 100, "finished": True}
    assert CodeBatch.objects.get(pk=answer.json()["id"]).codes.count() == 2_000


@pytest.mark.parametrize("asked", ["null", "abc", "0", "-3", "1.5", ""])
def test_a_page_size_that_is_no_whole_number_from_1_is_a_400_naming_it(api, asked):
    refused = api.get("/api/v1/products/", {"page_size": asked})
    assert refused.status_code == 400 and refused["Content-Type"] == "application/problem+json"
    assert "page_size" in refused.json()["errors"]
