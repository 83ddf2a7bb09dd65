"""Print files: CSV, QR (SVG/PNG in a ZIP), GS1 DataMatrix (PNG in a ZIP) and PDF label sheets.

A print job covers the positions [first, last] of a batch (1-based, in print order) and is cut into parts
of at most `part_size` codes; each part is one file, rendered by its own Celery task, so two workers render
two parts at once. Codes are read in ordinal order, a chunk at a time, and each file is written to a local
temporary file and then streamed to Django storage: memory stays bounded whatever the batch size.
The `export_batch` command renders the same parts with the same functions, into a directory.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import logging
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from reportlab.lib.units import mm

from brands.models import Brand
from core.errors import ServiceError
from core.queueing import enqueue_on_commit

from . import gs1, quotas
from .labels import PAGE_SIZES, Label, SheetLayout, write_label_sheets
from .models import (
    BatchState,
    Code,
    CodeBatch,
    PrintFile,
    PrintFileState,
    PrintFormat,
    PrintJob,
    PrintState,
)
from .serials import scratch_pin
from .services import next_number
from .symbols import QrRenderer, datamatrix_png
from .ziparchive import ZipWriter

log = logging.getLogger(__name__)

EXTENSIONS = {
    PrintFormat.CSV: "csv",
    PrintFormat.QR_SVG: "zip",
    PrintFormat.QR_PNG: "zip",
    PrintFormat.DATAMATRIX: "zip",
    PrintFormat.PDF: "pdf",
}
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "zip": "application/zip", "pdf": "application/pdf"}
# The formats that print a batch's scratch PINs (a column, a line under the code); symbols carry only the URL.
PIN_FORMATS = frozenset({PrintFormat.CSV, PrintFormat.PDF})


def carries_pins(*, batch, fmt: str) -> bool:
    """Whether a print file would hold scratch PINs, which let their holder pass every PIN check."""
    return bool(batch.with_pin) and fmt in PIN_FORMATS


# gs1_element_string is what a DataMatrix encodes: AIs with GS (ASCII 29) after variable-length fields
# that are not last; gs1_human_readable is the text printed under the symbol. Both are empty for a product
# without a GTIN (a Serialize product ref): it has no GS1 element string.
CSV_HEADER = ["position", "serial", "verify_url", "gs1_element_string", "gs1_human_readable"]


class PrintError(ServiceError):
    """A print request that cannot be made; `field` names what to fix."""


NO_GTIN_DATAMATRIX = (
    "A GS1 DataMatrix carries the product's GTIN, and this product has none (it has a Serialize product ref): "
    "print QR codes, which carry its verify URL. Once the product has a GTIN, DataMatrix labels are available."
)


def symbology_problem(product, fmt: str, options: dict[str, Any]) -> tuple[str, str] | None:
    """(field, message) when a format would print a GS1 symbol claiming a GTIN for a product without one."""
    if product.gtin:
        return None
    if fmt == PrintFormat.DATAMATRIX:
        return "format", NO_GTIN_DATAMATRIX
    if fmt == PrintFormat.PDF and options.get("symbology") == "datamatrix":
        return "symbology", NO_GTIN_DATAMATRIX
    return None


# ---------------------------------------------------------------------------------------------------------
# Options: validated at the edge (form, command), stored on the job, read by the renderers
# ---------------------------------------------------------------------------------------------------------


def _choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    text = str(value).upper() if field in ("error_level", "page_size") else str(value)
    if text not in choices:
        raise PrintError(field, f"{field} must be one of {', '.join(choices)}.")
    return text


def _number(value: Any, field: str, low: float, high: float, kind: type = int) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise PrintError(field, f"{field} must be a number.") from None
    if not low <= number <= high:
        raise PrintError(field, f"{field} must be between {low:g} and {high:g}.")
    return number


# Per format: option -> (default, validator). Unknown options are refused, so a typo is never ignored.
_OPTIONS: dict[str, dict[str, tuple[Any, Any]]] = {
    PrintFormat.CSV: {},
    PrintFormat.QR_SVG: {
        "error_level": ("M", lambda v: _choice(v, "error_level", ("L", "M", "Q", "H"))),
        "module_size": (4, lambda v: _number(v, "module_size", 1, 40)),
    },
    PrintFormat.QR_PNG: {
        "error_level": ("M", lambda v: _choice(v, "error_level", ("L", "M", "Q", "H"))),
        "module_size": (4, lambda v: _number(v, "module_size", 1, 40)),
    },
    PrintFormat.DATAMATRIX: {"module_size": (4, lambda v: _number(v, "module_size", 1, 40))},
    PrintFormat.PDF: {
        "symbology": ("qr", lambda v: _choice(v, "symbology", ("qr", "datamatrix"))),
        "error_level": ("M", lambda v: _choice(v, "error_level", ("L", "M", "Q", "H"))),
        "page_size": ("A4", lambda v: _choice(v, "page_size", tuple(PAGE_SIZES))),
        "columns": (3, lambda v: _number(v, "columns", 1, 12)),
        "rows": (8, lambda v: _number(v, "rows", 1, 30)),
        "margin_mm": (10.0, lambda v: _number(v, "margin_mm", 0, 50, float)),
    },
}


def clean_options(fmt: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """Options of a format with defaults filled in; PrintError naming the field otherwise."""
    if fmt not in _OPTIONS:
        raise PrintError("format", f"Unknown format {fmt!r}: choose one of {', '.join(PrintFormat.values)}.")
    allowed = _OPTIONS[fmt]
    given = {k: v for k, v in (options or {}).items() if v is not None and v != ""}
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise PrintError(unknown[0], f"{unknown[0]} is not an option of the {fmt} format.")
    cleaned = {name: check(given.get(name, default)) for name, (default, check) in allowed.items()}
    if fmt == PrintFormat.PDF:
        _check_label_size(cleaned)
    return cleaned


MIN_LABEL_MM = 12.0


def _check_label_size(options: dict[str, Any]) -> None:
    """A label must hold a code a phone can read: refuse grids whose cells are smaller than 12 mm."""
    try:
        cell = _layout(options).cells()[0]
    except ValueError:
        raise PrintError("margin_mm", "The margins leave no room for the labels.") from None
    for field, length in (("columns", cell.width / mm), ("rows", cell.height / mm)):
        if length < MIN_LABEL_MM:
            raise PrintError(
                field, f"Labels would be {length:.1f} mm: at least {MIN_LABEL_MM:g} mm; use fewer {field} or margins."
            )


def _layout(options: dict[str, Any]) -> SheetLayout:
    return SheetLayout(
        page_size=options["page_size"],
        columns=options["columns"],
        rows=options["rows"],
        margins_mm=options["margin_mm"],
    )


def clean_range(batch: CodeBatch, first: int | None, last: int | None) -> tuple[int, int]:
    """The 1-based positions [first, last] of a batch, defaulting to the whole batch."""
    first = 1 if first is None else first
    last = batch.quantity if last is None else last
    if not 1 <= first <= batch.quantity:
        raise PrintError("from_position", f"From must be between 1 and {batch.quantity:,}.")
    if not 1 <= last <= batch.quantity:
        raise PrintError("to_position", f"To must be between 1 and {batch.quantity:,}.")
    if first > last:
        raise PrintError("to_position", "To must not be before From.")
    return first, last


def default_part_size() -> int:
    return settings.PRINT_PART_SIZE


def clean_part_size(part_size: int | None) -> int:
    """Codes per part: PRINT_PART_SIZE by default, never more than PRINT_PART_SIZE_MAX (a part is one file
    a worker writes and a person downloads; its size must stay bounded whatever is asked)."""
    if part_size is None:
        return default_part_size()
    if not 1 <= part_size <= settings.PRINT_PART_SIZE_MAX:
        raise PrintError("part_size", f"Codes per file must be between 1 and {settings.PRINT_PART_SIZE_MAX:,}.")
    return part_size


def _parts(first: int, last: int, part_size: int) -> list[tuple[int, int]]:
    return [(start, min(start + part_size - 1, last)) for start in range(first, last + 1, part_size)]


# ---------------------------------------------------------------------------------------------------------
# Rendering one part (pure of job state: used by the worker and by the command)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartSpec:
    """What one file holds: a batch's positions [first, last] in a format with options."""

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


