"""Rendering one part of a print job into a file (CSV, QR SVG/PNG in a ZIP, GS1 DataMatrix PNG in a ZIP, PDF
label sheets), the files' names and the manifest: pure of job state, used by the workers and by `export_batch`.

Codes are read in ordinal order, a chunk at a time, and each file is written to a local temporary file and then
streamed to storage: memory stays bounded whatever the batch size.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage

from .. import gs1
from ..labels import Label, write_label_sheets
from ..models import Code, CodeBatch, PrintFile, PrintFormat, PrintJob
from ..serials import scratch_pin
from ..symbols import QrRenderer, datamatrix_png
from ..ziparchive import ZipWriter
from .options import NO_GTIN_DATAMATRIX, PrintError, layout

EXTENSIONS = {
    PrintFormat.CSV: "csv",
    PrintFormat.QR_SVG: "zip",
    PrintFormat.QR_PNG: "zip",
    PrintFormat.DATAMATRIX: "zip",
    PrintFormat.PDF: "pdf",
}
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "zip": "application/zip", "pdf": "application/pdf"}

# gs1_element_string is what a DataMatrix encodes: AIs with GS (ASCII 29) after variable-length fields
# that are not last; gs1_human_readable is the text printed under the symbol. Both are empty for a product
# without a GTIN (a Serialize product ref): it has no GS1 element string.
CSV_HEADER = ["position", "serial", "verify_url", "gs1_element_string", "gs1_human_readable"]


@dataclass(frozen=True)
class PartSpec:
    """What one file holds: a batch's positions [first_position, last_position] in a format with options."""

    batch: CodeBatch
    format: str
    options: dict[str, Any]
    first_position: int
    last_position: int
    # Told how many of the part's codes are written so far, after each chunk (the worker shows it as progress).
    progress: Callable[[int], None] | None = dataclasses.field(default=None, compare=False)

    @property
    def extension(self) -> str:
        return EXTENSIONS[PrintFormat(self.format)]


class _CodeText:
    """Per-code texts, built from a prefix computed once by codes.gs1 plus the serial.

    The serial is the last element of the Digital Link path, the element string and the HRI, and serial
    alphabets are letters and digits (never percent-encoded, never needing a GS), so prefix + serial + suffix
    is exactly what the gs1 functions return; `check` compares both on the first code of every chunk.
    """

    SENTINEL = "SERIAL"

    def __init__(self, batch: CodeBatch) -> None:
        product, lot = batch.product, batch.lot
        # A product without a GTIN (a Serialize product ref) gets the platform's Digital Link-style URL and no
        # GS1 element string or HRI at all: nothing printed for it may claim a GTIN. Once given a GTIN, its new
        # labels carry the GS1 Digital Link (the serials are the same: they are encrypted under the ref).
        self.is_gs1 = bool(product.gtin)
        self.ref = product.ref
        self.lot, self.expiry = lot.number, lot.expires_on
        ids = {"lot": lot.number, "expiry": lot.expires_on}
        self.ids = {"gtin": product.gtin, **ids} if self.is_gs1 else {"ref": product.ref, **ids}
        url = self._url(self.SENTINEL)
        head, _, tail = url.rpartition("/21/")
        self.url_head, self.url_tail = head + "/21/", tail.removeprefix(self.SENTINEL)
        self.es_head = self.hri_head = ""
        if self.is_gs1:
            self.es_head = gs1.element_string(serial=self.SENTINEL, **self.ids).removesuffix(self.SENTINEL)
            self.hri_head = gs1.human_readable(serial=self.SENTINEL, **self.ids).removesuffix(self.SENTINEL)
        self.pin_key = product.key.secret() if batch.with_pin else None
        self.tweak = product.serial_tweak

    def _url(self, serial: str) -> str:
        build = gs1.digital_link_url if self.is_gs1 else gs1.ref_link_url
        return build(settings.VERIFY_BASE_URL, serial=serial, **self.ids)

    def url(self, serial: str) -> str:
        return self.url_head + serial + self.url_tail

    def element_string(self, serial: str) -> str:
        """The GS1 element string; empty for a product without a GTIN (it has none)."""
        return self.es_head + serial if self.is_gs1 else ""

    def human_readable(self, serial: str) -> str:
        return self.hri_head + serial if self.is_gs1 else ""

    def label_lines(self) -> tuple[str, ...]:
        """Text between caption and serial on a PDF label: GS1 HRI ("(01) GTIN", "(17) … (10) …"), or for a
        product ref its ref, lot and expiry in words (no AIs: the label claims no GS1 identifier)."""
        if self.is_gs1:
            gtin_line, _, rest = self.hri_head.removesuffix("(21) ").partition(" (")
            return (gtin_line, "(" + rest.strip()) if rest else (gtin_line,)
        lot = f"Lot {self.lot}" + (f" · Exp {self.expiry.isoformat()}" if self.expiry else "")
        return (f"Ref {self.ref}", lot)

    def serial_line(self, serial: str) -> str:
        return f"(21) {serial}" if self.is_gs1 else f"SN {serial}"

    def pin(self, serial: str) -> str | None:
        return None if self.pin_key is None else scratch_pin(self.pin_key, self.tweak, serial)

    def check(self, serial: str) -> None:
        same_url = self.url(serial) == self._url(serial)
        same_es = not self.is_gs1 or self.element_string(serial) == gs1.element_string(serial=serial, **self.ids)
        if not (same_url and same_es):
            raise RuntimeError(f"serial {serial!r} does not fit the print templates")


