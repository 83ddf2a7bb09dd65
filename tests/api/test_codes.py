"""Codes and recalls through the API: list, look up, change a unit's state, bulk changes and jobs, recalls."""

import pytest
from rest_framework.test import APIClient

from codes.models import ChangeState, Code, StatusChange
from tests.factories import LotFactory, ProductFactory, applied_recall, ready_batch, ref_code_path, ref_product
from tests.scans.test_verify import qr_path, scan

from .conftest import key_client

pytestmark = pytest.mark.django_db


def units(batch):
    return list(Code.objects.select_related("batch__lot", "product").filter(batch=batch).order_by("ordinal"))


def statuses(batch):
    return [c.status for c in units(batch)]


@pytest.fixture
def batch(brand):
    return ready_batch(ProductFactory(brand=brand), quantity=12, activated=True)


@pytest.fixture
def other_batch(other_brand):
    return ready_batch(ProductFactory(brand=other_brand), quantity=3, activated=True)


# --- list, retrieve -----------------------------------------------------------------------------------------


def test_codes_list_by_batch_in_print_order_a_page_at_a_time(api, batch):
    ready_batch(batch.product, quantity=4, activated=True)  # the same product's next batch: not in the list
    first = api.get("/api/v1/codes/", {"batch": batch.pk, "page_size": 5}).json()
    assert [c["position"] for c in first["results"]] == [1, 2, 3, 4, 5]
    rest = api.get(first["next"]).json()
    last = api.get(rest["next"]).json()
    assert [c["position"] for c in rest["results"] + last["results"]] == list(range(6, 13)) and last["next"] is None
    assert {c["batch"] for c in first["results"] + rest["results"] + last["results"]} == {batch.pk}
    assert "count" not in first  # never a COUNT over the code table


def test_a_codes_page_costs_the_same_queries_whatever_its_length(api, batch, django_assert_max_num_queries):
    api.get("/api/v1/codes/", {"batch": batch.pk, "page_size": 1})  # the key's last use is written once
    with django_assert_max_num_queries(3):  # the key, the batch, one page of codes with product, batch and lot
        assert len(api.get("/api/v1/codes/", {"batch": batch.pk, "page_size": 12}).json()["results"]) == 12


def test_codes_list_filters_by_status(api, batch):
    applied_recall(batch, first=3, last=4)
    listed = api.get("/api/v1/codes/", {"batch": batch.pk, "status": "recalled"}).json()["results"]
    assert [(c["position"], c["status"]) for c in listed] == [(3, "recalled"), (4, "recalled")]


def test_codes_list_needs_a_batch_of_ones_own(api, batch, other_batch):
    missing = api.get("/api/v1/codes/")
    assert missing.status_code == 400 and "Give `batch`" in missing.json()["errors"]["batch"][0]
    for asked in (other_batch.pk, "abc", "null"):
        refused = api.get("/api/v1/codes/", {"batch": asked})
        assert refused.status_code == 400 and "No batch of yours" in refused.json()["errors"]["batch"][0]


def test_a_code_shows_state_batch_lot_expiry_position_and_scans(api, batch):
    code = units(batch)[2]
    scan(qr_path(code))
    shown = api.get(f"/api/v1/codes/{code.pk}/").json()
    assert shown["serial"] == code.serial and shown["gtin"] == batch.product.gtin
    assert (shown["batch"], shown["batch_number"], shown["lot"]) == (batch.pk, batch.number, batch.lot.number)
    assert shown["expiry"] == batch.lot.expires_on.isoformat() and shown["position"] == 3
    assert shown["status"] == shown["effective_status"] == "active"
    assert shown["scans"]["count"] == 1 and shown["scans"]["first_scanned_in"]


def test_another_brands_code_is_a_404_and_no_key_a_401(api, other_batch):
    code = units(other_batch)[0]
    assert api.get(f"/api/v1/codes/{code.pk}/").status_code == 404
    assert (
        api.post(f"/api/v1/codes/{code.pk}/status/", {"status": "stolen", "reason": "x"}, format="json").status_code
        == 404
    )
    assert APIClient().get(f"/api/v1/codes/{code.pk}/").status_code == 401
    assert APIClient().get("/api/v1/codes/lookup/", {"serial": code.serial}).status_code == 401


# --- lookup ---------------------------------------------------------------------------------------------------


def test_lookup_by_serial_and_gtin_or_product(api, batch):
    code = units(batch)[4]
    by_gtin = api.get("/api/v1/codes/lookup/", {"serial": code.serial.lower(), "gtin": batch.product.gtin})
    assert by_gtin.status_code == 200 and by_gtin.json()["id"] == code.pk  # the product's spelling rules apply
    by_product = api.get("/api/v1/codes/lookup/", {"serial": code.serial, "product": batch.product_id})
    assert by_product.json()["id"] == code.pk
    assert api.get("/api/v1/codes/lookup/", {"serial": code.serial}).status_code == 400  # which product?