def codes_in(batch: CodeBatch, first: int, last: int, chunk: int | None = None) -> Iterator[list[tuple[int, str]]]:
    """(position, serial) of the positions [first, last], in print order, one chunk (a list) at a time."""
    chunk = chunk or settings.PRINT_CHUNK_SIZE
    base = batch.first_ordinal - 1  # ordinal = base + position
    for start in range(first, last + 1, chunk):
        stop = min(start + chunk, last + 1)
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
        layout=_layout(options),
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


def part_filename(
    batch: CodeBatch, part: int, extension: str, fmt: str, *, first: int, last: int, job_number: int | None = None
) -> str:
    """The name a part has in downloads, in the manifest and in `export_batch`'s directory: brand, GTIN, lot,
    the brand's batch number, the brand's print-job number (none for `export_batch`), the positions the file
    holds and the format, so files of two jobs, ranges or formats of one batch never clash in a downloads folder."""
    lot = "".join(c if c.isalnum() or c in "-_." else "_" for c in batch.lot.number)
    job = f"-job{job_number}" if job_number else ""
    stem = f"{batch.product.brand.slug}-{batch.product.identifier}-{lot}-batch{batch.number}{job}-{first}-{last}-{fmt}"
    return f"{stem}-manifest.json" if part == PrintFile.MANIFEST else f"{stem}-part{part:04d}.{extension}"