def codes_in(
    batch: CodeBatch, first_position: int, last_position: int, chunk: int | None = None
) -> Iterator[list[tuple[int, str]]]:
    """(position, serial) of the positions [first_position, last_position], in print order, a chunk at a time."""
    chunk = chunk or settings.PRINT_CHUNK_SIZE
    base = batch.first_ordinal - 1  # ordinal = base + position
    for start in range(first_position, last_position + 1, chunk):
        stop = min(start + chunk, last_position + 1)
        rows = list(
            Code.objects.filter(product_id=batch.product_id, ordinal__gte=base + start, ordinal__lt=base + stop)
            .order_by("ordinal")
            .values_list("ordinal", "serial")
        )
        if len(rows) != stop - start:
            raise RuntimeError(f"batch {batch.pk} lacks codes between positions {start} and {stop - 1}")
        yield [(ordinal - base, serial) for ordinal, serial in rows]


def _chunks(spec: PartSpec) -> Iterator[list[tuple[int, str]]]:
    """The part's (position, serial) chunks; after each one is written, `spec.progress` hears the count so far.
    Every writer reads through here, so a slow format (PDF) moves its job's progress as the fast ones do."""
    done = 0
    for rows in codes_in(spec.batch, spec.first_position, spec.last_position):
        yield rows
        done += len(rows)
        if spec.progress is not None:
            spec.progress(done)


def _sample_url(spec: PartSpec, text: _CodeText) -> str:
    """A URL shaped like the batch's, so the QR renderer prepares its layout once."""
    return text.url("0" * spec.batch.product.serial_length)


def _write_csv(out: IO[bytes], spec: PartSpec, text: _CodeText) -> None:
    stream = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(stream)
    writer.writerow(CSV_HEADER + (["pin"] if spec.batch.with_pin else []))
    for rows in _chunks(spec):
        text.check(rows[0][1])
        url, element, hri = text.url, text.element_string, text.human_readable
        if spec.batch.with_pin:
            pin = text.pin
            writer.writerows([(p, s, url(s), element(s), hri(s), pin(s)) for p, s in rows])
        else:
            writer.writerows([(p, s, url(s), element(s), hri(s)) for p, s in rows])
    stream.flush()
    stream.detach()


def _write_zip(out: IO[bytes], spec: PartSpec, text: _CodeText) -> None:
    options, fmt = spec.options, spec.format
    if fmt == PrintFormat.DATAMATRIX:
        if not text.is_gs1:
            raise PrintError("format", NO_GTIN_DATAMATRIX)
        size = options["module_size"]

        def render(serial: str) -> bytes:
            return datamatrix_png(text.element_string(serial), module_size=size)

        suffix, compress = "png", False
    else:
        renderer = QrRenderer(_sample_url(spec, text), error=options["error_level"], scale=options["module_size"])
        write = renderer.svg if fmt == PrintFormat.QR_SVG else renderer.png

        def render(serial: str) -> bytes:
            return write(text.url(serial))

        # PNGs are compressed already; SVG text shrinks several times with deflate.
        svg = fmt == PrintFormat.QR_SVG
        suffix, compress = ("svg", True) if svg else ("png", False)
    width = len(str(spec.batch.quantity))
    # A fixed timestamp: the same part always gives the same bytes, so its SHA-256 is reproducible.
    stamp = spec.batch.created_at.timetuple()[:6]
    # ZipWriter spills the central directory to disk: memory stays flat however many codes a part holds.
    with ZipWriter(out, date_time=stamp) as archive:
        for rows in _chunks(spec):
            text.check(rows[0][1])
            for position, serial in rows:
                # Named by position (sorts in print order) and serial (a file found alone still says its code).
                archive.add(f"{position:0{width}d}-{serial}.{suffix}", render(serial), compress=compress)


