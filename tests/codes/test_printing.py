"""Print files: what the packaging line and its scanners get out of a print job or `export_batch`."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import date

import numpy as np
import pytest
import zxingcpp
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from PIL import Image

from codes import gs1, printing, tasks
from codes.models import Code, PrintFile, PrintFileState, PrintJob, PrintState
from codes.printing import jobs, rendering
from codes.serials import scratch_pin
from tests.codes.test_labels import rasterise
from tests.codes.test_symbols import _svg_to_matrix
from tests.factories import LotFactory, ProductFactory, ready_batch, ready_print_job


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def batch(db):
    product = ProductFactory(name="Vitamin C 500")
    return ready_batch(product, quantity=40, lot=LotFactory(product=product, number="L2026A"))


def codes_by_position(batch) -> dict[int, str]:
    rows = Code.objects.filter(batch=batch).values_list("ordinal", "serial")
    return {ordinal - batch.first_ordinal + 1: serial for ordinal, serial in rows}


def url_of(batch, serial):
    lot = batch.lot
    return gs1.digital_link_url(
        settings.VERIFY_BASE_URL, gtin=batch.product.gtin, lot=lot.number, expiry=lot.expires_on, serial=serial
    )


def element_string_of(batch, serial):
    lot = batch.lot
    return gs1.element_string(gtin=batch.product.gtin, lot=lot.number, expiry=lot.expires_on, serial=serial)


def part_bytes(job, part=1) -> bytes:
    with default_storage.open(job.files.get(part=part).name, "rb") as f:
        return f.read()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def read(image, fmt, **kw):
    return zxingcpp.read_barcodes(image, formats=fmt, **kw)


# --- CSV ------------------------------------------------------------------------------------------------


def test_csv_row_per_code_with_position_serial_digital_link_and_gs1_text(batch):
    job = ready_print_job(batch, "csv")
    rows = list(csv.reader(io.StringIO(part_bytes(job).decode("utf-8"))))
    assert rows[0] == ["position", "serial", "verify_url", "gs1_element_string", "gs1_human_readable"]
    serials = codes_by_position(batch)
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 41))
    for position, serial, url, element, hri in rows[1:]:
        assert serial == serials[int(position)]
        assert url == url_of(batch, serial)
        assert url.endswith(f"/10/L2026A/21/{serial}?17=301231")
        assert element == f"01{batch.product.gtin}17301231" + "10L2026A\x1d21" + serial
        assert gs1.parse_element_string(element).serial == serial
        assert hri == f"(01) {batch.product.gtin} (17) 301231 (10) L2026A (21) {serial}"


def test_csv_has_the_scratch_pins_when_the_batch_has_pins(db):
    batch = ready_batch(quantity=10, with_pin=True)
    rows = list(csv.DictReader(io.StringIO(part_bytes(ready_print_job(batch, "csv")).decode())))
    key = batch.product.key.secret()
    assert [r["pin"] for r in rows] == [scratch_pin(key, batch.product.gtin, r["serial"]) for r in rows]


def test_csv_of_a_range_holds_only_those_positions(batch):
    job = ready_print_job(batch, "csv", first=11, last=15)
    rows = list(csv.DictReader(io.StringIO(part_bytes(job).decode())))
    serials = codes_by_position(batch)
    assert [(int(r["position"]), r["serial"]) for r in rows] == [(p, serials[p]) for p in range(11, 16)]


# --- QR and DataMatrix round trips ---------------------------------------------------------------------


def test_every_qr_png_decodes_to_its_codes_url(batch):
    job = ready_print_job(batch, "qr-png", options={"error_level": "Q", "module_size": 3})
    files = members(part_bytes(job))
    serials = codes_by_position(batch)
    assert sorted(files) == [f"{p:02d}-{serials[p]}.png" for p in range(1, 41)]
    for name, png in files.items():
        (code,) = read(Image.open(io.BytesIO(png)), zxingcpp.BarcodeFormat.QRCode)
        assert code.text == url_of(batch, serials[int(name[:2])])
        assert code.ec_level in ("Q", "H")  # Q asked; segno may boost it when the version has room


def test_every_qr_svg_decodes_to_its_codes_url(batch):
    job = ready_print_job(batch, "qr-svg", first=5, last=12)
    serials = codes_by_position(batch)
    files = members(part_bytes(job))
    assert sorted(files) == [f"{p:02d}-{serials[p]}.svg" for p in range(5, 13)]
    for name, svg in files.items():
        pixels = (~_svg_to_matrix(svg)).astype(np.uint8).repeat(4, 0).repeat(4, 1) * 255
        (code,) = read(Image.fromarray(pixels), zxingcpp.BarcodeFormat.QRCode)
        assert code.text == url_of(batch, serials[int(name[:2])])


def test_every_datamatrix_reads_as_gs1_and_parses_back_to_the_codes_identifiers(batch):
    job = ready_print_job(batch, "datamatrix", options={"module_size": 5})
    serials = codes_by_position(batch)
    for name, png in members(part_bytes(job)).items():
        serial = serials[int(name[:2])]
        image = Image.open(io.BytesIO(png))
        (code,) = read(image, zxingcpp.BarcodeFormat.DataMatrix, text_mode=zxingcpp.TextMode.Plain)
        assert code.symbology_identifier == "]d2"
        assert code.text == element_string_of(batch, serial)
        parsed = gs1.parse_element_string(code.text)
        assert parsed == gs1.DigitalLink(
            gtin=batch.product.gtin, lot="L2026A", serial=serial, expiry=date(2030, 12, 31)
        )


# --- PDF ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("symbology", ["qr", "datamatrix"])
def test_pdf_sheet_rasterised_decodes_to_the_codes(batch, tmp_path, symbology):
    options = {"symbology": symbology, "page_size": "LETTER", "columns": 3, "rows": 5, "margin_mm": 8}
    job = ready_print_job(batch, "pdf", options=options, first=1, last=15)
    image = rasterise(part_bytes(job), tmp_path, dpi=300)
    serials = codes_by_position(batch)
    if symbology == "qr":
        found = read(image, zxingcpp.BarcodeFormat.QRCode)
        assert sorted(c.text for c in found) == sorted(url_of(batch, serials[p]) for p in range(1, 16))
    else:
        found = read(image, zxingcpp.BarcodeFormat.DataMatrix, text_mode=zxingcpp.TextMode.Plain)
        assert {c.symbology_identifier for c in found} == {"]d2"}
        assert sorted(c.text for c in found) == sorted(element_string_of(batch, serials[p]) for p in range(1, 16))


def test_pdf_shows_serial_and_pin_when_pins_are_on(db, tmp_path):
    batch = ready_batch(quantity=3, with_pin=True)
    job = ready_print_job(batch, "pdf", options={"symbology": "qr"})
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(part_bytes(job))
    import subprocess

    text = subprocess.run(["pdftotext", pdf, "-"], capture_output=True, check=True, text=True).stdout
    key = batch.product.key.secret()
    for serial in codes_by_position(batch).values():
        assert serial in text
        assert scratch_pin(key, batch.product.gtin, serial) in text


# --- Parts and manifest ---------------------------------------------------------------------------------


def test_thousand_codes_in_parts_of_250_with_a_manifest_of_their_sha256(db):
    batch = ready_batch(quantity=1_000)
    job = ready_print_job(batch, "csv", part_size=250)
    assert job.state == PrintState.READY and job.codes_done == 1_000
    manifest = json.loads(part_bytes(job, PrintFile.MANIFEST))
    assert manifest["count"] == 1_000 and manifest["parts"] == 4
    assert manifest["range"] == {"from_position": 1, "to_position": 1_000}
    assert [(f["from_position"], f["to_position"]) for f in manifest["files"]] == [
        (1, 250),
        (251, 500),
        (501, 750),
        (751, 1_000),
    ]
    positions = []
    for entry in manifest["files"]:
        data = part_bytes(job, entry["part"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["size"]
        positions += [int(r["position"]) for r in csv.DictReader(io.StringIO(data.decode()))]
    assert positions == list(range(1, 1_001))


def test_export_batch_command_writes_the_same_parts_and_manifest_into_a_directory(db, tmp_path):
    batch = ready_batch(quantity=1_000)
    job = ready_print_job(batch, "csv", part_size=250)
    out = tmp_path / "out"
    call_command(
        "export_batch", batch.pk, "--format", "csv", "--out", str(out), "--part-size", "250", stdout=io.StringIO()
    )
    stem = f"{batch.product.brand.slug}-{batch.product.gtin}-{batch.lot.number}-batch1"
    manifest = json.loads((out / f"{stem}-1-1000-csv-manifest.json").read_bytes())
    assert [f["name"] for f in manifest["files"]] == [
        f"{stem}-{250 * n - 249}-{250 * n}-csv-part{n:04d}.csv" for n in range(1, 5)
    ]
    assert manifest["job"] is None  # no print job: the command writes the files itself
    for entry in manifest["files"]:
        data = (out / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert data == part_bytes(job, entry["part"])  # the worker and the command render the same bytes


def test_export_batch_command_writes_a_range_as_zip(db, tmp_path):
    batch = ready_batch(quantity=30)
    out = tmp_path / "out"
    call_command("export_batch", batch.pk, "--format", "qr-png", "--from", "3", "--to", "7", "--out", str(out))
    stem = f"{batch.product.brand.slug}-{batch.product.gtin}-{batch.lot.number}-batch1-3-7-qr-png"
    names = sorted(members((out / f"{stem}-part0001.zip").read_bytes()))
    serials = Code.objects.filter(batch=batch).order_by("ordinal").values_list("serial", flat=True)[2:7]
    assert names == [f"{position:02d}-{serial}.png" for position, serial in zip(range(3, 8), serials, strict=True)]


def test_each_brand_numbers_its_own_batches_and_print_jobs_and_formats_get_distinct_names(db):
    first_of_another_brand = ready_batch(quantity=3)
    batch = ready_batch(quantity=3)
    assert (first_of_another_brand.number, batch.number) == (1, 1)
    jobs = [ready_print_job(batch, fmt) for fmt in ("qr-svg", "qr-png", "datamatrix")]
    assert [job.number for job in jobs] == [1, 2, 3]
    names = {printing.job_filename(job, job.files.get(part=1)) for job in jobs}
    assert len(names) == 3 and all(n.startswith(f"{batch.product.brand.slug}-{batch.product.gtin}-") for n in names)


@pytest.mark.parametrize(
    "arguments,named",
    [
        (["--format", "csv", "--from", "9", "--to", "3"], "--to"),
        (["--format", "csv", "--to", "31"], "--to"),
        (["--format", "csv", "--from", "0"], "--from"),
        (["--format", "tiff"], "--format"),
        (["--format", "qr-png", "--error-level", "X"], "--error-level"),
        (["--format", "csv", "--columns", "3"], "--columns"),
        (["--format", "pdf", "--margin-mm", "49", "--rows", "30"], "--rows"),
        (["--format", "pdf", "--margin-mm", "-1"], "--margin-mm"),
        (["--format", "csv", "--part-size", "0"], "--part-size"),
        (["--format", "csv", "--part-size", "250001"], "--part-size"),
    ],
)
def test_export_batch_command_names_the_bad_argument_and_writes_nothing(db, tmp_path, arguments, named):
    batch = ready_batch(quantity=30)
    out = tmp_path / "out"
    with pytest.raises(CommandError, match=f"^{named}:"):
        call_command("export_batch", batch.pk, *arguments, "--out", str(out))
    assert not out.exists() or not any(out.iterdir())


def test_parts_are_never_larger_than_the_configured_maximum(db, settings):
    from codes import printing

    settings.PRINT_PART_SIZE_MAX = 10
    batch = ready_batch(quantity=30)
    with pytest.raises(printing.PrintError) as refused:
        printing.create_print_job(batch=batch, fmt="csv", part_size=11, enqueue=False)
    assert refused.value.field == "part_size"
    job = printing.create_print_job(batch=batch, fmt="csv", part_size=10, enqueue=False)
    assert job.files.filter(part__gt=0).count() == 3


def test_a_batch_not_ready_cannot_be_printed(db):
    product = ProductFactory()
    from codes import services

    batch = services.order_batch(product=product, lot=LotFactory(product=product), quantity=10, enqueue=False)
    with pytest.raises(printing.PrintError) as error:
        printing.create_print_job(batch=batch, fmt="csv", enqueue=False)
    assert error.value.field == "batch"
    assert not PrintJob.objects.exists()


# --- Tasks: idempotent, resumable, failing cleanly ------------------------------------------------------


def test_rendering_a_done_part_again_changes_nothing(db):
    job = ready_print_job(ready_batch(quantity=20), "csv")
    part = job.files.get(part=1)
    tasks.render_print_part_task(part.pk)
    again = job.files.get(part=1)
    assert (again.name, again.sha256, again.finished_at) == (part.name, part.sha256, part.finished_at)
    assert PrintFile.objects.filter(job=job).count() == 2  # the part and the manifest


def stored_files(job) -> list[str]:
    """Every file under the job's folder in storage, whatever its name."""
    folder, found = f"print-jobs/{job.pk}", []
    if not default_storage.exists(folder):
        return found
    for attempt in default_storage.listdir(folder)[0]:
        found += [f"{folder}/{attempt}/{name}" for name in default_storage.listdir(f"{folder}/{attempt}")[1]]
    return sorted(found)


