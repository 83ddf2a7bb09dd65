"""Code import (bring your own serials): a brand's file of serials checked line by line, the good ones registered
as a batch that verifies, prints, recalls and is assigned like a generated one, every refused line reported."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from brands.models import Brand
from codes import imports, recalls, services
from codes.models import BatchState, Code, CodeBatch, ImportState, Product, RefusedLine, SerialImport
from tests.factories import LotFactory, ProductFactory, activate, imported_batch, ready_batch, ready_print_job
from tests.scans.test_verify import qr_path, scan


def upload(text: str | bytes, name: str = "serials.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text)


def serials_of(batch) -> list[str]:
    return list(Code.objects.filter(batch=batch).order_by("ordinal").values_list("serial", flat=True))


def refusals(serial_import) -> dict[int, str]:
    return dict(RefusedLine.objects.filter(serial_import=serial_import).values_list("line", "reason"))


def test_a_million_serials_register_the_good_ones_and_report_every_bad_line(brand):
    product = ProductFactory(brand=brand)  # its generated serials: 12 Crockford characters; these have 13
    lines, good, bad = [], [], {}
    for number in range(1, 1_000_001):
        if number % 997 == 0:
            lines.append(f"S{number:010d}#X")  # "#" is not in GS1's character set 82
            bad[number] = "outside the GS1 character set 82"
        elif number % 1009 == 0:  # a repeat of a good line, in the same chunk of 50,000 lines or an earlier one
            first = number - (30_000 if number > 30_000 else 500)
            while first % 997 == 0 or first % 1009 == 0:
                first -= 1
            lines.append(f"S{first:012d}")
            same_chunk = (first - 1) // 50_000 == (number - 1) // 50_000
            bad[number] = f"Repeats line {first}." if same_chunk else "Appears earlier in the file."
        else:
            lines.append(f"S{number:012d}")
            good.append(lines[-1])
    serial_import = imports.start_import(
        brand=brand, product=product, lot_number="BYO1", upload=upload("\n".join(lines)), fmt="csv", enqueue=False
    )
    serial_import = imports.run_import(serial_import.pk, chunk_size=50_000)

    assert serial_import.state == ImportState.DONE
    assert (serial_import.codes_done, serial_import.lines_accepted) == (1_000_000, len(good))
    assert serial_import.lines_refused == len(bad)
    batch = serial_import.batch
    assert (batch.state, batch.quantity, batch.imported) == (BatchState.READY, len(good), True)
    assert serials_of(batch) == good  # in the file's order, one ordinal each, positions 1…n
    reasons = refusals(serial_import)
    assert reasons.keys() == bad.keys()
    assert all(expected in reasons[number] for number, expected in bad.items())
    assert {r for r in bad.values() if r.startswith("Repeats")} and "Appears earlier in the file." in bad.values()


def test_the_refused_lines_report_downloads_as_csv_with_line_numbers_and_reasons(brand, owner_client):
    product = ProductFactory(brand=brand)
    lines = ["serial", "LINE-A1", "", "x" * 21, "LINE-A1", "=HYPER LINK", "LINE-B2"]
    serial_import = imports.start_import(
        brand=brand, product=product, lot_number="R1", upload=upload("\n".join(lines)), fmt="csv", enqueue=False
    )
    imports.run_import(serial_import.pk)
    response = owner_client.get(f"/imports/{serial_import.pk}/refused.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0] == ["line", "serial", "reason"]
    assert [(r[0], r[1]) for r in rows[1:]] == [("3", ""), ("4", "x" * 21), ("5", "LINE-A1"), ("6", "'=HYPER LINK")]
    assert rows[1][2] == "Empty line." and "1 to 20 characters" in rows[2][2] and rows[3][2] == "Repeats line 2."
    assert "outside the GS1 character set 82" in rows[4][2]  # and the cell opens as text, never as a formula
    assert serials_of(SerialImport.objects.get(pk=serial_import.pk).batch) == ["LINE-A1", "LINE-B2"]


def test_a_json_list_is_read_item_by_item_and_non_strings_are_refused(brand):
    product = ProductFactory(brand=brand)
    serial_import = imported_batch(product, ["J-1", 'J"2', "J/3"], fmt="json")
    assert serials_of(serial_import.batch) == ["J-1", 'J"2', "J/3"]
    raw = imports.start_import(
        brand=brand,
        product=product,
        lot_number="J2",
        upload=upload('[ "J-4", 12, "J-5" ]', "s.json"),
        fmt="json",
        enqueue=False,
    )
    raw = imports.run_import(raw.pk)
    assert serials_of(raw.batch) == ["J-4", "J-5"] and refusals(raw) == {2: "Not a string: write serials in quotes."}


def test_serials_the_product_has_already_or_of_its_generated_form_are_refused(brand):
    product = ProductFactory(brand=brand)
    generated = ready_batch(product, quantity=3)
    taken = serials_of(generated)[0]
    serial_import = imported_batch(product, [taken, "NEW-0001", "ABCDEFGHJKMN"], lot_number="L2")
    assert serials_of(serial_import.batch) == ["NEW-0001"]
    reasons = refusals(serial_import)
    assert set(reasons) == {1, 3} and all("form of the serials Serialize generates" in r for r in reasons.values())
    again = imported_batch(product, ["NEW-0001", "NEW-0002"], lot_number="L3")
    assert serials_of(again.batch) == ["NEW-0002"] and refusals(again) == {1: "Already registered for this product."}


def test_repeats_and_registered_serials_anywhere_in_a_chunk_are_refused_and_the_rest_registered(brand, monkeypatch):
    # Chunks of 30 lines, each written piece by piece (10 lines) into one COPY: a repeat across pieces, a serial
    # registered before in the chunk's last piece (the COPY fails and the chunk is registered again without it)
    # and a repeat across chunks.
    monkeypatch.setattr(imports, "PIECE_LINES", 10)
    product = ProductFactory(brand=brand)
    imported_batch(product, ["TAKEN-1"], lot_number="T1")
    lines = [f"PC-{n:03d}" for n in range(1, 51)]
    lines[14], lines[24], lines[39] = "PC-003", "TAKEN-1", "PC-005"
    serial_import = imports.start_import(
        brand=brand, product=product, lot_number="PC", upload=upload("\n".join(lines)), fmt="csv", enqueue=False
    )
    done = imports.run_import(serial_import.pk, chunk_size=30)
    assert refusals(done) == {
        15: "Repeats line 3.",
        25: "Already registered for this product.",
        40: "Appears earlier in the file.",
    }
    assert serials_of(done.batch) == [s for n, s in enumerate(lines, 1) if n not in (15, 25, 40)]
    assert (done.lines_accepted, done.lines_refused, done.batch.quantity) == (47, 3, 47)


def test_imported_codes_verify_as_authentic_through_the_verify_url(brand):
    product = ProductFactory(brand=brand)
    batch = imported_batch(product, ["lower-case/1", "UPPER-2"]).batch
    activate(batch)
    for code in Code.objects.filter(batch=batch).select_related("product", "batch__lot"):
        response = scan(qr_path(code), RAW_URI=qr_path(code))  # as gunicorn passes it: "/" stays %2F
        assert "Authentic. First scan." in response.content.decode(), code.serial
    assert Code.objects.get(serial="lower-case/1").scan_count == 1
    fake = Code(product=product, batch=batch, serial="LOWER-CASE/1")  # GS1 serials are case-sensitive
    assert "Authentic" not in scan(qr_path(fake)).content.decode()


def test_generated_codes_of_a_product_with_imports_still_verify(brand):
    product = ProductFactory(brand=brand)
    imported_batch(product, ["BYO-1"])
    generated = ready_batch(product, quantity=2, activated=True)
    code = Code.objects.filter(batch=generated).select_related("product", "batch__lot").first()
    assert "Authentic. First scan." in scan(qr_path(code)).content.decode()


def test_imported_codes_print_to_csv_in_file_order(brand):
    product = ProductFactory(brand=brand)
    batch = imported_batch(product, ["P-3", "P-1", "P-2"]).batch
    job = ready_print_job(batch, "csv")
    from django.core.files.storage import default_storage

    part = job.files.get(part=1)
    with default_storage.open(part.name, "rb") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read().decode())))
    assert [(r["position"], r["serial"]) for r in rows] == [("1", "P-3"), ("2", "P-1"), ("3", "P-2")]
    assert rows[0]["verify_url"].endswith("/21/P-3")


def test_imported_codes_can_be_recalled_by_lot_and_verify_says_so(brand):
    product = ProductFactory(brand=brand)
    serial_import = imported_batch(product, ["R-1", "R-2", "R-3"], lot_number="RECALL1")
    activate(serial_import.batch)
    change = recalls.recall(brand=brand, lot=serial_import.lot, reason="Glass", enqueue=False)
    change = recalls.apply_change(change.pk)
    assert change.codes_changed == 3
    assert set(Code.objects.filter(batch=serial_import.batch).values_list("status", flat=True)) == {"recalled"}
    code = Code.objects.select_related("product", "batch__lot").get(serial="R-2")
    assert "recall" in scan(qr_path(code)).content.decode().lower()


def test_lines_beyond_the_plans_quota_are_refused_and_none_left_refuses_the_upload(brand):
    Brand.objects.filter(pk=brand.pk).update(plan="trial")  # 100,000 codes a month
    brand.refresh_from_db()
    product = ProductFactory(brand=brand)
    # 99,998 codes ordered this month (rows alone: the quota counts what batches hold, not their codes).
    lot = LotFactory(product=product)
    CodeBatch.objects.create(product=product, lot=lot, quantity=99_998, first_ordinal=0, state=BatchState.READY)
    Product.objects.filter(pk=product.pk).update(next_ordinal=99_998)
    serial_import = imported_batch(product, ["Q-1", "Q-2", "Q-3", "Q-4"])
    assert serials_of(serial_import.batch) == ["Q-1", "Q-2"]
    assert set(refusals(serial_import)) == {3, 4} and "your plan" in refusals(serial_import)[3]
    with pytest.raises(imports.SerialImportError) as refused:
        imports.start_import(brand=brand, product=product, lot_number="Q2", upload=upload("Q-5\n"), fmt="csv")
    assert refused.value.field == "upload" and "100,000 codes a month" in refused.value.message


def test_a_rerun_after_a_lost_chunk_registers_each_good_line_once(brand):
    product = ProductFactory(brand=brand)
    lines = [f"RR-{n:05d}" for n in range(1, 1001)] + ["RR-00001"]
    serial_import = imports.start_import(
        brand=brand, product=product, lot_number="RR", upload=upload("\n".join(lines)), fmt="csv", enqueue=False
    )
    imports.run_import(serial_import.pk, chunk_size=300)
    # As if its worker died after its first chunks: the import is put back as running, part-way, and run again.
    SerialImport.objects.filter(pk=serial_import.pk).update(state=ImportState.QUEUED)
    done = imports.run_import(serial_import.pk, chunk_size=300)
    assert (done.lines_accepted, done.lines_refused) == (1000, 1)
    assert serials_of(done.batch) == lines[:1000]


def test_a_file_that_is_not_a_json_list_fails_with_a_reason(brand):
    product = ProductFactory(brand=brand)
    serial_import = imports.start_import(
        brand=brand, product=product, lot_number="BAD", upload=upload('{"a": 1}', "s.json"), fmt="json", enqueue=False
    )
    serial_import = imports.run_import(serial_import.pk)
    assert serial_import.state == ImportState.FAILED and "JSON list" in serial_import.error


def test_start_import_refuses_a_withdrawn_lot_and_an_empty_file(brand):
    product = ProductFactory(brand=brand)
    with pytest.raises(imports.SerialImportError) as empty:
        imports.start_import(brand=brand, product=product, lot_number="E1", upload=upload(""), fmt="csv")
    assert empty.value.field == "upload"
    with pytest.raises(services.OrderError) as bad_lot:
        imports.start_import(brand=brand, product=product, lot_number="bad lot #", upload=upload("A-1"), fmt="csv")
    assert bad_lot.value.field == "lot"
    assert not SerialImport.objects.exists()


def test_an_import_that_registers_nothing_leaves_no_batch(brand):
    product = ProductFactory(brand=brand)
    serial_import = imported_batch(product, ["bad serial with spaces"])
    assert serial_import.state == ImportState.DONE and serial_import.batch is None
    assert not CodeBatch.objects.filter(product=product).exists()


# --- Pages -----------------------------------------------------------------------------------------------


def test_import_page_works_for_an_operator_and_the_import_runs(brand, owner_client, django_capture_on_commit_callbacks):
    product = ProductFactory(brand=brand)
    assert owner_client.get(f"/products/{product.pk}/imports/new/").status_code == 200
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_client.post(
            f"/products/{product.pk}/imports/new/",
            {"lot_number": "WEB1", "format": "csv", "file": upload("W-1\nW-2\nW 3\n")},
        )
    serial_import = SerialImport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{serial_import.pk}/"
    assert len(callbacks) == 1  # the task, sent once the upload is committed
    imports.run_import(serial_import.pk)  # what the worker does
    page = owner_client.get(f"/imports/{serial_import.pk}/").content.decode()
    assert "W 3" in page and "outside the GS1 character set 82" in page
    progress = owner_client.get(f"/imports/{serial_import.pk}/progress/").json()
    assert (progress["state"], progress["lines_accepted"], progress["lines_refused"]) == ("done", 2, 1)


def test_import_page_shows_a_refused_lot_beside_its_field(brand, owner_client):
    product = ProductFactory(brand=brand)
    response = owner_client.post(
        f"/products/{product.pk}/imports/new/", {"lot_number": "bad lot #", "format": "csv", "file": upload("W-1\n")}
    )
    assert response.status_code == 200 and response.context["form"].errors["lot_number"]
    assert not SerialImport.objects.exists()


def test_import_pages_check_ownership(brand, outsider_client):
    serial_import = imported_batch(ProductFactory(brand=brand), ["O-1"])
    for url in ("", "progress/", "refused.csv"):
        assert outsider_client.get(f"/imports/{serial_import.pk}/{url}").status_code == 404
    assert outsider_client.get(f"/products/{serial_import.product_id}/imports/new/").status_code == 404


def test_import_requires_the_order_permission(brand, viewer_client):
    product = ProductFactory(brand=brand)
    response = viewer_client.post(
        f"/products/{product.pk}/imports/new/", {"lot_number": "V1", "format": "csv", "file": upload("V-1\n")}
    )
    assert response.status_code == 403 and not SerialImport.objects.exists()


def test_imported_codes_can_be_recalled_by_listed_serials_as_registered(brand):
    product = ProductFactory(brand=brand)
    batch = imported_batch(product, ["abc-lower", "ABC-LOWER", "other-1"]).batch
    change = recalls.recall(brand=brand, product=product, serials=["abc-lower"], reason="Seal", enqueue=False)
    recalls.apply_change(change.pk)
    statuses = dict(Code.objects.filter(batch=batch).values_list("serial", "status"))
    assert statuses == {"abc-lower": "recalled", "ABC-LOWER": "not_activated", "other-1": "not_activated"}


def test_the_serials_limit_counts_what_was_listed_not_the_spellings_looked_for(brand, monkeypatch):
    """Imported serials are looked for as registered and in the generated form's spelling: a list at the limit
    is still taken, and one over it refused."""
    product = ProductFactory(brand=brand)
    batch = imported_batch(product, ["abc-1", "abc-2", "abc-3", "abc-4"]).batch
    monkeypatch.setattr(recalls, "MAX_SERIALS", 3)
    change = recalls.recall(
        brand=brand, product=product, serials=["abc-1", "abc-2", "abc-3"], reason="Seal", enqueue=False
    )
    recalls.apply_change(change.pk)
    statuses = dict(Code.objects.filter(batch=batch).values_list("serial", "status"))
    assert statuses == {"abc-1": "recalled", "abc-2": "recalled", "abc-3": "recalled", "abc-4": "not_activated"}
    with pytest.raises(recalls.ChangeError, match="at most 3 serials"):
        recalls.recall(
            brand=brand, product=product, serials=["abc-1", "abc-2", "abc-3", "abc-4"], reason="Seal", enqueue=False
        )


def test_the_sweep_resumes_an_import_whose_worker_is_gone_and_never_generates_into_its_batch(brand, eager_tasks):
    from datetime import timedelta

    from django.utils import timezone

    from codes.tasks import resend_stalled_work_task

    product = ProductFactory(brand=brand)
    serial_import = imports.start_import(
        brand=brand, product=product, lot_number="SW1", upload=upload("SW-1\nSW-2\nSW-3\n"), fmt="csv", enqueue=False
    )
    imports.run_import(serial_import.pk, chunk_size=1)
    # As a worker that died mid-import leaves it: running, its lease out, its batch "generating".
    long_ago = timezone.now() - timedelta(hours=1)
    SerialImport.objects.filter(pk=serial_import.pk).update(
        state=ImportState.RUNNING, offset=5, codes_done=1, lines_accepted=1, heartbeat_at=long_ago
    )
    Code.objects.filter(batch=serial_import.batch).exclude(serial="SW-1").delete()
    CodeBatch.objects.filter(pk=serial_import.batch_id).update(state=BatchState.GENERATING, heartbeat_at=long_ago)
    assert resend_stalled_work_task() == 1  # the import, not its batch
    done = SerialImport.objects.get(pk=serial_import.pk)
    assert done.state == ImportState.DONE and serials_of(done.batch) == ["SW-1", "SW-2", "SW-3"]


def test_an_imported_batch_page_links_to_its_import(brand, owner_client):
    serial_import = imported_batch(ProductFactory(brand=brand), ["LINK-1"])
    page = owner_client.get(f"/batches/{serial_import.batch_id}/").content.decode()
    assert f'href="/imports/{serial_import.pk}/"' in page


def test_imported_codes_assigned_to_a_distributor_are_scanned_as_theirs(brand):
    from distributors import services as distributor_services
    from scans.models import Scan
    from tests.factories import DistributorFactory

    batch = imported_batch(ProductFactory(brand=brand), ["D-1", "D-2", "D-3"]).batch
    activate(batch)
    distributor = DistributorFactory(brand=brand)
    distributor_services.assign_range(batch=batch, distributor=distributor, first_position=2, last_position=3)
    for serial in ("D-1", "D-3"):
        scan(qr_path(Code.objects.select_related("product", "batch__lot").get(serial=serial)))
    held = dict(Scan.objects.filter(brand=brand).values_list("serial", "distributor_id"))
    assert held == {"D-1": None, "D-3": distributor.pk}


def test_a_csv_with_windows_line_breaks_and_a_title_reads_the_same(brand):
    product = ProductFactory(brand=brand)
    serial_import = imports.start_import(
        brand=brand,
        product=product,
        lot_number="CRLF",
        upload=upload("Serial\r\nW-1\r\nW-2\r\n"),
        fmt="csv",
        enqueue=False,
    )
    serial_import = imports.run_import(serial_import.pk)
    assert serials_of(serial_import.batch) == ["W-1", "W-2"] and serial_import.lines_refused == 0


def test_the_import_page_takes_files_larger_than_other_requests_may_be(brand, owner_client, settings):
    settings.MAX_REQUEST_BYTES, settings.IMPORT_MAX_BYTES = 2_000, 100_000
    product = ProductFactory(brand=brand)
    big = "".join(f"BIG-{n:06d}\n" for n in range(1_000))  # 11,000 bytes
    response = owner_client.post(
        f"/products/{product.pk}/imports/new/", {"lot_number": "BIG", "format": "csv", "file": upload(big)}
    )
    assert response.status_code == 302 and SerialImport.objects.get().size == 11_000
    elsewhere = owner_client.post(f"/products/{product.pk}/batches/new/", {"lot_number": "X" * 11_000})
    assert elsewhere.status_code == 413