def test_lookup_by_batch_and_position(api, batch):
    found = api.get("/api/v1/codes/lookup/", {"batch": batch.pk, "position": 7})
    assert found.json()["id"] == units(batch)[6].pk and found.json()["position"] == 7
    refused = api.get("/api/v1/codes/lookup/", {"batch": batch.pk, "position": 13})
    assert refused.status_code == 400 and "position" in refused.json()["errors"]


def test_lookup_by_a_whole_digital_link_under_any_prefix(api, batch):
    code = units(batch)[1]
    for url in (f"https://verify.example.com{qr_path(code)}", f"https://example.org/v{qr_path(code)}"):
        assert api.get("/api/v1/codes/lookup/", {"url": url}).json()["id"] == code.pk


def test_lookup_by_a_product_ref_url(brand, api):
    from tests.factories import registration_claim

    registration_claim(brand, approved=True)
    code = units(ready_batch(ref_product(brand), quantity=3, activated=True))[0]
    found = api.get("/api/v1/codes/lookup/", {"url": "https://verify.example.com" + ref_code_path(code)})
    assert found.status_code == 200 and found.json()["id"] == code.pk and found.json()["gtin"] is None


def test_lookup_of_an_altered_label_another_brands_code_or_a_non_url_finds_nothing(api, batch, other_batch):
    code = units(batch)[0]
    altered = qr_path(code).replace(f"/10/{batch.lot.number}/", "/10/FAKE1/")
    assert api.get("/api/v1/codes/lookup/", {"url": "https://verify.example.com" + altered}).status_code == 404
    theirs = units(other_batch)[0]
    assert api.get("/api/v1/codes/lookup/", {"url": "https://x.example" + qr_path(theirs)}).status_code == 404
    assert api.get("/api/v1/codes/lookup/", {"batch": other_batch.pk, "position": 1}).status_code == 404
    assert api.get("/api/v1/codes/lookup/", {"url": "https://example.org/about"}).status_code == 400


# --- one unit's status ------------------------------------------------------------------------------------------