def job_filename(job: PrintJob, file: PrintFile) -> str:
    """The name of one file of a print job (a part, or the manifest, which covers the job's whole range)."""
    extension = "json" if file.is_manifest else EXTENSIONS[PrintFormat(job.format)]
    return part_filename(
        job.batch,
        file.part,
        extension,
        job.format,
        first=file.first_position,
        last=file.last_position,
        job_number=job.number,
    )


def manifest(
    *,
    batch: CodeBatch,
    fmt: str,
    options: dict[str, Any],
    first: int,
    last: int,
    part_size: int,
    files: list[dict[str, Any]],
    job_number: int | None = None,
) -> dict[str, Any]:
    lot = batch.lot
    return {
        "manifest_version": 1,
        "job": job_number,  # the brand's print-job number, as its pages show it (the id is global)
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
        "format": fmt,
        "options": options,
        "range": {"from_position": first, "to_position": last},
        "count": last - first + 1,
        "part_size": part_size,
        "parts": len(files),
        "verify_base_url": settings.VERIFY_BASE_URL,
        "files": files,
    }


def _manifest_bytes(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


# ---------------------------------------------------------------------------------------------------------
# Use cases
# ---------------------------------------------------------------------------------------------------------


def _check_batch(batch: CodeBatch) -> None:
    if batch.state != BatchState.READY:
        raise PrintError("batch", f"Batch {batch.number} is not ready yet ({batch.get_state_display().lower()}).")


@transaction.atomic
def create_print_job(
    *,
    batch: CodeBatch,
    fmt: str,
    options: dict[str, Any] | None = None,
    first_position: int | None = None,
    last_position: int | None = None,
    requested_by=None,
    part_size: int | None = None,
    enqueue: bool = True,
) -> PrintJob:
    """Validate a print request, record the job and its parts, and queue one render task per part."""
    _check_batch(batch)
    options = clean_options(fmt, options)
    problem = symbology_problem(batch.product, fmt, options)
    if problem:
        raise PrintError(*problem)
    first, last = clean_range(batch, first_position, last_position)
    part_size = clean_part_size(part_size)
    # Under the brand row's lock: two requests at once cannot both take the last of the plan's room.
    brand = Brand.objects.select_for_update().get(pk=batch.product.brand_id)
    problem = quotas.print_problem(brand, fmt=fmt, codes=last - first + 1)
    if problem:
        raise PrintError("format", problem)
    job = PrintJob.objects.create(
        batch=batch,
        format=fmt,
        options=options,
        first_position=first,
        last_position=last,
        part_size=part_size,
        requested_by=requested_by,
        number=next_number(PrintJob, batch.product.brand_id),
    )
    parts = PrintFile.objects.bulk_create(
        PrintFile(job=job, part=n, first_position=a, last_position=b)
        for n, (a, b) in enumerate(_parts(first, last, part_size), 1)
    )
    if enqueue:
        from .tasks import render_print_part_task

        for part in parts:
            enqueue_on_commit(render_print_part_task, part.pk)
    return job


FINISH_CLAIM_TIMEOUT = timedelta(minutes=10)


def storage() -> Storage:
    return default_storage


def _claim(file_id: int) -> PrintFile | None:
    """Claim a part for this attempt; None when it is done or its job is over.

    A redelivered task (its worker died) takes the part over: Celery redelivers only after the worker is
    gone or the visibility timeout passed, and each attempt writes under its own name, so at worst two
    attempts render the same bytes and only the one holding the claim at the end is kept. The name is
    recorded with the claim, before a byte is written: a worker killed while storing the file leaves a
    partial file that the next attempt (or a failed job, or the brand's deletion) finds and deletes.
    """
    token = uuid.uuid4().hex
    with transaction.atomic():
        part = (
            PrintFile.objects.select_for_update(of=("self",))
            .select_related("job__batch__product__brand", "job__batch__lot")
            .get(pk=file_id)
        )
        if part.state == PrintFileState.DONE or part.job.state not in (PrintState.QUEUED, PrintState.RENDERING):
            return None
        stale, job = part.name, part.job
        filename = job_filename(job, part)
        part.state, part.claim, part.claimed_at, part.heartbeat_at = PrintFileState.RENDERING, token, Now(), Now()
        part.name = f"print-jobs/{job.pk}/{token[:12]}/{filename}"
        part.codes_done = 0  # a new attempt writes the part from its first code again
        part.save(update_fields=["state", "claim", "claimed_at", "heartbeat_at", "name", "codes_done"])
        PrintJob.objects.filter(pk=part.job_id, state=PrintState.QUEUED).update(
            state=PrintState.RENDERING, started_at=Coalesce(F("started_at"), Now())
        )
    if stale:  # the unfinished file of an attempt that died
        storage().delete(stale)
    part.claim = token
    return part


def render_part(file_id: int) -> None:
    """Render one part of a print job (the worker's task); idempotent, and finishes the job after its last part."""
    part = _claim(file_id)
    if part is not None:
        job = PrintJob.objects.select_related("batch__product__key", "batch__product__brand", "batch__lot").get(
            pk=part.job_id
        )
        spec = PartSpec(
            job.batch,
            job.format,
            job.options,
            part.first_position,
            part.last_position,
            progress=lambda done: _note_progress(part, done),
        )
        stored, size, sha = write_part(spec, storage(), part.name)
        with transaction.atomic():
            kept = PrintFile.objects.filter(pk=part.pk, claim=part.claim, job__state=PrintState.RENDERING).update(
                state=PrintFileState.DONE,
                name=stored,
                size=size,
                sha256=sha,
                finished_at=Now(),
                codes_done=part.quantity,
            )
            if kept:
                _sum_progress(job.pk)
        if not kept:  # another attempt took the part over, or the job failed meanwhile
            storage().delete(stored)
            return
        log.info("print part rendered", extra={"print_job": job.pk, "part": part.part, "bytes": size})
    finish_job(PrintFile.objects.values_list("job_id", flat=True).get(pk=file_id))


def _note_progress(part: PrintFile, done: int) -> None:
    """Record how far this attempt has written its part, unless another attempt took the part over."""
    with transaction.atomic():
        if PrintFile.objects.filter(pk=part.pk, claim=part.claim).update(codes_done=done, heartbeat_at=Now()):
            _sum_progress(part.job_id)


def _sum_progress(job_id: int) -> None:
    """The job's codes done = the sum over its parts. Each part counts its own codes (a redelivered part starts
    again from 0, never counted twice); the job row is locked first, so two parts reporting at once take turns
    and the second one's sum sees the first one's count (each statement reads what is committed when it starts)."""
    PrintJob.objects.select_for_update().filter(pk=job_id).values_list("pk", flat=True).first()
    total = (
        PrintFile.objects.filter(job_id=OuterRef("pk"), part__gt=0)
        .values("job_id")
        .annotate(n=Sum("codes_done"))
        .values("n")
    )
    PrintJob.objects.filter(pk=job_id).update(codes_done=Coalesce(Subquery(total), 0))


def render_job_here(job: PrintJob) -> PrintJob:
    """Render every part of a job in this process, as the workers would (demo data, tests, scripts)."""
    for file_id in job.files.filter(part__gt=0).order_by("part").values_list("pk", flat=True):
        render_part(file_id)
    job.refresh_from_db()
    return job


def finish_job(job_id: int) -> bool:
    """Write the manifest and mark the job ready once every part is done; True if this call did it."""
    pending = PrintFile.objects.filter(job_id=job_id, part__gt=0).exclude(state=PrintFileState.DONE)
    # Two parts finishing together may both get here: the conditional UPDATE lets exactly one continue.
    # A claim left by a worker that died while writing the manifest is taken over once it is stale.
    stale = timezone.now() - FINISH_CLAIM_TIMEOUT
    claimed = (
        PrintJob.objects.filter(
            Q(state=PrintState.RENDERING) | Q(state=PrintState.FINISHING, finishing_since__lt=stale), pk=job_id
        )
        .exclude(pk__in=pending.values("job_id"))
        .update(state=PrintState.FINISHING, finishing_since=Now())
    )
    if not claimed:
        return False
    job = PrintJob.objects.select_related("batch__product__brand", "batch__lot").get(pk=job_id)
    parts = list(job.files.filter(part__gt=0).order_by("part"))
    data = manifest(
        batch=job.batch,
        fmt=job.format,
        options=job.options,
        first=job.first_position,
        last=job.last_position,
        part_size=job.part_size,
        job_number=job.number,
        files=[_file_entry(job, p) for p in parts],
    )
    body = _manifest_bytes(data)
    name = _manifest_name_for_this_attempt(job)
    name = storage().save(name, File(io.BytesIO(body)))
    with transaction.atomic():
        PrintFile.objects.filter(job=job, part=PrintFile.MANIFEST).update(
            state=PrintFileState.DONE,
            name=name,
            size=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            finished_at=timezone.now(),
        )
        ready = PrintJob.objects.filter(pk=job.pk, state=PrintState.FINISHING).update(
            state=PrintState.READY, finished_at=Now()
        )
        if ready:
            _publish_ready(job)
    log.info("print job ready", extra={"print_job": job.pk, "parts": len(parts)})
    return True


def _manifest_name_for_this_attempt(job: PrintJob) -> str:
    """Record where this attempt writes the manifest before writing it (as parts do), deleting the file of a
    finisher that died: a job keeps exactly one manifest file."""
    whole = PrintFile(
        job=job, part=PrintFile.MANIFEST, first_position=job.first_position, last_position=job.last_position
    )
    name = f"print-jobs/{job.pk}/{uuid.uuid4().hex[:12]}/{job_filename(job, whole)}"
    stale = PrintFile.objects.filter(job=job, part=PrintFile.MANIFEST).values_list("name", flat=True).first()
    if stale:
        storage().delete(stale)
    PrintFile.objects.update_or_create(
        job=job,
        part=PrintFile.MANIFEST,
        defaults={
            "first_position": job.first_position,
            "last_position": job.last_position,
            "state": PrintFileState.RENDERING,
            "name": name,
            "size": None,
            "sha256": "",
            "finished_at": None,
        },
    )
    return name


def _publish_ready(job: PrintJob) -> None:
    from notifications.services import publish

    publish(
        brand_id=job.batch.product.brand_id,
        event="print_job.ready",
        data={
            "print_job": job.pk,
            "batch": job.batch_id,
            "format": job.format,
            "first_position": job.first_position,
            "last_position": job.last_position,
        },
    )


def _file_entry(job: PrintJob, record: PrintFile) -> dict[str, Any]:
    return {
        "part": record.part,
        "name": job_filename(job, record),
        "from_position": record.first_position,
        "to_position": record.last_position,
        "count": record.last_position - record.first_position + 1,
        "size": record.size,
        "sha256": record.sha256,
    }


def fail_job(job_id: int, reason: str) -> None:
    """Mark a job failed and delete every file it wrote: nothing half-written stays downloadable."""
    PrintJob.objects.filter(pk=job_id).exclude(state=PrintState.READY).update(
        state=PrintState.FAILED, error=reason[:500], finished_at=Now()
    )
    if not PrintJob.objects.filter(pk=job_id, state=PrintState.FAILED).exists():
        return
    files = storage()
    for name in PrintFile.objects.filter(job_id=job_id).exclude(name="").values_list("name", flat=True):
        files.delete(name)
    PrintFile.objects.filter(job_id=job_id, part=PrintFile.MANIFEST).delete()
    PrintFile.objects.filter(job_id=job_id).update(state=PrintFileState.PENDING, name="", size=None, sha256="")


def fail_job_of_part(file_id: int, reason: str) -> None:
    job_id = PrintFile.objects.filter(pk=file_id).values_list("job_id", flat=True).first()
    if job_id is not None:
        fail_job(job_id, reason)


# ---------------------------------------------------------------------------------------------------------
# In-process export (the export_batch command)
# ---------------------------------------------------------------------------------------------------------


def export_batch(
    *,
    batch: CodeBatch,
    fmt: str,
    options: dict[str, Any] | None,
    storage: Storage,
    first_position: int | None = None,
    last_position: int | None = None,
    part_size: int | None = None,
) -> dict[str, Any]:
    """Render a batch's parts and manifest into `storage` in this process; returns the manifest.

    Files are written under their final names; on any error the files written so far are deleted.
    """
    _check_batch(batch)
    problem = quotas.print_problem(batch.product.brand)
    if problem:
        raise PrintError("format", problem)
    options = clean_options(fmt, options)
    problem = symbology_problem(batch.product, fmt, options)
    if problem:
        raise PrintError(*problem)
    first, last = clean_range(batch, first_position, last_position)
    part_size = clean_part_size(part_size)
    extension = EXTENSIONS[PrintFormat(fmt)]
    written: list[str] = []
    files = []
    try:
        for n, (a, b) in enumerate(_parts(first, last, part_size), 1):
            name = part_filename(batch, n, extension, fmt, first=a, last=b)
            storage.delete(name)  # a re-run replaces, never gets "name_xyz" from the storage
            stored, size, sha = write_part(PartSpec(batch, fmt, options, a, b), storage, name)
            written.append(stored)
            files.append(
                {
                    "part": n,
                    "name": stored,
                    "from_position": a,
                    "to_position": b,
                    "count": b - a + 1,
                    "size": size,
                    "sha256": sha,
                }
            )
        data = manifest(batch=batch, fmt=fmt, options=options, first=first, last=last, part_size=part_size, files=files)
        name = part_filename(batch, 0, "json", fmt, first=first, last=last)
        storage.delete(name)
        written.append(storage.save(name, File(io.BytesIO(_manifest_bytes(data)))))
    except BaseException:
        for name in written:
            storage.delete(name)
        raise
    return data