def test_a_part_whose_worker_died_while_storing_it_is_rendered_again_and_the_partial_file_deleted(db):
    batch = ready_batch(quantity=20)
    job = printing.create_print_job(batch=batch, fmt="csv", enqueue=False)
    part = job.files.get(part=1)
    # What a worker killed while storing the part leaves: the part claimed, and a partial file under its name.
    dead = jobs._claim(part.pk)
    default_storage.save(dead.name, io.BytesIO(b"position,ser"))
    printing.render_part(part.pk)  # the redelivered task
    job.refresh_from_db()
    assert job.state == PrintState.READY and job.codes_done == 20
    assert stored_files(job) == sorted(job.files.values_list("name", flat=True))  # the part and the manifest
    assert part_bytes(job).count(b"\n") == 21


def test_a_manifest_whose_finisher_died_while_storing_it_is_written_once(db):
    from datetime import timedelta

    from django.utils import timezone

    job = printing.create_print_job(batch=ready_batch(quantity=10), fmt="csv", enqueue=False)
    part = job.files.get(part=1)
    printing.render_part(part.pk)
    # What a finisher killed while storing the manifest leaves: its name recorded and a partial file there.
    manifest = job.files.get(part=PrintFile.MANIFEST)
    job.files.filter(pk=manifest.pk).update(state=PrintFileState.RENDERING)
    default_storage.delete(manifest.name)
    default_storage.save(manifest.name, io.BytesIO(b'{"manif'))
    PrintJob.objects.filter(pk=job.pk).update(
        state=PrintState.FINISHING, finishing_since=timezone.now() - timedelta(hours=1)
    )
    printing.render_part(part.pk)  # the redelivered task of the last part
    assert PrintJob.objects.get(pk=job.pk).state == PrintState.READY
    assert stored_files(job) == sorted(job.files.values_list("name", flat=True))
    assert json.loads(part_bytes(job, part=PrintFile.MANIFEST))["count"] == 10