def _write_pdf(out: IO[bytes], spec: PartSpec, text: _CodeText) -> None:
    options = spec.options
    qr = options["symbology"] == "qr"
    if not (qr or text.is_gs1):
        raise PrintError("symbology", NO_GTIN_DATAMATRIX)
    payload = text.url if qr else text.element_string
    caption = str(spec.batch.product)
    # GS1 human-readable interpretation (DSCSA: GTIN, lot, expiry and serial in plain text): the GTIN on one
    # line, expiry and lot on the next, and the serial line as "(21) serial" (for a product ref: see label_lines).
    lines = text.label_lines()

    def labels() -> Iterator[Label]:
        for rows in _chunks(spec):
            text.check(rows[0][1])
            for _position, serial in rows:
                yield Label(
                    payload(serial), text.serial_line(serial), caption=caption, pin=text.pin(serial), lines=lines
                )

    write_label_sheets(
        out,
        labels(),
        symbology=options["symbology"],
        layout=layout(options),
        qr_renderer=QrRenderer(_sample_url(spec, text), error=options["error_level"]),
        title=f"{spec.batch.product}, batch {spec.batch.number}, positions {spec.first_position}-{spec.last_position}",
    )


_WRITERS = {
    PrintFormat.CSV: _write_csv,
    PrintFormat.QR_SVG: _write_zip,
    PrintFormat.QR_PNG: _write_zip,
    PrintFormat.DATAMATRIX: _write_zip,
    PrintFormat.PDF: _write_pdf,
}


def _sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    while block := handle.read(1 << 20):
        digest.update(block)
    return digest.hexdigest()


def write_part(spec: PartSpec, storage: Storage, name: str) -> tuple[str, int, str]:
    """Render one part to a local temporary file, then stream it to `storage`; (stored name, size, SHA-256)."""
    with tempfile.TemporaryFile() as handle:
        _WRITERS[PrintFormat(spec.format)](handle, spec, _CodeText(spec.batch))
        size = handle.seek(0, io.SEEK_END)
        sha = _sha256(handle)
        handle.seek(0)
        stored = storage.save(name, File(handle))
    return stored, size, sha


def job_filename(job: PrintJob, file: PrintFile) -> str:
    """The name of one file of a print job (a part, or the manifest, which covers the job's whole range) in
    downloads, in the manifest and in `export_batch`'s directory: brand, GTIN, lot, the brand's batch number, the
    brand's print-job number (none for `export_batch`), the positions the file holds and the format, so files of
    two jobs, ranges or formats of one batch never clash in a downloads folder."""
    batch, product = job.batch, job.batch.product
    lot = "".join(c if c.isalnum() or c in "-_." else "_" for c in batch.lot.number)
    number = f"-job{job.number}" if job.number else ""
    positions = f"{file.first_position}-{file.last_position}"
    stem = f"{product.brand.slug}-{product.identifier}-{lot}-batch{batch.number}{number}-{positions}-{job.format}"
    if file.is_manifest:
        return f"{stem}-manifest.json"
    return f"{stem}-part{file.part:04d}.{EXTENSIONS[PrintFormat(job.format)]}"


def manifest(job: PrintJob, parts: list[PrintFile]) -> dict[str, Any]:
    """What the manifest says of a job's files (a job of the workers, or the unsaved one of `export_batch`)."""
    batch, lot = job.batch, job.batch.lot
    return {
        "manifest_version": 1,
        "job": job.number or None,  # the brand's print-job number, as its pages show it (none for an export)
        "batch": {
            "number": batch.number,
            "product": str(batch.product),
            "gtin": batch.product.gtin,
            "ref": batch.product.ref,
            "lot": lot.number,
            "expires_on": lot.expires_on.isoformat() if lot.expires_on else None,
            "quantity": batch.quantity,
            "with_pin": batch.with_pin,
        },
        "format": job.format,
        "options": job.options,
        # Published names: scripts read these keys, so they stay as they are.
        "range": {"from_position": job.first_position, "to_position": job.last_position},
        "count": job.quantity,
        "part_size": job.part_size,
        "parts": len(parts),
        "verify_base_url": settings.VERIFY_BASE_URL,
        "files": [_file_entry(job, part) for part in parts],
    }


def _file_entry(job: PrintJob, record: PrintFile) -> dict[str, Any]:
    return {
        "part": record.part,
        "name": job_filename(job, record),
        "from_position": record.first_position,
        "to_position": record.last_position,
        "count": record.quantity,
        "size": record.size,
        "sha256": record.sha256,
    }


def manifest_bytes(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()