def test_a_units_state_changes_with_an_audit_row(api, batch):
    code = units(batch)[0]
    changed = api.post(
        f"/api/v1/codes/{code.pk}/status/", {"status": "destroyed", "reason": "Crushed in transit"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["code"]["status"] == "destroyed"
    change = StatusChange.objects.get(pk=changed.json()["change_id"])
    assert (change.reason, change.codes_changed, change.created_by) == ("Crushed in transit", 1, api.key.created_by)


def test_a_final_state_stays_and_the_409_says_why(api, batch):
    code = units(batch)[0]
    api.post(f"/api/v1/codes/{code.pk}/status/", {"status": "stolen", "reason": "Truck"}, format="json")
    refused = api.post(f"/api/v1/codes/{code.pk}/status/", {"status": "sample", "reason": "Oops"}, format="json")
    assert refused.status_code == 409 and "stolen: that state is final" in refused.json()["detail"]
    assert Code.objects.get(pk=code.pk).status == "stolen"


def test_back_to_active_is_refused_naming_the_field(api, batch):
    code = units(batch)[0]
    refused = api.post(f"/api/v1/codes/{code.pk}/status/", {"status": "active", "reason": "Found it"}, format="json")
    assert refused.status_code == 400 and "to_status" in refused.json()["errors"]


def test_a_read_key_cannot_change_a_state(read_api, batch):
    code = units(batch)[0]
    assert read_api.get(f"/api/v1/codes/{code.pk}/").status_code == 200
    assert (
        read_api.post(
            f"/api/v1/codes/{code.pk}/status/", {"status": "stolen", "reason": "x"}, format="json"
        ).status_code
        == 403
    )
    assert read_api.post("/api/v1/codes/bulk-status/", {}, format="json").status_code == 403
    assert Code.objects.get(pk=code.pk).status == "active"


# --- bulk -------------------------------------------------------------------------------------------------------


def test_a_bulk_change_of_1000_serials_is_applied_at_once_with_each_ones_outcome(brand, api):
    big = ready_batch(ProductFactory(brand=brand), quantity=1_000, activated=True)
    codes = units(big)
    api.post(f"/api/v1/codes/{codes[0].pk}/status/", {"status": "destroyed", "reason": "Crushed"}, format="json")
    serials = [c.serial for c in codes[:999]] + ["NOSUCHSERIAL"]
    body = {"status": "sample", "reason": "Trade fair", "gtin": big.product.gtin, "serials": serials}
    answer = api.post("/api/v1/codes/bulk-status/", body, format="json")
    assert answer.status_code == 200, answer.json()
    results = answer.json()["results"]
    assert answer.json()["changed"] == 998 and len(results) == 1_000
    assert results[0]["outcome"] == "unchanged" and "destroyed: that state is final" in results[0]["detail"]
    assert {r["outcome"] for r in results[1:999]} == {"changed"} and results[1]["status"] == "sample"
    assert results[-1] == {
        "serial": "NOSUCHSERIAL",
        "code_id": None,
        "status": None,
        "outcome": "not_found",
        "detail": "No such code.",
    }
    assert statuses(big).count("sample") == 998


def test_a_bulk_change_by_code_ids_across_products_and_never_another_brands(api, batch, other_batch, brand):
    second = ready_batch(ProductFactory(brand=brand), quantity=2, activated=True)
    ids = [units(batch)[0].pk, units(second)[1].pk, units(other_batch)[0].pk]
    answer = api.post(
        "/api/v1/codes/bulk-status/", {"status": "exported", "reason": "Shipped", "codes": ids}, format="json"
    )
    assert [r["outcome"] for r in answer.json()["results"]] == ["changed", "changed", "not_found"]
    assert len(answer.json()["changes"]) == 2 and units(other_batch)[0].status == "active"


def test_more_than_1000_serials_become_a_job_that_completes(
    brand, api, eager_tasks, django_capture_on_commit_callbacks
):
    big = ready_batch(ProductFactory(brand=brand), quantity=1_500, activated=True)
    body = {"status": "withdrawn", "reason": "Market exit", "product": big.product_id}
    body["serials"] = [c.serial for c in units(big)[:1_200]]
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post("/api/v1/codes/bulk-status/", body, format="json")
    assert answer.status_code == 202 and answer["Location"] == answer.json()["status_url"]
    progress = api.get(answer.json()["status_url"]).json()
    assert (progress["state"], progress["codes_done"], progress["quantity"], progress["codes_changed"]) == (
        ChangeState.DONE,
        1_200,
        1_200,
        1_200,
    )
    assert statuses(big).count("withdrawn") == 1_200


def test_bulk_refuses_codes_and_serials_together_or_serials_without_product(api, batch):
    code = units(batch)[0]
    both = {"status": "sample", "reason": "x", "codes": [code.pk], "serials": [code.serial]}
    assert api.post("/api/v1/codes/bulk-status/", both, format="json").status_code == 400
    bare = {"status": "sample", "reason": "x", "serials": [code.serial]}
    assert "gtin" in api.post("/api/v1/codes/bulk-status/", bare, format="json").json()["errors"]


def test_a_body_over_the_servers_limit_is_a_413_problem_not_a_500(api, batch, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    body = {"status": "sample", "reason": "x", "gtin": batch.product.gtin, "serials": ["A" * 12] * 200}
    answer = api.post("/api/v1/codes/bulk-status/", body, format="json")
    assert answer.status_code == 413 and answer["Content-Type"] == "application/problem+json"
    assert "send less in one request" in answer.json()["detail"]  # api.problems, the one place for a 413


def test_serials_must_be_a_list_of_short_strings(api, batch):
    for serials in (["A" * 41], [12345], "ABC"):
        body = {"status": "sample", "reason": "x", "gtin": batch.product.gtin, "serials": serials}
        answer = api.post("/api/v1/codes/bulk-status/", body, format="json")
        assert answer.status_code == 400 and "serials" in answer.json()["errors"]


@pytest.mark.parametrize("serial", ["R\x00", "A" * 21, "ÄBC"])
def test_a_serial_no_label_can_hold_is_refused_naming_it(api, batch, serial):
    for path, body in (
        ("/api/v1/codes/bulk-status/", {"status": "sample", "reason": "x"}),
        ("/api/v1/recalls/", {"reason": "x"}),
    ):
        answer = api.post(path, {**body, "gtin": batch.product.gtin, "serials": ["ABC", serial]}, format="json")
        assert answer.status_code == 400 and "serials" in answer.json()["errors"], answer.json()
    assert not StatusChange.objects.filter(scope="serials").exists()


def test_bulk_status_needs_the_status_change_permission(brand, batch):
    writer = key_client(brand, "read,write")  # an operator's: one unit at a time, as on the dashboard
    code = units(batch)[0]
    assert (
        writer.post(f"/api/v1/codes/{code.pk}/status/", {"status": "sample", "reason": "x"}, format="json").status_code
        == 200
    )
    body = {"status": "sample", "reason": "x", "codes": [code.pk]}
    assert writer.post("/api/v1/codes/bulk-status/", body, format="json").status_code == 403


# --- recalls ----------------------------------------------------------------------------------------------------


def test_a_recall_of_a_lot_is_queued_then_shows_its_progress(
    brand, api, eager_tasks, django_capture_on_commit_callbacks
):
    product = ProductFactory(brand=brand)
    lot = LotFactory(product=product)
    first, second = (ready_batch(product, lot=lot, quantity=4, activated=True) for _ in range(2))
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/v1/recalls/",
            {"lot": lot.pk, "reason": "Contamination", "consumer_message": "Return it to the shop"},
            format="json",
        )
    assert created.status_code == 202 and created.json()["quantity"] == 8 and created.json()["scope"] == "lot"
    shown = api.get(created.json()["status_url"]).json()
    assert (shown["state"], shown["codes_done"], shown["percent"], shown["finished"]) == ("done", 8, 100, True)
    assert set(statuses(first) + statuses(second)) == {"recalled"}
    listed = api.get("/api/v1/recalls/", {"to_status": "recalled"}).json()["results"]
    assert [r["id"] for r in listed] == [shown["id"]]
    everything = api.get("/api/v1/recalls/").json()["results"]  # activations are status changes too
    assert {r["to_status"] for r in everything} == {"recalled", "active"}


@pytest.mark.parametrize(
    "scope",
    [
        lambda b: {"batch": b.pk, "first_position": 2, "last_position": 3},
        lambda b: {"gtin": b.product.gtin, "serials": [c.serial for c in units(b)[1:3]]},
        lambda b: {"product": b.product_id, "lot_number": b.lot.number},
    ],
    ids=["batch-range", "serials", "lot-number"],
)
def test_a_recall_by_each_scope(api, batch, scope):
    created = api.post("/api/v1/recalls/", {"reason": "Mislabelled", **scope(batch)}, format="json")
    assert created.status_code == 202 and created.json()["to_status"] == "recalled"


def test_a_recall_refuses_as_the_dashboard_does(api, batch, other_batch):
    def refused(body):
        answer = api.post("/api/v1/recalls/", {"reason": "Bad", **body}, format="json")
        assert answer.status_code == 400, answer.json()
        return answer.json()["errors"]

    assert "first_position" in refused({"batch": batch.pk, "first_position": 5, "last_position": 13})
    assert "lot" in refused({"lot": other_batch.lot_id})  # another brand's: no such lot
    assert "lot_number" in refused({"gtin": batch.product.gtin, "lot_number": "NOPE"})
    assert "scope" in refused({})
    assert "consumer_messages" in refused({"batch": batch.pk, "consumer_messages": {"xx": "Hello"}})
    assert not StatusChange.objects.filter(to_status="recalled").exists()


def test_recalls_need_the_recall_permission_and_are_the_brands_own(brand, read_api, outsider_api, batch):
    change = applied_recall(batch, first=1, last=2)
    assert read_api.get(f"/api/v1/recalls/{change.pk}/").status_code == 200
    assert read_api.post("/api/v1/recalls/", {"batch": batch.pk, "reason": "x"}, format="json").status_code == 403
    assert key_client(brand, "read,write").post("/api/v1/recalls/", {}, format="json").status_code == 403
    assert outsider_api.get(f"/api/v1/recalls/{change.pk}/").status_code == 404
    assert outsider_api.get(f"/api/v1/recalls/{change.pk}/report/").status_code == 404
    assert outsider_api.get("/api/v1/recalls/").json()["results"] == []
    assert APIClient().get("/api/v1/recalls/").status_code == 401


def test_recall_filters_answer_alike_for_another_brands_ids_and_none(api, batch, other_batch):
    applied_recall(other_batch)
    mine = applied_recall(batch, first=1, last=1)
    assert [
        r["id"] for r in api.get("/api/v1/recalls/", {"batch": batch.pk, "to_status": "recalled"}).json()["results"]
    ] == [mine.pk]
    for filters in ({"batch": other_batch.pk}, {"batch": 10**9}, {"product": other_batch.product_id}):
        answer = api.get("/api/v1/recalls/", filters)
        assert answer.status_code == 200 and answer.json()["results"] == []


def test_a_recall_report_counts_by_state_and_the_scans_after_it(brand, api):
    product = ProductFactory(brand=brand, gtin="09506000134352")
    batch = ready_batch(product, quantity=5, activated=True)
    codes = units(batch)
    scan(qr_path(codes[1]))  # before the recall
    change = applied_recall(batch, first=2, last=3)
    scan(qr_path(codes[1]), ip="171.64.0.1")
    scan(qr_path(codes[4]))  # not recalled
    report = api.get(f"/api/v1/recalls/{change.pk}/report/").json()
    assert (report["codes_changed"], report["from_counts"]) == (2, {"active": 2})
    assert (report["scans_after"], report["units_scanned_after"]) == (1, 1)
    assert report["countries"] == [{"country_code": "US", "scans": 1}]
    assert [s["serial"] for s in report["latest"]] == [codes[1].serial]