def test_a_failing_part_fails_the_job_and_deletes_every_file_it_wrote(db):
    batch = ready_batch(quantity=100)
    job = printing.create_print_job(batch=batch, fmt="csv", part_size=25, enqueue=False)
    first, *_, last = job.files.order_by("part")
    printing.render_part(first.pk)
    written = job.files.get(part=1).name
    assert default_storage.exists(written)
    Code.objects.filter(batch=batch, ordinal__gte=batch.first_ordinal + 80).delete()  # codes gone: cannot render
    with pytest.raises(RuntimeError):
        tasks.render_print_part_task(last.pk)
    job.refresh_from_db()
    assert job.state == PrintState.FAILED and job.error
    assert not default_storage.exists(written)
    assert not job.files.exclude(name="").exists()


@pytest.mark.parametrize(
    "fmt,options,field",
    [
        ("gif", {}, "format"),
        ("qr-png", {"module_size": 0}, "module_size"),
        ("qr-svg", {"error_level": "Z"}, "error_level"),
        ("pdf", {"page_size": "A3"}, "page_size"),
        ("datamatrix", {"error_level": "H"}, "error_level"),
    ],
)
def test_bad_options_are_refused_naming_the_option(batch, fmt, options, field):
    with pytest.raises(printing.PrintError) as error:
        printing.create_print_job(batch=batch, fmt=fmt, options=options, enqueue=False)
    assert error.value.field == field


def test_a_manifest_left_unwritten_by_a_dead_worker_is_written_by_the_redelivered_task(db):
    from datetime import timedelta

    from django.utils import timezone

    job = printing.create_print_job(batch=ready_batch(quantity=10), fmt="csv", enqueue=False)
    part = job.files.get(part=1)
    printing.render_part(part.pk)
    # What a worker killed while writing the manifest leaves: every part done, the job claimed for finishing.
    job.files.filter(part=PrintFile.MANIFEST).delete()
    PrintJob.objects.filter(pk=job.pk).update(
        state=PrintState.FINISHING, finishing_since=timezone.now() - timedelta(hours=1)
    )
    printing.render_part(part.pk)  # the redelivered task of the last part
    assert PrintJob.objects.get(pk=job.pk).state == PrintState.READY
    assert job.files.filter(part=PrintFile.MANIFEST, state=PrintFileState.DONE).exists()


def test_a_fresh_finishing_claim_is_left_to_its_worker(db):
    from django.utils import timezone

    job = printing.create_print_job(batch=ready_batch(quantity=10), fmt="csv", enqueue=False)
    part = job.files.get(part=1)
    printing.render_part(part.pk)
    job.files.filter(part=PrintFile.MANIFEST).delete()
    PrintJob.objects.filter(pk=job.pk).update(state=PrintState.FINISHING, finishing_since=timezone.now())
    assert printing.finish_job(job.pk) is False
    assert not job.files.filter(part=PrintFile.MANIFEST).exists()


@pytest.mark.skipif(__import__("shutil").which("pdftotext") is None, reason="pdftotext not installed")
def test_pdf_labels_carry_gs1_human_readable_text_and_the_whole_product_name(db, tmp_path):
    import subprocess

    product = ProductFactory(name="Vitamin C 1000 mg effervescent tablets with zinc", variant="orange, tube of 20")
    batch = ready_batch(
        product, quantity=3, lot=LotFactory(product=product, number="L2026A", expires_on=date(2028, 12, 31))
    )
    pdf = tmp_path / "labels.pdf"
    pdf.write_bytes(part_bytes(ready_print_job(batch, "pdf")))
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    words = " ".join(text.split())
    serial = Code.objects.filter(batch=batch).order_by("ordinal").first().serial
    assert f"(01) {product.gtin}" in words and "(17) 281231 (10) L2026A" in words and f"(21) {serial}" in words
    assert "…" not in text and all(word in words for word in str(product).replace(",", "").split())


def test_a_pdf_job_moves_its_progress_while_its_part_renders(db, settings, monkeypatch):
    """A PDF part of many labels takes a while: the batch page's "Rendering n%" moves chunk by chunk."""
    settings.PRINT_CHUNK_SIZE = 4
    job = printing.create_print_job(batch=ready_batch(quantity=12), fmt="pdf", enqueue=False)
    assert job.files.filter(part__gt=0).count() == 1  # one part: only progress inside it can move the bar
    seen, reading = [], rendering.codes_in

    def watching(*args, **kwargs):  # what the page would show each time the renderer reads the next chunk
        for rows in reading(*args, **kwargs):
            seen.append(PrintJob.objects.get(pk=job.pk).progress_percent)
            yield rows

    monkeypatch.setattr(rendering, "codes_in", watching)
    job = printing.render_job_here(job)
    assert seen == [0, 33, 66]
    assert job.state == PrintState.READY and job.codes_done == 12


def test_progress_of_a_part_whose_worker_died_is_not_counted_twice(db, settings):
    settings.PRINT_CHUNK_SIZE = 5
    job = printing.create_print_job(batch=ready_batch(quantity=20), fmt="csv", part_size=10, enqueue=False)
    first = job.files.get(part=1)
    dead = jobs._claim(first.pk)
    jobs._note_progress(dead, 5)  # the dead attempt had written half its part
    assert PrintJob.objects.get(pk=job.pk).codes_done == 5
    job = printing.render_job_here(job)  # the redelivered task writes the part again, then the second part
    assert job.state == PrintState.READY and job.codes_done == 20
